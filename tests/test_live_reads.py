"""Many viewers of a training run stay cheap: live views share one cached, incremental read of each run
(LiveReader), share the figures built from it, and the Train page reads no checkpoint or metrics file to
draw its download buttons — only when one is pressed."""

import pathlib
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import resnet_core as rc
from resnet_core.store.reader import LiveReader
from resnet_core.store.run_store import RunStore

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "train.py")
SPEC = rc.NetSpec(depth=8, width=4)


def rows(first: int, last: int) -> list[dict]:
    return [
        {"step": s, "epoch": s / 10, "loss": 1.0 / s, "error": 0.5, "lr": 0.1, "images_per_second": 100.0}
        for s in range(first, last + 1)
    ]


class Spy:
    """A RunStore whose step reads are recorded."""

    def __init__(self, store: RunStore) -> None:
        self.store, self.reads = store, []

    def steps(self, run_id, since_step=-1):
        self.reads.append(since_step)
        return self.store.steps(run_id, since_step)

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_a_reader_reads_each_run_once_per_ttl_and_only_new_steps(tmp_path):
    store = RunStore(tmp_path / "runs")
    run_id = store.create(SPEC, {}, status="running")
    store.add_steps(run_id, rows(1, 50))
    spy = Spy(store)
    reader = LiveReader(spy, ttl=0.2)
    for _ in range(20):  # twenty viewers within the ttl: one read
        assert list(reader.steps(run_id)["step"]) == list(range(1, 51))
    assert spy.reads == [-1]
    store.add_steps(run_id, rows(51, 60))
    time.sleep(0.25)
    assert list(reader.steps(run_id)["step"]) == list(range(1, 61))
    assert spy.reads == [-1, 50]  # since the last step it holds
    assert list(reader.steps(run_id, since_step=55)["step"]) == list(range(56, 61))
    version = reader.version(run_id)
    time.sleep(0.25)
    assert reader.version(run_id) == version  # nothing new: the same version, so the same figures


def test_a_run_waiting_for_its_first_step_is_read_again_sooner(tmp_path):
    """Right after Train is pressed a person waits for the first point: a queued or running run without a
    step is re-read after `starting_ttl`, one with steps (or one that ended) after `ttl`."""
    store = RunStore(tmp_path / "runs")
    waiting = store.create(SPEC, {}, status="running")
    ended = store.create(SPEC, {}, status="failed")
    spy = Spy(store)
    reader = LiveReader(spy, ttl=60.0, starting_ttl=0.1)
    reader.steps(waiting), reader.steps(ended)
    time.sleep(0.15)
    reader.steps(waiting), reader.steps(ended)
    assert spy.reads == [-1, -1, -1]  # the waiting run read again, the ended one not
    store.add_steps(waiting, rows(1, 1))
    time.sleep(0.15)
    assert list(reader.steps(waiting)["step"]) == [1]
    time.sleep(0.15)
    reader.steps(waiting)
    assert len(spy.reads) == 4  # it has a step now: `ttl` again


def test_a_reader_notices_steps_rewritten_by_a_resume(tmp_path):
    store = RunStore(tmp_path / "runs")
    run_id = store.create(SPEC, {}, status="running")
    store.add_steps(run_id, rows(1, 40))
    reader = LiveReader(store, ttl=0.0)
    assert len(reader.steps(run_id)["step"]) == 40
    store.truncate_after(run_id, step=20, epoch=2)  # a resume from the checkpoint at step 20
    store.add_steps(run_id, [dict(r, loss=9.0) for r in rows(21, 30)])
    steps = reader.steps(run_id)
    assert list(steps["step"]) == list(range(1, 31)) and set(steps["loss"][20:]) == {9.0}


def test_sessions_share_figures_and_redraw_them_at_most_every_few_seconds():
    from ui.live import FigureBoard

    board, built = FigureBoard(), []

    def build():
        built.append(1)
        return [object()]

    first = board.get(("train", "run"), (1, 2), build)
    assert board.get(("train", "run"), (1, 2), build) is first and len(built) == 1  # another tab, same data
    assert board.get(("train", "run"), (1, 3), build, every=60.0) is first  # new data, but drawn just now
    assert board.get(("train", "run"), (1, 3), build) is not first and len(built) == 2  # no run active: at once


@pytest.fixture
def env(page_runs):
    """The pages' runs folder (conftest.page_runs)."""
    return page_runs


def test_the_train_page_reads_no_checkpoint_or_metrics_to_draw_its_downloads(env, monkeypatch):
    store = RunStore(env)
    run_id = store.create(SPEC, {"epochs": 1}, status="completed")
    store.add_steps(run_id, rows(1, 20))
    store.save_checkpoint(run_id, 1, 20, rc.build_net(SPEC).state_dict(), {"state": {}, "param_groups": []})
    reads, csvs = [], []
    real_read = pathlib.Path.read_bytes
    monkeypatch.setattr(pathlib.Path, "read_bytes", lambda self: reads.append(self.name) or real_read(self))
    import resnet_core.presentation.reports as reports

    real_csv = reports.metrics_csv
    monkeypatch.setattr(reports, "metrics_csv", lambda *a: csvs.append(a) or real_csv(*a))
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["runs"] = run_id
    at.run()
    assert not at.exception, at.exception
    assert [b.label for b in at.get("download_button")] == ["Metrics (CSV)", "Checkpoint"]
    assert not [name for name in reads if name.endswith(".safetensors")] and not csvs


def test_a_reader_forgets_runs_nobody_asked_for_and_keeps_the_rest(tmp_path):
    store = RunStore(tmp_path / "runs")
    first, second = (store.create(SPEC, {}, status="running") for _ in range(2))
    reader = LiveReader(store, ttl=60.0, forget_after=0.2)
    reader.get(first)
    assert set(reader._entries) == {first}  # just read: kept (a new entry once counted as asked for at time 0)
    time.sleep(0.3)
    reader.get(second)
    assert set(reader._entries) == {second}


def test_a_run_is_starting_while_it_runs_its_first_steps_or_was_just_queued(tmp_path):
    """The Train page polls fast for a starting run (its first point shows at once), but not for one queued
    behind others for long, nor for one past its first `log_every` steps or ended."""
    from ui.live import STARTING_QUEUE_SECONDS, run_starting

    store = RunStore(tmp_path / "runs")
    queued, running, done = (store.get(store.create(SPEC, {}, status=s)) for s in ("queued", "running", "completed"))
    now = queued.created_at
    assert run_starting(queued, -1, now + 1.0)
    assert not run_starting(queued, -1, now + STARTING_QUEUE_SECONDS + 1.0)
    assert run_starting(running, -1, now) and run_starting(running, running.config.log_every, now)
    assert not run_starting(running, running.config.log_every + 1, now)
    assert not run_starting(done, -1, now)
