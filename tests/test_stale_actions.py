"""A page acting on what it read before someone else changed it (ui/actions.act): the run was deleted by its
owner or a teacher in another tab, or the viewer may not act on it. The action changes nothing, the page says why
in the reader's language and goes on drawing: no traceback."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import resnet_core as rc
import ui.auth
from resnet_core.execution.access import RunAccess
from resnet_core.execution.jobs import JobRunner
from resnet_core.presentation.i18n import set_language
from resnet_core.presentation.text import markdown_text
from resnet_core.store.access import Actor
from resnet_core.store.run_store import RunStore
from ui.runs import SNAPSHOT

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "train.py")
SPEC = rc.NetSpec(depth=8, width=4)
ALICE, BOB = Actor("alice@example.org"), Actor("bob@example.org")


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    yield RunStore(tmp_path / "runs")
    from ui.runs import release_runner

    release_runner(str((tmp_path / "runs").resolve()))  # the page's (cached) runner


def test_a_stale_train_page_says_in_chinese_that_the_run_is_gone(runs, monkeypatch):
    monkeypatch.setattr(ui.auth, "viewer", lambda: ALICE)  # Alice logged in (tests/test_browser_class.py: for real)
    run_id = runs.create(SPEC, {"epochs": 1}, owner=ALICE.id)
    runs.set_status(run_id, "stopped")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["lang"] = "zh"
    # AppTest formats a select box's options here, in the test's thread, to send its value back: in Chinese too.
    set_language("zh")
    try:
        stale_page_acts(at, runs, run_id)
    finally:
        set_language("en")


def stale_page_acts(at: AppTest, runs: RunStore, run_id: str) -> None:
    at.run()
    assert not at.exception and at.text_input(key=f"rename.{run_id}").value == "ResNet-8 · shapes"
    read = runs.list()  # what the page read at the start of its rerun (app.py's snapshot, ui/runs.read_runs)
    runs.delete(run_id)  # meanwhile the teacher, or Alice in another tab, deletes it
    gone = markdown_text(f"没有你能看到的运行 {run_id}：它已被删除，或已不再共享。")

    at.session_state[SNAPSHOT] = read
    at.text_input(key=f"rename.{run_id}").set_value("mine")
    at.button(key="train.rename").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [gone]
    assert at.text_input(key=f"rename.{run_id}").value == "mine"  # what she typed is still there

    at.session_state[SNAPSHOT] = read
    at.checkbox(key=f"confirm.{run_id}").check().run()
    at.session_state[SNAPSHOT] = read
    at.button(key="train.delete").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [gone]
    assert runs.list() == []


def _acting_page():
    """A page that does one RunAccess action through ui.actions.act, in the session's language."""
    import streamlit as st

    from resnet_core.presentation.i18n import set_language
    from ui.actions import act

    set_language(st.session_state["lang"])
    st.session_state["done"] = act(st.session_state["action"])


@pytest.fixture
def runner(tmp_path):
    runner = JobRunner(tmp_path / "runs", max_parallel=1, poll_seconds=3600)
    runner.max_parallel = 0  # nothing starts: the rules are checked on queued runs
    yield runner
    runner.shutdown()


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("zh", "你不能删除别人的运行：只有它的所有者或教师可以。"),
        ("en", "You cannot delete another person's run: only its owner or a teacher can."),
    ],
)
def test_a_refused_action_is_said_on_the_page_and_changes_nothing(runner, lang, said):
    alice, bob = RunAccess(runner, ALICE), RunAccess(runner, BOB)
    run_id = alice.submit(SPEC, {"epochs": 1})
    alice.share(run_id, True)  # Bob sees it: his page may offer what he may not do (a stale page, a replayed event)
    at = AppTest.from_function(_acting_page)
    at.session_state["lang"] = lang
    at.session_state["action"] = lambda: bob.delete(run_id)
    at.run()
    assert not at.exception and at.session_state["done"] is False
    assert [e.value for e in at.error] == [markdown_text(said)]
    assert runner.store.get(run_id).status == "queued"


def test_a_run_being_trained_is_not_deleted_and_says_so(runner):
    run_id = RunAccess(runner).submit(SPEC, {"epochs": 1})
    at = AppTest.from_function(_acting_page)
    at.session_state["lang"] = "zh"
    at.session_state["action"] = lambda: RunAccess(runner).delete(run_id)
    at.run()
    assert not at.exception and at.session_state["done"] is False
    assert [e.value for e in at.error] == [markdown_text(f"运行 {run_id} 正在排队：请先停止它，再删除。")]


def test_in_class_mode_the_runs_table_says_whose_each_run_is(runs, monkeypatch):
    """A teacher's "All runs" lists every student's runs with their owner; outside class mode there is no such
    column (one person, every run theirs)."""
    teacher = Actor("teacher@example.org", teacher=True)
    monkeypatch.setattr(ui.auth, "viewer", lambda: teacher)
    for owner in (ALICE, BOB):
        runs.set_status(runs.create(SPEC, {"epochs": 1}, owner=owner.id), "stopped")

    def owners_column(at: AppTest) -> list | None:
        (table,) = at.dataframe
        return list(table.value["owner"]) if "owner" in table.value else None

    monkeypatch.setattr(ui.auth, "class_mode", lambda: True)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert owners_column(at) == [BOB.id, ALICE.id]  # newest first
    monkeypatch.setattr(ui.auth, "class_mode", lambda: False)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception and owners_column(at) is None
