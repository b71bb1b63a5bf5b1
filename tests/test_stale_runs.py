"""Runs left `running` by a process that is gone become `interrupted` for whoever reads them next (not only
at a server's start), a reused pid is told apart by its start time, and the CLI's `train` treats SIGTERM
like Ctrl-C."""

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import NO_PROBES, train_args

import resnet_core as rc
from resnet_core.store.run_store import RunStore, process_start
from resnet_core.training.config import TrainConfig

ROOT = Path(__file__).resolve().parent.parent
SPEC = rc.NetSpec(depth=8, width=4)


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "runs")


def dead_pid() -> int:
    proc = mp.get_context("spawn").Process(target=int)
    proc.start()
    proc.join()
    return proc.pid


def test_every_reader_sees_a_dead_process_as_interrupted(store):
    for read in (store.get, store.find, lambda i: next(r for r in store.list() if r.id == i)):
        run_id = store.create(SPEC, {})
        store.set_status(run_id, "running", pid=dead_pid())
        run = read(run_id)
        assert run.status == "interrupted" and run.resumable, run
        assert "resume" in run.error
        assert store.get(run_id).status == "interrupted"  # stored, not only shown


def test_a_live_process_keeps_its_run_running(store):
    run_id = store.create(SPEC, {})
    store.set_status(run_id, "running", pid=os.getpid())
    assert store.get(run_id).status == "running" and store.list(["running"])[0].id == run_id


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process start times come from /proc")
def test_a_reused_pid_is_told_apart_by_its_start_time(store):
    run_id = store.create(SPEC, {})
    store.set_status(run_id, "running", pid=os.getpid())
    assert process_start(os.getpid()) is not None
    # As if our pid had belonged to an earlier process that trained this run and died.
    store._connect().execute("UPDATE runs SET pid_started = pid_started - 1 WHERE id = ?", (run_id,))
    assert store.get(run_id).status == "interrupted"


def cli(*args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "resnet_core", *args],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def start_training(runs: Path, data: Path) -> tuple[subprocess.Popen, str]:
    proc = cli(*train_args(data, runs, epochs=200))
    store = RunStore(runs)
    deadline = time.monotonic() + 240
    while not (store.list() and len(store.steps(store.list()[0].id)["step"]) >= 2):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.2)
    return proc, store.list()[0].id


def test_a_killed_cli_run_can_be_resumed_stopped_or_deleted(tmp_path, shapes_root):
    runs = tmp_path / "runs"
    proc, run_id = start_training(runs, shapes_root)
    proc.kill()
    proc.communicate()
    listing = subprocess.run(
        [sys.executable, "-m", "resnet_core", "runs", "--json", "--runs-dir", str(runs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(listing.stdout)[0]["status"] == "interrupted"
    delete = subprocess.run(
        [sys.executable, "-m", "resnet_core", "delete", run_id, "--runs-dir", str(runs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert delete.returncode == 0, delete.stderr
    assert RunStore(runs).list() == []


def test_sigterm_ends_a_cli_run_interrupted_and_resumable(tmp_path, shapes_root):
    runs = tmp_path / "runs"
    proc, run_id = start_training(runs, shapes_root)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "Traceback" not in err, err
    assert f"resume {run_id}" in err
    run = RunStore(runs).get(run_id)
    assert run.status == "interrupted" and "SIGTERM" in run.error and run.resumable


def test_children_are_this_processes_live_children_with_their_arguments():
    """store/processes.children, which pytest's session end uses to find the training workers it left."""
    from resnet_core.store.processes import children

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "marker-argument"])
    try:
        mine = dict(children())
        assert mine[child.pid][-1] == "marker-argument" and mine[child.pid][0] == sys.executable
        assert child.pid not in dict(children(child.pid))  # not its own child
    finally:
        child.kill()
        child.wait()
    assert child.pid not in dict(children())


def test_a_second_signal_while_the_first_is_recorded_still_ends_the_run_interrupted(store, shapes_root, monkeypatch):
    """A whole process group signalled (a terminal's Ctrl-C, a time slot's end) reaches a worker twice: its own
    signal, then its runner's shutdown `terminate()`. The second arrives here while `execute_run` records the
    first; it must not leave the run `running` (the runner then said "failed: the worker exited with code 1")."""
    from resnet_core.execution.worker import execute_run, interrupt_on_signals

    handled = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    saved = {sig: signal.getsignal(sig) for sig in handled}
    if saved[signal.SIGTERM] is not signal.SIG_DFL:
        pytest.skip("this process handles SIGTERM itself: the test would signal its handler")
    config = TrainConfig(epochs=3, batch_size=50, device="cpu", augment=False, **NO_PROBES).to_dict()
    config.update(train_size=300, test_size=100, data_dir=str(shapes_root))
    run_id = store.create(SPEC, config, dataset="shapes", status="queued")
    record = store.set_status
    seconds: list[str] = []

    def set_status(rid, status, **fields):
        if status == "interrupted":
            seconds.append(status)
            os.kill(os.getpid(), signal.SIGTERM)  # the runner's terminate(), landing mid-recording
            time.sleep(0.05)  # time for its handler to run here, if it raises
        return record(rid, status, **fields)

    def first_signal(event) -> None:
        if event.kind == "step" and not seconds:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(store, "set_status", set_status)
    try:
        interrupt_on_signals(ctrl_c=True)
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
            execute_run(store, run_id, extra_listener=first_signal)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    assert seconds == ["interrupted"]
    run = RunStore(store.root).get(run_id)
    assert run.status == "interrupted" and "SIGTERM" in run.error and run.resumable
