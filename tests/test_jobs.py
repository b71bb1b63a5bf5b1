"""The job runner with stand-in workers (tests/fake_worker.py): queueing, stop, killed and crashed workers.
(tests/test_worker.py runs the real training worker.)"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import wait_for

import resnet_core as rc
from resnet_core.execution import jobs
from resnet_core.execution.jobs import JobRunner
from resnet_core.store.run_store import RunStore

SPEC = rc.NetSpec(depth=8, width=4)


FAKE = str(Path(__file__).resolve().parent / "fake_worker.py")


def slow_worker(root: str, run_id: str) -> list[str]:
    return [sys.executable, FAKE, "slow", root, run_id]


def exit_worker(root: str, run_id: str) -> list[str]:
    return [sys.executable, FAKE, "exit", root, run_id]


def started(runner: JobRunner) -> str:
    """A run of SPEC submitted to `runner`, once its worker has recorded 3 steps."""
    run_id = runner.submit(SPEC, {})
    wait_for(lambda: len(runner.store.steps(run_id)["step"]) >= 3)
    return run_id


def kill_worker(runner: JobRunner, run_id: str) -> None:
    """SIGKILL the run's worker; back once the run is interrupted and the runner has said how its worker died
    (a reader may notice the process gone first, store.GONE, and mark it interrupted without saying how)."""
    os.kill(runner.store.get(run_id).pid, signal.SIGKILL)
    wait_for(lambda: runner.store.get(run_id).status == "interrupted")
    wait_for(lambda: "SIGKILL" in (runner.store.get(run_id).error or ""))


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
    run_id = started(runner)
    kill_worker(runner, run_id)
    runner.resume(run_id)
    assert runner.wait_idle(timeout=30)
    assert runner.store.get(run_id).status == "completed"
    with pytest.raises(ValueError, match="only stopped or interrupted"):
        runner.resume(run_id)


def test_a_worker_that_exits_badly_fails_its_run(runner_factory):
    runner = runner_factory(command=exit_worker)
    run_id = runner.submit(SPEC, {})
    assert runner.wait_idle(timeout=30)
    # A reader may notice the process gone first (store.GONE: interrupted, so the runner is idle); the runner
    # then records how it ended.
    wait_for(lambda: runner.store.get(run_id).status == "failed")
    assert "code 3" in runner.store.get(run_id).error


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


# --- the standby worker (issue 12.5: a press of Train does not wait for an interpreter to import torch) ---


def fake_standby(root: str) -> list[str]:
    return [sys.executable, FAKE, "standby", root]


def broken_standby(root: str) -> list[str]:
    return [sys.executable, FAKE, "broken-standby", root]


@pytest.fixture
def quick_standby(monkeypatch):
    """A new standby worker soon after a run starts (the app waits STANDBY_AFTER_SECONDS)."""
    monkeypatch.setattr(jobs, "STANDBY_AFTER_SECONDS", 0.2)
    monkeypatch.setattr(jobs, "STANDBY_RETRY_SECONDS", 0.2)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"  # reaped or a zombie


def test_the_next_run_goes_to_the_standby_worker_and_a_new_one_follows(runner_factory, quick_standby):
    runner = runner_factory(max_parallel=1, command=slow_worker, standby=fake_standby)
    wait_for(lambda: runner.standby_pid() is not None)
    ready = runner.standby_pid()
    run_id = runner.submit(SPEC, {})
    wait_for(lambda: len(runner.store.steps(run_id)["step"]) >= 1)
    assert runner.store.get(run_id).pid == ready  # the run trains in the process started before it
    assert runner.running() == [run_id]
    assert f"standby {ready} took run {run_id}" in (runner.store.run_dir(run_id) / "worker.log").read_text()
    wait_for(lambda: runner.standby_pid() not in (None, ready))  # the next one is ready
    assert runner.wait_idle(timeout=60)
    assert runner.store.get(run_id).status == "completed"
    assert len(runner.store.steps(run_id)["step"]) == 100


def test_a_new_standby_worker_waits_for_the_first_step_of_the_run_just_started(runner_factory, monkeypatch):
    """Its imports would slow that run's start (a fresh install's first run renders the dataset then)."""
    monkeypatch.setattr(jobs, "STANDBY_AFTER_SECONDS", 600.0)
    runner = runner_factory(max_parallel=1, command=slow_worker, standby=fake_standby)
    wait_for(lambda: runner.standby_pid() is not None)
    ready = runner.standby_pid()
    run_id = runner.submit(SPEC, {})
    wait_for(lambda: runner.standby_pid() != ready)
    while True:
        standby = runner.standby_pid()  # before the steps: a standby seen now came after a stored step
        if len(runner.store.steps(run_id)["step"]):
            break
        assert standby is None, "a standby worker started before the run's first step"
        time.sleep(0.02)
    wait_for(lambda: runner.standby_pid() not in (None, ready), timeout=30)  # not STANDBY_AFTER_SECONDS later


def test_a_run_in_the_standby_worker_stops_dies_and_resumes_like_any_other(runner_factory, quick_standby):
    runner = runner_factory(max_parallel=1, command=slow_worker, standby=fake_standby)
    wait_for(lambda: runner.standby_pid() is not None)
    killed = started(runner)
    kill_worker(runner, killed)
    assert "SIGKILL" in runner.store.get(killed).error
    wait_for(lambda: runner.standby_pid() is not None)
    stopped = started(runner)
    runner.stop(stopped)
    runner.resume(killed)
    assert runner.wait_idle(timeout=60)
    assert runner.store.get(stopped).status == "stopped"
    assert runner.store.get(killed).status == "completed"


def test_a_standby_worker_from_another_environment_is_not_used(runner_factory, quick_standby, monkeypatch):
    """A worker reads RESNET_LAB_DATA, OMP_NUM_THREADS… from the environment it started in: a standby worker
    started before the environment changed would train with the old one."""
    runner = runner_factory(max_parallel=1, command=slow_worker, standby=fake_standby)
    wait_for(lambda: runner.standby_pid() is not None)
    old = runner.standby_pid()
    monkeypatch.setenv("RESNET_LAB_TEST_CHANGED", "1")
    run_id = runner.submit(SPEC, {})
    wait_for(lambda: len(runner.store.steps(run_id)["step"]) >= 1)
    assert runner.store.get(run_id).pid != old
    wait_for(lambda: not alive(old))  # ended, not left waiting
    assert runner.wait_idle(timeout=60)
    wait_for(lambda: runner.standby_pid() is not None)
    new = runner.standby_pid()
    assert new != old and os.environ["RESNET_LAB_TEST_CHANGED"] == "1"
    assert "RESNET_LAB_TEST_CHANGED=1" in Path(f"/proc/{new}/environ").read_bytes().decode(errors="replace")


def test_a_standby_worker_is_kept_when_only_what_no_worker_reads_changes(runner_factory, quick_standby, monkeypatch):
    """The server's own imports set variables no worker reads (torch's inductor TORCHINDUCTOR_CACHE_DIR at an
    optimizer's first use, matplotlib MPLBACKEND): the ready standby worker takes the next run all the same."""
    runner = runner_factory(max_parallel=1, command=slow_worker, standby=fake_standby)
    wait_for(lambda: runner.standby_pid() is not None)
    ready = runner.standby_pid()
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", "/tmp/somewhere")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    time.sleep(0.3)  # a few of the runner's polls
    run_id = runner.submit(SPEC, {})
    wait_for(lambda: len(runner.store.steps(run_id)["step"]) >= 1)
    assert runner.store.get(run_id).pid == ready


