"""Sweeps and executors without Ray: the sweep command's arguments, a local sweep end to end, the depth table,
choosing an executor, events over the wire, and old stores gaining the executor columns. (tests/test_ray.py
runs the ray executor on a local cluster.)"""

import io
import json
import socket

import pytest
import torch
from helpers import cli_status, old_store, tiny_cli

import resnet_core as rc
from resnet_core.cli.main import main
from resnet_core.cli.sweep import follow
from resnet_core.execution.executors import default_executor
from resnet_core.execution.ray_executor import decode_event, encode_event
from resnet_core.presentation.degradation import format_sweep_table
from resnet_core.presentation.describe import percent_spread
from resnet_core.store.config import RunConfig
from resnet_core.store.run_store import RunStore
from resnet_core.studies.sweeps import Stat, SweepRow, plan_sweep, sweep_table
from resnet_core.training.train import CheckpointEvent, EpochEvent, StepEvent, TrainConfig


@pytest.mark.parametrize(
    "args, message",
    [
        (["--address", "10.0.0.1:6379"], "--address needs --executor ray"),
        (["--gpus-per-run", "0.25"], "--gpus-per-run needs --executor ray"),
        (["--depths", "8,9"], "depth"),
        (["--seeds", "0"], "must be a positive integer"),
        (["--executor", "slurm"], "invalid choice"),
        (["--executor", "ray", "--gpus-per-run", "-1"], "must be a number >= 0"),
        (["--depths", "eight"], "expected depths like 20,56"),
    ],
)
def test_bad_sweep_arguments_exit_2_with_a_message_and_store_nothing(tmp_path, capsys, args, message):
    runs = tmp_path / "runs"
    code = cli_status(["sweep", "--runs-dir", str(runs), "--device", "cpu", *args])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not runs.exists() or RunStore(runs).list() == []


def test_a_local_sweep_end_to_end(tmp_path, shapes_root, capsys):
    runs = str(tmp_path / "runs")
    code = main(tiny_cli("sweep", shapes_root, runs, "--twins", executor="local", depths=8, width=4))
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "local executor" in out.out and "depth  plain train %" in out.out
    # A grid of depths gets the 20/56 preset's recipe, not the quick one — changed, and the header says so.
    assert out.out.startswith("Longer CPU preset, changed by --epochs, --train-size, --test-size,"), out.out
    assert "plain-8 · seed 0" in out.err and "completed — train error" in out.err
    # stderr is not a terminal here: a line per event (started, each epoch, ended), no progress bar.
    lines = [line for line in out.err.splitlines() if "] plain-8 · seed 0" in line]
    events = [line.split(": ", 1)[1].split(" ")[0] for line in lines]
    assert events[0] in ("queued", "running") and events[-2:] == ["epoch", "completed"], lines
    final = lines[-1].split("completed — ")[1].split(" after")[0]  # "train error …%, test error …%"
    assert lines[-2].endswith(f"epoch 1/1 — {final}")
    assert "%|" not in out.err and "\r" not in out.err
    assert main(["runs", "--json", "--runs-dir", runs]) == 0
    listed = json.loads(capsys.readouterr().out)
    where = [(r["status"], r["executor"], r["node"]) for r in listed]
    assert where == [("completed", "local", socket.gethostname())] * 2
    assert [r["spec"]["skip"] for r in listed] == [False, True]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
def test_sweep_progress_is_a_line_per_event_off_a_terminal_and_a_bar_on_one(tmp_path, terminal):
    store = RunStore(tmp_path / "runs")
    run_id = store.create(rc.NetSpec(depth=8), {"epochs": 2}, name="ResNet-8", status="completed")
    store.add_epoch(run_id, {"epoch": 1, "step": 4, "train_error": 0.5, "test_error": 0.6})
    store.add_epoch(run_id, {"epoch": 2, "step": 8, "train_error": 0.25, "test_error": 0.3})
    stream = Terminal() if terminal else io.StringIO()
    assert follow(store, None, [run_id], epochs=2, retries=0, stream=stream)
    completed = "[1/1] ResNet-8: completed — train error 25.0%, test error 30.0% after 2 epochs"
    if terminal:
        assert "2.0/2 epochs" in stream.getvalue() and "\r" in stream.getvalue()  # tqdm's bar, redrawn in place
        assert completed in stream.getvalue() and "epoch 1/2" not in stream.getvalue()
    else:
        assert stream.getvalue().splitlines() == [
            "[1/1] ResNet-8: epoch 1/2 — train error 50.0%, test error 60.0%",
            "[1/1] ResNet-8: epoch 2/2 — train error 25.0%, test error 30.0%",
            completed,
        ]


