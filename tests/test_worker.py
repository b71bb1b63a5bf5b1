"""The real training worker through the job runner: completed, failed with its message, killed and
resumed from its checkpoint."""

import os
import signal
import sys
import time
from pathlib import Path

import pytest

import resnet_core as rc
from resnet_core.execution.jobs import JobRunner
from resnet_core.store.config import RunConfig
from resnet_core.store.run_store import RunStore

SPEC = rc.NetSpec(depth=8, width=4)
TINY = {
    "epochs": 2,
    "batch_size": 50,
    "lr": 0.05,
    "train_size": 500,
    "test_size": 200,
    "log_every": 2,
    "grad_norm_every": 5,
    "probe_batch_size": 32,
}


@pytest.fixture
def runner(tmp_path, shapes_root):
    runner = JobRunner(tmp_path / "runs", poll_seconds=0.05)
    yield runner
    runner.shutdown()


def test_a_run_completes_and_records_everything(runner, shapes_root):
    run_id = runner.submit(SPEC, dict(TINY, data_dir=str(shapes_root)))
    assert runner.wait_idle(timeout=240)
    store = runner.store
    run = store.get(run_id)
    assert run.status == "completed", run.error
    assert run.device.startswith("CPU")
    epochs = store.epochs(run_id)
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert all(0 <= e["test_error"] <= 1 and e["images_per_second"] > 0 for e in epochs)
    steps = store.steps(run_id)
    assert steps["step"][-1] == 20  # 500 images / 50 per batch × 2 epochs
    names, positions, values = store.probe(run_id, "grad_norms")
    assert names[0] == "stem.conv" and names[-1] == "fc" and values.shape == (len(positions), len(names))
    names, positions, _ = store.probe(run_id, "responses")
    assert list(positions) == [1, 2] and all("conv" in n for n in names)
    assert store.latest_checkpoint(run_id)[0] == 2
    assert run.progress["step"] == 20


def test_a_failing_run_stores_its_message(runner, tmp_path):
    run_id = runner.submit(SPEC, dict(TINY, data_dir=str(tmp_path / "no-data")), dataset="cifar10")
    assert runner.wait_idle(timeout=120)
    run = runner.store.get(run_id)
    assert run.status == "failed"
    assert "DatasetUnavailable" in run.error and "shapes" in run.error


def test_a_killed_worker_resumes_from_its_checkpoint(runner, shapes_root):
    config = dict(TINY, epochs=4, train_size=1000, data_dir=str(shapes_root))
    run_id = runner.submit(SPEC, config)
    store = runner.store
    deadline = time.monotonic() + 240
    while store.latest_checkpoint(run_id) is None:
        assert time.monotonic() < deadline and store.get(run_id).status in ("queued", "running")
        time.sleep(0.05)
    os.kill(store.get(run_id).pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while store.get(run_id).status != "interrupted":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    resumed_from = store.latest_checkpoint(run_id)[0]
    runner.resume(run_id)
    assert runner.wait_idle(timeout=240)
    assert store.get(run_id).status == "completed"
    epochs = store.epochs(run_id)
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4]
    steps = store.steps(run_id)["step"]
    assert list(steps) == sorted(set(steps)) and steps[-1] == 80
    assert resumed_from >= 1


def test_a_diverging_run_ends_diverged_with_the_step(runner, shapes_root):
    run_id = runner.submit(SPEC, dict(TINY, lr=1e6, epochs=1, data_dir=str(shapes_root)))
    assert runner.wait_idle(timeout=120)
    run = runner.store.get(run_id)
    assert run.status == "diverged"
    assert "at step" in run.error and "smaller learning rate" in run.error


def test_unknown_config_keys_are_refused():
    with pytest.raises(ValueError, match="unknown run config keys"):
        RunConfig.from_dict({"epochs": 1, "learning_rate": 0.1})


def worker_saying_its_niceness(store: RunStore, prints: str, entry: str, *args: str, stdin: str | None = None):
    """A Python process that runs the worker's `entry` point (run_worker, standby) on `store` with `args`,
    whose execute_run only prints `prints` (Python expressions: os.nice(0) is its niceness); it has ended."""
    import subprocess
    import sys

    code = (
        "import os, sys; from resnet_core.execution import worker; "
        f"worker.execute_run = lambda store, run_id: print({prints}); "
        f"worker.{entry}(*sys.argv[1:])"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(store.root), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )


def test_a_worker_process_trains_below_the_server_in_cpu_priority(tmp_path):
    """Clicks on a page come before training (issue 15.11): the worker's entry point lowers its priority."""
    store = RunStore(tmp_path / "runs")
    run_id = store.create(rc.NetSpec(depth=8, width=4), {})
    out = worker_saying_its_niceness(store, "'niceness', os.nice(0)", "run_worker", run_id)
    assert out.returncode == 0, out.stderr
    from resnet_core.execution.worker import WORKER_NICENESS

    assert out.stdout.split() == ["niceness", str(os.nice(0) + WORKER_NICENESS)]


