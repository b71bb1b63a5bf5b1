"""Issue 12, item 1: twins (and experiment runs) train at the same time on a CPU, on the same batches in the
same order, each worker with its share of the cores. Real JobRunners with real worker processes (the
spy worker, tests/spy_worker.py, is the real worker with a record of its batches)."""

import socket
import subprocess
import sys
from pathlib import Path

import helpers
import pytest
import torch
from helpers import NO_PROBES

import resnet_core as rc
from resnet_core.execution.jobs import default_parallel_runs
from resnet_core.execution.worker import ThreadShare
from resnet_core.store.run_store import RunStore
from resnet_core.studies.experiments import new_twins_id

SPY = str(Path(__file__).resolve().parent / "spy_worker.py")
PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "train.py")
SPEC = rc.NetSpec(depth=8, width=4)
# Long enough that neither run can end before the test has seen both train; the tests stop them.
LONG = dict(NO_PROBES, epochs=50, batch_size=25, lr=0.02, train_size=500, test_size=100, log_every=1)


def spy_worker(root: str, run_id: str) -> list[str]:
    return [sys.executable, SPY, root, run_id]


def wait_for(predicate, timeout=180.0, what="it"):
    helpers.wait_for(predicate, timeout, what)


def training(store: RunStore, run_id: str) -> bool:
    """Running, and its worker has recorded training steps."""
    run = store.get(run_id)
    return run.status == "running" and run.progress.get("step", 0) > 0


def batches(root: Path, run_id: str) -> list[tuple[str, str, int]]:
    path = root / f"{run_id}.batches"
    lines = path.read_text().splitlines() if path.exists() else []
    return [(epoch, digest, int(threads)) for epoch, digest, threads in (line.split() for line in lines)]


def test_a_cpu_runs_at_least_a_pair_at_once():
    if torch.cuda.is_available():
        assert default_parallel_runs() == 4
    else:
        assert 2 <= default_parallel_runs() <= 4


def test_twins_train_at_the_same_time_through_the_runner(runner_factory, shapes_root):
    """A real runner with its default slots and the real worker: both twins are `running` and training
    at one moment (on a CPU a one-slot runner left the plain twin queued)."""
    runner = runner_factory()
    config = rc.RunConfig.from_dict(dict(LONG, data_dir=str(shapes_root), experiment=new_twins_id()))
    ids = [runner.submit(SPEC.replace(skip=skip), config) for skip in (True, False)]
    store = runner.store
    wait_for(lambda: all(training(store, i) for i in ids), what="both twins to train")
    assert sorted(runner.running()) == sorted(ids)  # two worker processes, alive together
    assert len({store.get(i).pid for i in ids}) == 2
    for run_id in ids:
        runner.stop(run_id)
    assert runner.wait_idle(timeout=60)
    assert [store.get(i).status for i in ids] == ["stopped", "stopped"]


def test_twins_see_the_same_batches_in_the_same_order(runner_factory, shapes_root, tmp_path):
    """Side by side, each in its own process and with its own thread count over time, the residual net
    and its plain twin train on identical batches (the pair's shared seed: same subset, same order)."""
    runner = runner_factory(command=spy_worker)
    config = dict(LONG, epochs=2, data_dir=str(shapes_root), experiment=new_twins_id())
    ids = [runner.submit(SPEC.replace(skip=skip), config) for skip in (True, False)]
    assert runner.wait_idle(timeout=240)
    assert [runner.store.get(i).status for i in ids] == ["completed", "completed"], [
        runner.store.get(i).error for i in ids
    ]
    residual, plain = (batches(tmp_path / "runs", i) for i in ids)
    assert len(residual) == 2 * 500 // 25  # every training step, recorded
    assert [(e, d) for e, d, _ in residual] == [(e, d) for e, d, _ in plain]
    assert [e for e, _, _ in residual[:20]] == ["0"] * 20 and residual[20][0] == "1"
    assert residual[0][1] != residual[20][1]  # a new epoch, a new order: the spy sees real batches

    # The check can fail: a run with another seed (as a non-twin would have) sees other batches.
    other = runner.submit(SPEC, dict(config, seed=1, epochs=1))
    assert runner.wait_idle(timeout=240)
    assert [d for _, d, _ in batches(tmp_path / "runs", other)] != [d for _, d, _ in residual[:20]]


