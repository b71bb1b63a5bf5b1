"""The job runner with stand-in workers (tests/fake_worker.py): queueing, stop, killed and crashed workers.
(tests/test_worker.py runs the real training worker.)"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import resnet_core as rc
from resnet_core.runs.jobs import JobRunner
from resnet_core.runs.store import RunStore

SPEC = rc.NetSpec(depth=8, width=4)


FAKE = str(Path(__file__).resolve().parent / "fake_worker.py")


def slow_worker(root: str, run_id: str) -> list[str]:
    return [sys.executable, FAKE, "slow", root, run_id]


def exit_worker(root: str, run_id: str) -> list[str]:
    return [sys.executable, FAKE, "exit", root, run_id]


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def runner_factory(tmp_path):
    runners = []

    def make(**kwargs):
        runner = JobRunner(tmp_path / "runs", poll_seconds=0.05, **kwargs)
        runners.append(runner)
        return runner

    yield make
    for r in runners:
        r.shutdown()


def test_runs_queue_in_order_one_at_a_time(runner_factory):
    runner = runner_factory(max_parallel=1, command=slow_worker)
    ids = [runner.submit(SPEC, {"epochs": 1}) for _ in range(3)]
    wait_for(lambda: runner.store.get(ids[0]).status == "running")
    assert [runner.store.get(i).status for i in ids[1:]] == ["queued", "queued"]
    assert runner.wait_idle(timeout=60)
    assert [runner.store.get(i).status for i in ids] == ["completed"] * 3
    starts = [runner.store.get(i).updated_at for i in ids]
    assert starts == sorted(starts)
    assert len(runner.store.steps(ids[2])["step"]) == 100


def test_stop_a_running_and_a_queued_run(runner_factory):
    runner = runner_factory(max_parallel=1, command=slow_worker)
    first, second = runner.submit(SPEC, {}), runner.submit(SPEC, {})
    wait_for(lambda: len(runner.store.steps(first)["step"]) >= 5)
    runner.stop(second)
    runner.stop(first)
    assert runner.wait_idle(timeout=30)
    assert runner.store.get(first).status == "stopped"
    assert runner.store.get(second).status == "stopped"
    assert len(runner.store.steps(first)["step"]) < 100


def test_a_killed_worker_leaves_an_interrupted_run_that_can_resume(runner_factory):
    runner = runner_factory(max_parallel=1, command=slow_worker)
    run_id = runner.submit(SPEC, {})
    wait_for(lambda: len(runner.store.steps(run_id)["step"]) >= 3)
    os.kill(runner.store.get(run_id).pid, signal.SIGKILL)
    wait_for(lambda: runner.store.get(run_id).status == "interrupted")
    assert "SIGKILL" in runner.store.get(run_id).error
    runner.resume(run_id)
    assert runner.wait_idle(timeout=30)
    assert runner.store.get(run_id).status == "completed"
    with pytest.raises(ValueError, match="only stopped or interrupted"):
        runner.resume(run_id)


def test_a_worker_that_exits_badly_fails_its_run(runner_factory):
    runner = runner_factory(command=exit_worker)
    run_id = runner.submit(SPEC, {})
    assert runner.wait_idle(timeout=30)
    run = runner.store.get(run_id)
    assert run.status == "failed" and "code 3" in run.error


def test_a_new_runner_marks_orphaned_runs_interrupted(tmp_path):
    store = RunStore(tmp_path / "runs")
    run_id = store.create(SPEC, {})
    store.set_status(run_id, "running", pid=2**22 + 12345)  # no such process
    runner = JobRunner(tmp_path / "runs", command=slow_worker)
    try:
        assert store.get(run_id).status == "interrupted"
    finally:
        runner.shutdown()


def test_a_restarted_runner_counts_workers_it_did_not_start(runner_factory, tmp_path):
    """A server restart leaves the old server's worker training (a separate process): the new runner must
    count it in its slots instead of starting the next queued run beside it (issue 15.4)."""
    store = RunStore(tmp_path / "runs")
    old = store.create(SPEC, {})
    orphan = subprocess.Popen([sys.executable, FAKE, "forever", str(store.root), old])
    try:
        wait_for(lambda: store.get(old).status == "running")
        first, second = store.create(SPEC, {}), store.create(SPEC, {})
        runner = runner_factory(max_parallel=2, command=slow_worker)
        wait_for(lambda: store.get(first).status != "queued")
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            assert store.get(second).status == "queued"  # the orphan holds the other slot
            time.sleep(0.02)
        store.request_stop(old)
        assert orphan.wait(timeout=60) == 0 and store.get(old).status == "stopped"
        assert runner.wait_idle(timeout=120)
        assert {store.get(i).status for i in (first, second)} == {"completed"}
    finally:
        orphan.kill()
