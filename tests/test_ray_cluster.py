"""A real two-node Ray cluster, made as the README says: `ray start --head`, then `ray start --address` for a
second node (two raylets on this machine stand in for two machines: the second one's node IP is 127.0.0.2;
one CPU each, their own ports and temp folders), with token authentication on. The CLI sweep (`--address`) and an
app-style JobRunner (RAY_ADDRESS) each train two tiny runs there, one on each node. A driver the cluster
refuses (a wrong token, no token mode) or must not join (token mode facing a cluster without authentication)
is told why in one sentence naming the setting, without Ray's retry lines. The drivers run as separate
processes with the environment a user's shell would have. This module stops only the process groups it started."""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

import resnet_core as rc  # noqa: E402
from resnet_core.cli.main import main  # noqa: E402
from resnet_core.execution import ray_connect  # noqa: E402

pytestmark = pytest.mark.ray

ROOT = Path(__file__).resolve().parent.parent
HOST = socket.gethostname()
NODE_IP = "127.0.0.2"  # the second node's; the head's is this machine's own (Ray replaces 127.0.0.1 with it)
RAY_RETRY_LINE = "Failed to get cluster ID"  # what Ray's C++ client writes on each retry


def ray_cli() -> list[str]:
    """The `ray` command of this Python (the README's `ray start`)."""
    script = Path(sys.executable).with_name("ray")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ray.scripts.scripts"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shell_env(**changes) -> dict:
    """A user's shell: this environment without any Ray authentication or address settings, plus `changes`
    (a value None removes the variable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_AUTH_", "RAY_ADDRESS"))}
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    env["PYTHONPATH"] = str(ROOT)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@dataclass
class Cluster:
    address: str
    token: str

    def env(self, **changes) -> dict:
        """The README's shell on a machine of the cluster: RAY_AUTH_MODE=token and the cluster's token."""
        return shell_env(**{"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": self.token, **changes})


def start_node(args: list[str], env: dict, log: Path) -> int:
    """`ray start ARGS` in a new session; its daemons stay in that process group, whose id is returned (and
    is what `stop_group` ends: never `ray stop`, which would stop every raylet on this machine)."""
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*ray_cli(), "start", *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            code = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            code = None
    if code != 0:
        stop_group(proc.pid)
        raise RuntimeError(f"`ray start {' '.join(args)}` failed ({code}):\n{log.read_text()[-3000:]}")
    return proc.pid


def stop_group(pgid: int, grace: float = 3.0) -> None:
    """SIGTERM to the group, SIGKILL to what is left after `grace` seconds (a GCS can take 15 s to end)."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


WAIT_FOR_NODES = """
import sys, time, ray
ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)
deadline = time.monotonic() + 60
while sum(n["Alive"] for n in ray.nodes()) < 2 or ray.cluster_resources().get("CPU", 0) < 2:
    assert time.monotonic() < deadline, ray.nodes()
    time.sleep(0.2)
"""


@contextmanager
def ray_cluster(env: dict, second_node: bool):
    """A head (its GCS at 127.0.0.1:PORT, one CPU) and, if asked, a second node (127.0.0.2, one CPU), started
    with `ray start` in `env`; yields the address, and ends the process groups it started."""
    temp = Path(tempfile.mkdtemp(prefix="rl-ray-", dir="/tmp"))  # short: Ray's socket paths live under it
    port = free_port()
    address = f"127.0.0.1:{port}"
    common = ["--num-cpus", "1", "--object-store-memory", str(100 * 2**20), "--disable-usage-stats"]
    groups = []
    try:
        head = ["--head", "--port", str(port), "--include-dashboard=false", "--temp-dir", str(temp / "head")]
        groups.append(start_node(head + common, env, temp / "head.log"))
        if second_node:
            node = ["--address", address, "--node-ip-address", NODE_IP, "--temp-dir", str(temp / "node")]
            node += ["--dashboard-agent-listen-port", str(free_port())]
            groups.append(start_node(node + common, env, temp / "node.log"))
            subprocess.run([sys.executable, "-c", WAIT_FOR_NODES, address], env=env, check=True, timeout=120)
        yield address
    finally:
        for pgid in reversed(groups):
            stop_group(pgid)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster(shapes_root):
    """Two nodes with token authentication on, as the README makes them."""
    try:
        with socket.socket() as probe:
            probe.bind((NODE_IP, 0))
    except OSError:  # macOS has only 127.0.0.1 on its loopback
        pytest.skip(f"the second node's address {NODE_IP} is not on this machine's loopback")
    rc.load_dataset("shapes", shapes_root, test_size=10)  # rendered once here, not by both nodes at once
    token = secrets.token_hex(32)
    with ray_cluster(shell_env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token), second_node=True) as address:
        yield Cluster(address, token)