@pytest.mark.skipif(torch.get_num_threads() < 2, reason="one thread has nothing to share")
def test_side_by_side_runs_split_the_threads_and_the_last_one_takes_them_all(runner_factory, shapes_root, tmp_path):
    """Two runs on a CPU split its threads; when one ends, the other's worker takes all of them while it
    trains on (worker.ThreadShare, checked every STOP_CHECK_SECONDS)."""
    # The workers' pool, as a fresh process sees it: this process's own may have been changed in the suite
    # (the in-process app tests take the server's share, ui/threads.py).
    total = int(subprocess.check_output([sys.executable, "-c", "import torch; print(torch.get_num_threads())"]))
    runner = runner_factory(command=spy_worker)
    config = dict(LONG, data_dir=str(shapes_root))
    first, second = (runner.submit(rc.NetSpec(depth=d, width=4), config) for d in (8, 14))
    store, root = runner.store, tmp_path / "runs"
    wait_for(lambda: all(training(store, i) for i in (first, second)), what="both runs to train")
    wait_for(lambda: len(batches(root, first)) > 40 and len(batches(root, second)) > 40, what="40 steps of each")
    shares = [batches(root, i)[-1][2] for i in (first, second)]
    assert sorted(shares) == sorted([total - total // 2, total // 2]), shares
    runner.stop(first)
    wait_for(lambda: store.get(first).status == "stopped", what="the first run to stop")
    seen = len(batches(root, second))
    wait_for(lambda: len(batches(root, second)) > seen + 40, what="40 more steps of the second run")
    assert batches(root, second)[-1][2] == total
    runner.stop(second)
    assert runner.wait_idle(timeout=60)


def test_thread_share_counts_the_runs_on_this_cpu(tmp_path):
    store = RunStore(tmp_path / "runs")
    host = socket.gethostname()

    def run(status="running", device="CPU (2 cores, 2 threads)", executor="local", node=host):
        run_id = store.create(SPEC, {}, device=device, status=status)  # running: this process trains it
        if executor is not None:
            store.set_placement(run_id, executor, node)
        return run_id

    mine = run()
    claimed = run(device=None, executor=None)  # its worker has not placed it yet: it will train here
    run(device="NVIDIA H100 (CUDA)")  # on the GPU
    run(executor="ray", node=f"{host} (10.0.0.1)")  # a Ray task: its own node's cores
    run(node="elsewhere")  # another machine sharing the runs folder
    run(status="queued")
    run(status="completed")
    assert ThreadShare(store, mine, threads=8).share() == 4
    assert (ThreadShare(store, mine, threads=3).share(), ThreadShare(store, claimed, threads=3).share()) == (2, 1)
    assert ThreadShare(store, mine, threads=1).share() == 1  # never none
    store.set_status(claimed, "completed")
    assert ThreadShare(store, mine, threads=8).share() == 8  # alone now: all of them

    before = torch.get_num_threads()
    try:
        share = ThreadShare(store, mine, threads=2)
        assert share.update() == 2 and torch.get_num_threads() == 2
        run(device=None, executor=None)
        assert share.update() == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_the_twins_button_puts_both_runs_in_running_at_once(tmp_path, shapes_root, monkeypatch):
    """The Train page's "Train plain + residual twins", through AppTest with the page's own runner."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("RESNET_LAB_DATA", str(shapes_root))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["depth"] = "8"
    at.run()
    at.select_slider(key="train.size").set_value(1000)
    at.number_input(key="train.epochs").set_value(50)
    at.button(key="train.twins").click().run()
    assert not at.exception
    ids = at.session_state["runs"]
    store = RunStore(tmp_path / "runs")
    from ui.runs import _runner_for

    runner = _runner_for(str((tmp_path / "runs").resolve()))
    try:
        wait_for(lambda: all(training(store, i) for i in ids), what="both twins to train")
        assert {store.get(i).spec.skip for i in ids} == {True, False}
        assert all(store.get(i).status == "running" for i in ids)
    finally:
        for run_id in ids:
            runner.stop(run_id)
        runner.wait_idle(timeout=60)
        runner.shutdown()