def test_a_standby_worker_that_cannot_start_is_logged_and_runs_start_their_own(runner_factory, quick_standby, caplog):
    runner = runner_factory(max_parallel=1, command=slow_worker, standby=broken_standby)
    wait_for(lambda: "exit code 4" in caplog.text)
    assert "ImportError: no module named torch (a stand-in)" in caplog.text
    run_id = runner.submit(SPEC, {})
    assert runner.wait_idle(timeout=60)
    assert runner.store.get(run_id).status == "completed"


def test_shutdown_ends_the_standby_worker(runner_factory):
    runner = runner_factory(command=slow_worker, standby=fake_standby)
    wait_for(lambda: runner.standby_pid() is not None)
    pid = runner.standby_pid()
    runner.shutdown()
    assert not alive(pid) and runner.standby_pid() is None


def test_no_standby_worker_unless_the_workers_are_the_default_ones(runner_factory, monkeypatch):
    monkeypatch.setenv("RESNET_LAB_STANDBY", "1")  # the default outside the tests (conftest sets "0")
    assert runner_factory(command=slow_worker)._standby_command is None
    assert runner_factory(standby=False)._standby_command is None
    assert runner_factory()._standby_command is jobs.standby_command
    monkeypatch.setenv("RESNET_LAB_STANDBY", "0")  # off: a machine short of memory
    assert runner_factory()._standby_command is None
    assert runner_factory(standby=True)._standby_command is jobs.standby_command  # asked for explicitly