def driver(args: list[str], env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def runs_json(runs: Path) -> list[dict]:
    return json.loads(
        subprocess.run(
            [sys.executable, "-m", "resnet_core", "runs", "--json", "--runs-dir", str(runs)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
    )


def assert_both_nodes(runs: list[dict]) -> None:
    """One run trained on each node: the second node's IP, and the head's (another one)."""
    nodes = [r["node"] for r in runs]
    assert len(set(nodes)) == 2 and f"{HOST} ({NODE_IP})" in nodes, nodes


SWEEP = ["-m", "resnet_core", "sweep", "--executor", "ray"]
TINY = ["--depths", "8", "--epochs", "1", "--train-size", "256", "--test-size", "100", "--width", "4"]


def test_a_sweep_through_address_trains_on_both_nodes(cluster, tmp_path, shapes_root):
    runs = tmp_path / "runs"
    sweep = [*SWEEP, "--address", cluster.address, "--twins", *TINY, "--device", "cpu", "--data-dir", str(shapes_root)]
    done = driver([*sweep, "--runs-dir", str(runs)], cluster.env())
    assert done.returncode == 0, done.stderr
    assert "ray executor" in done.stdout and "depth  plain train %" in done.stdout
    # Its progress, to a pipe: one line per event, no bar.
    assert "epoch 1/1" in done.stderr and "%|" not in done.stderr and "\r" not in done.stderr
    assert RAY_RETRY_LINE not in done.stderr
    listed = runs_json(runs)
    assert {(r["status"], r["executor"]) for r in listed} == {("completed", "ray")}
    assert_both_nodes(listed)


APP_RUNS = """
import json, sys
import resnet_core as rc
from resnet_core.execution.jobs import JobRunner
from resnet_core.store.config import RunConfig
from resnet_core.training.train import TrainConfig

runs, data = sys.argv[1:3]
runner = JobRunner(runs, poll_seconds=0.1)  # as the app makes it: the executor follows RAY_ADDRESS
train = TrainConfig(epochs=1, batch_size=64, device="cpu", augment=False)
config = RunConfig(train, train_size=256, test_size=100, data_dir=data)
ids = [runner.submit(rc.NetSpec(depth=8, width=4, skip=skip), config) for skip in (True, False)]
idle = runner.wait_idle(timeout=240)
runner.shutdown()
print(json.dumps({"executor": runner.executor, "idle": idle,
                  "runs": [runner.store.get(i).to_dict() for i in ids]}))
"""


def app_runs(env: dict, runs: Path, data: Path) -> dict:
    done = driver(["-c", APP_RUNS, str(runs), str(data)], env)
    assert done.returncode == 0, done.stderr
    assert RAY_RETRY_LINE not in done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_app_run_through_RAY_ADDRESS_trains_on_both_nodes(cluster, tmp_path, shapes_root):
    result = app_runs(cluster.env(RAY_ADDRESS=cluster.address), tmp_path / "runs", shapes_root)
    assert result["executor"] == "ray" and result["idle"]
    assert [r["status"] for r in result["runs"]] == ["completed"] * 2, [r["error"] for r in result["runs"]]
    assert_both_nodes(result["runs"])


@pytest.mark.parametrize(
    "changes, said",
    [
        ({"RAY_AUTH_TOKEN": "0" * 64}, "refused the authentication token of this machine (from RAY_AUTH_TOKEN)"),
        ({"RAY_AUTH_MODE": None}, "requires token authentication (Ray's default): set RAY_AUTH_MODE=token"),
    ],
    ids=["wrong token", "no token mode"],
)
def test_a_refused_driver_is_told_why_in_one_line(cluster, tmp_path, changes, said):
    started = time.monotonic()
    runs = tmp_path / "runs"
    done = driver([*SWEEP, "--address", cluster.address, *TINY, "--runs-dir", str(runs)], cluster.env(**changes))
    seconds = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and said in done.stderr, done.stderr
    assert "RAY_AUTH_TOKEN" in done.stderr and RAY_RETRY_LINE not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert seconds < 60  # Ray alone retries for 20 s before a bare "Failed to connect"
    assert not runs.exists()  # nothing queued


def test_the_app_with_a_wrong_token_fails_its_runs_saying_why(cluster, tmp_path, shapes_root):
    env = cluster.env(RAY_ADDRESS=cluster.address, RAY_AUTH_TOKEN="0" * 64)
    result = app_runs(env, tmp_path / "runs", shapes_root)
    assert [r["status"] for r in result["runs"]] == ["failed"] * 2
    assert all(
        "refused the authentication token of this machine (from RAY_AUTH_TOKEN)" in r["error"] for r in result["runs"]
    )


def test_token_mode_against_a_cluster_without_authentication_is_named(tmp_path):
    """Ray would let this driver join, but the cluster's workers could not answer it: runs would wait forever."""
    with ray_cluster(shell_env(RAY_AUTH_MODE="disabled"), second_node=False) as address:
        env = shell_env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN="0" * 64)
        done = driver([*SWEEP, "--address", address, *TINY, "--runs-dir", str(tmp_path / "runs")], env, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "runs without authentication, but RAY_AUTH_MODE=token is set here" in done.stderr, done.stderr
    assert "Set RAY_AUTH_MODE=disabled here" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_nothing_listening_is_said_at_once(tmp_path, capsys):
    port = free_port()  # closed again: nothing listens there
    started = time.monotonic()
    with pytest.raises(ray_connect.RayConnectError, match=f"nothing answers at 127.0.0.1:{port}.*ray start --head"):
        ray_connect.check_cluster(f"127.0.0.1:{port}")
    assert time.monotonic() - started < 5
    runs = tmp_path / "runs"
    assert main(["sweep", "--executor", "ray", "--address", f"127.0.0.1:{port}", "--runs-dir", str(runs)]) == 2
    assert "error: nothing answers at" in capsys.readouterr().err and not runs.exists()


def test_addresses_checked_before_ray_init():
    assert ray_connect.gcs_address("10.0.0.1:6379") == "10.0.0.1:6379"
    assert ray_connect.gcs_address("[::1]:6379") == "[::1]:6379"
    for local in (None, "", "auto", "ray://10.0.0.1:10001", "10.0.0.1"):
        assert ray_connect.gcs_address(local) is None


def test_a_driver_off_the_cluster_is_told_to_run_on_one_of_its_nodes():
    # Ray's words when this machine has no node of the cluster (ray._private.services), under its own
    # "Failed to connect" in ray.init.
    err = ConnectionError("Failed to connect to Ray cluster at 10.0.0.1:6379")
    err.__cause__ = RuntimeError("No node info found matching attributes: '10.0.0.9' when trying to resolve node")
    said = ray_connect.explain_init_failure("10.0.0.1:6379", err)
    assert "this machine is not one of its nodes: run the driver on a machine of the cluster" in said
    other = ray_connect.explain_init_failure("10.0.0.1:6379", ConnectionError("boom"))
    assert other == "could not connect to the Ray cluster at 10.0.0.1:6379: boom"