def test_a_standby_worker_trains_its_run_below_the_server_in_cpu_priority_once(tmp_path):
    """A standby worker (started before its run, jobs.JobRunner) lowers its priority once: as a worker
    started for its run, not twice; what it prints goes to the run's worker.log."""
    store = RunStore(tmp_path / "runs")
    run_id = store.create(rc.NetSpec(depth=8, width=4), {})
    out = worker_saying_its_niceness(store, "'niceness', os.nice(0), 'run', run_id", "standby", stdin=f"{run_id}\n")
    assert out.returncode == 0, out.stderr
    from resnet_core.execution.worker import WORKER_NICENESS

    log = (store.run_dir(run_id) / "worker.log").read_text()
    assert log.split() == ["niceness", str(os.nice(0) + WORKER_NICENESS), "run", run_id]
    assert out.stdout == ""


def test_a_standby_worker_whose_runner_is_gone_ends_without_a_run(tmp_path):
    """The end of its stdin (the server stopped, or was killed) ends a standby worker: nothing is left
    running, nothing is written."""
    import subprocess
    import sys

    store = RunStore(tmp_path / "runs")
    run_id = store.create(rc.NetSpec(depth=8, width=4), {})
    out = subprocess.run(
        [sys.executable, "-m", "resnet_core.execution.worker", str(store.root), "--standby"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.returncode == 0, out.stderr
    assert store.get(run_id).status == "queued" and not store.run_dir(run_id).exists()


def test_a_standby_worker_that_fails_after_taking_its_run_leaves_the_traceback_in_its_log(tmp_path):
    """The runner stops reading a standby worker's stderr once it has handed over the run: whatever fails
    after that (here a run store damaged meanwhile) is written to the run's worker.log, not lost."""
    import subprocess

    code = (
        "import sys, resnet_core as rc; from resnet_core.store.run_store import RunStore; "
        "print(RunStore(sys.argv[1]).create(rc.NetSpec(depth=8, width=4), {}))"
    )
    # made in a process that has ended, so that no open connection writes the header back
    run_id = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout.strip()
    with open(tmp_path / "runs" / "runs.sqlite", "r+b") as db:
        db.write(b"x" * 100)
    out = subprocess.run(
        [sys.executable, "-m", "resnet_core.execution.worker", str(tmp_path / "runs"), "--standby"],
        input=f"{run_id}\n".encode(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.returncode != 0
    log = (tmp_path / "runs" / run_id / "worker.log").read_text()
    assert "Traceback" in log and "damaged" in log


def test_the_apps_standby_worker_renders_the_embedded_dataset_while_it_waits(tmp_path, monkeypatch):
    """On a fresh install the first run would render the embedded set (~8 s here) before its first step:
    the app's standby worker (`--prepare shapes`, ui/runs.py) renders and caches it while it waits; one
    without a run then ends at the end of its stdin, as any standby worker does."""
    import subprocess

    from resnet_core.data.datasets import shapes_cache
    from resnet_core.execution.jobs import standby_command
    from ui.runs import _runner_for

    data = tmp_path / "data"
    command = standby_command(str(tmp_path / "runs"), prepare="shapes")
    out = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parent.parent,
        env=dict(os.environ, RESNET_LAB_DATA=str(data)),
    )
    assert out.returncode == 0, out.stderr
    assert shapes_cache(data, 0).is_file()
    assert rc.load_dataset("shapes", root=data, train_size=100, test_size=10).train_images.shape[0] == 100
    monkeypatch.setenv("RESNET_LAB_STANDBY", "1")  # as in the app (conftest turns it off in-process)
    app_runner = _runner_for(str(tmp_path / "app-runs"))  # the app's runner asks its standby worker for it
    try:
        assert app_runner._standby_command(app_runner.root)[-2:] == ["--prepare", "shapes"]
    finally:
        app_runner.shutdown()


def test_a_workers_first_step_is_written_at_once(tmp_path, monkeypatch):
    """The curve of a new run starts as soon as its first step is done (issue 12.5): the "training" phase
    event has just flushed, and the step waited FLUSH_SECONDS for the next flush. Later steps are buffered."""
    from resnet_core.execution import lifecycle, worker
    from resnet_core.training.train import PhaseEvent, StepEvent

    monkeypatch.setattr(lifecycle, "FLUSH_SECONDS", 3600.0)  # no flush falls due by time in this test
    store = RunStore(tmp_path / "runs")
    run_id = store.create(SPEC, TINY)
    recorder = worker.StoreRecorder(store, run_id, total_steps=20)
    recorder(PhaseEvent("starting", 0, 0.0))
    recorder(PhaseEvent("training", 0, 0.0))
    recorder(StepEvent(1, 0.1, 2.3, 0.9, 0.05, 100.0))
    assert list(store.steps(run_id)["step"]) == [1]
    assert store.get(run_id).progress["step"] == 1
    recorder(StepEvent(2, 0.2, 2.2, 0.9, 0.05, 100.0))
    assert list(store.steps(run_id)["step"]) == [1]  # buffered: written every FLUSH_SECONDS, or at the end
    recorder(PhaseEvent("evaluating", 2, 0.2))
    assert list(store.steps(run_id)["step"]) == [1, 2]