def test_plan_sweep_tags_every_run_and_varies_the_seed():
    sweep, plan = plan_sweep([20, 8, 20], RunConfig(TrainConfig(epochs=3)), seeds=2, twins=True)
    assert sweep.startswith("sweep-")
    assert [(s.depth, s.skip, c.seed) for s, c, _ in plan] == [
        (8, False, 0),
        (8, False, 1),
        (8, True, 0),
        (8, True, 1),
        (20, False, 0),
        (20, False, 1),
        (20, True, 0),
        (20, True, 1),
    ]
    assert {c.experiment for _, c, _ in plan} == {sweep} and {c.epochs for _, c, _ in plan} == {3}
    assert plan[0][2] == f"plain-8 · seed 0 · {sweep}"
    assert [s.skip for s, _, _ in plan_sweep([8], RunConfig())[1]] == [True]  # no twins: ResNets only
    with pytest.raises(ValueError, match="seeds"):
        plan_sweep([8], RunConfig(), seeds=0)
    with pytest.raises(ValueError):
        plan_sweep([9], RunConfig())


def test_the_depth_table_is_mean_and_std_over_completed_seeds(tmp_path):
    store = RunStore(tmp_path / "runs")
    ids = []
    for skip, seed, train_error, status in [
        (False, 0, 0.30, "completed"),
        (False, 1, 0.40, "completed"),
        (True, 0, 0.10, "completed"),
        (True, 1, 0.90, "stopped"),
    ]:
        run_id = store.create(rc.NetSpec(depth=8, skip=skip), {"seed": seed}, status=status)
        store.add_epoch(run_id, {"epoch": 1, "step": 4, "train_error": 0.5, "test_error": 0.5})
        store.add_epoch(run_id, {"epoch": 2, "step": 8, "train_error": train_error, "test_error": 0.2})
        ids.append(run_id)
    (row,) = sweep_table(store, [store.get(i) for i in ids])
    assert row.plain_train.values == (0.30, 0.40) and row.residual_train.values == (0.10,)  # stopped: left out
    assert percent_spread(row.plain_train.mean, row.plain_train.std) == "35.0 ± 7.1"
    assert percent_spread(row.residual_train.mean, row.residual_train.std) == "10.0"
    assert percent_spread(Stat(()).mean, Stat(()).std) == "—"
    assert "35.0 ± 7.1" in format_sweep_table([row])
    chance = SweepRow(20, Stat((0.9,)), Stat((0.9,)), Stat((0.89,)), Stat((0.9,)))
    learned = SweepRow(8, Stat((0.3,)), Stat((0.3,)), Stat((0.1,)), Stat((0.2,)))
    assert "no verdict" in format_sweep_table([learned, chance])  # nets at chance: their order is noise
    assert "degradation" in format_sweep_table([learned, SweepRow(20, *(Stat((v,)) for v in (0.4, 0.4, 0.1, 0.2)))])


def test_the_default_executor_follows_the_environment(monkeypatch):
    monkeypatch.delenv("RESNET_LAB_EXECUTOR", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert default_executor() == "local"
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")  # the app sends its runs to that cluster
    assert default_executor() == "ray"
    monkeypatch.setenv("RESNET_LAB_EXECUTOR", "local")
    assert default_executor() == "local"
    monkeypatch.setenv("RESNET_LAB_EXECUTOR", "slurm")
    with pytest.raises(ValueError, match="local, ray"):
        default_executor()


def test_events_cross_the_wire_unchanged_and_checkpoints_as_bytes():
    step = StepEvent(12, 1.5, 0.7, 0.25, 0.1, 900.0)
    epoch = EpochEvent(2, 16, 0.6, 0.2, 0.8, 0.3, 0.01, 3.0, 500.0)
    assert decode_event(encode_event(step)) == step and decode_event(encode_event(epoch)) == epoch
    net = rc.build_net(rc.NetSpec(depth=8, width=4))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(torch.randn(2, 3, 32, 32)).sum().backward()
    optimizer.step()
    wire = encode_event(CheckpointEvent(3, 24, net.state_dict(), optimizer.state_dict()))
    assert isinstance(wire["data"], bytes)  # safetensors: nothing pickled
    back = decode_event(wire)
    assert (back.epoch, back.step) == (3, 24)
    assert all(back.model_state[k].equal(v) for k, v in net.state_dict().items())
    momentum = optimizer.state_dict()["state"][0]["momentum_buffer"]
    assert back.optimizer_state["state"][0]["momentum_buffer"].equal(momentum)


def test_an_old_store_gains_the_executor_columns_and_reads_back(tmp_path):
    # The runs table as the first release made it: no pid_started, executor or node.
    create_table = """CREATE TABLE runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL, spec TEXT NOT NULL, config TEXT NOT NULL, dataset TEXT NOT NULL, device TEXT,
        status TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL, error TEXT, pid INTEGER,
        progress TEXT, stop_requested INTEGER NOT NULL DEFAULT 0)"""
    store = old_store(tmp_path / "runs", create_table)
    (old,) = store.list()
    assert (old.id, old.status, old.executor, old.node) == ("old-run", "completed", None, None)
    assert store.get("old-run").to_dict()["executor"] is None
    store.set_placement("old-run", "ray", "node-1 (10.0.0.2)")
    assert (store.get("old-run").executor, store.get("old-run").node) == ("ray", "node-1 (10.0.0.2)")
