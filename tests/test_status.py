"""The run-status state machine (store/status.py): one table of moves, enforced by the store for runs and
for analyses, and the one spelling of "active" and "resumable"."""

import ast
import os
from pathlib import Path

import pytest

import resnet_core as rc
from resnet_core.store.run_store import RunStore
from resnet_core.store.status import (
    ACTIVE,
    ENDINGS,
    FINAL,
    RESUMABLE,
    STATUSES,
    TRANSITIONS,
    RunStatus,
    check_transition,
)
from resnet_core.studies.analyses import Analyses

SPEC = rc.NetSpec(depth=8, width=4)
ROOT = Path(__file__).resolve().parent.parent


def test_the_table_covers_every_status_and_names_only_statuses():
    assert set(TRANSITIONS) == set(STATUSES) == {s.value for s in RunStatus}
    assert all(set(targets) <= set(STATUSES) for targets in TRANSITIONS.values())
    assert ACTIVE == ("queued", "running") and RESUMABLE == ("stopped", "interrupted")


def test_ended_runs_stay_ended_and_the_others_can_move_on():
    for status in FINAL:
        assert TRANSITIONS[status] == frozenset(), status
    for status in set(STATUSES) - set(FINAL):
        assert TRANSITIONS[status], status
    # How a run starts, is stopped while queued, resumes, and ends every way train() ends it.
    assert "running" in TRANSITIONS["queued"] and "stopped" in TRANSITIONS["queued"]
    assert all("queued" in TRANSITIONS[s] for s in RESUMABLE)
    assert all(end in TRANSITIONS["running"] for end in ENDINGS)
    assert not any("queued" in TRANSITIONS[s] for s in ("queued", "running", *FINAL))  # only resuming requeues


def test_every_move_the_table_forbids_raises_in_the_store_and_every_other_is_made(tmp_path):
    store = RunStore(tmp_path / "runs")
    for old in STATUSES:
        for new in STATUSES:
            run_id = store.create(SPEC, {}, status=old)
            if new in TRANSITIONS[old]:
                store.set_status(run_id, new, pid=os.getpid() if new == "running" else None)
                assert store.get(run_id).status == new
            else:
                with pytest.raises(ValueError, match=f"that is {old} cannot become {new}"):
                    store.set_status(run_id, new)
                assert store.get(run_id).status == old  # nothing changed


def test_a_finished_run_cannot_be_claimed_or_resumed(tmp_path):
    store = RunStore(tmp_path / "runs")
    done = store.create(SPEC, {}, status="completed")
    assert not store.claim(done, pid=os.getpid())
    with pytest.raises(ValueError, match="only stopped or interrupted runs can resume"):
        store.get(done).require_resumable()
    with pytest.raises(ValueError, match="it can become nothing: it has ended"):
        store.set_status(done, "queued")
    with pytest.raises(KeyError):
        store.set_status("no-such-run", "running")


def test_analyses_move_by_the_same_table(tmp_path):
    store = RunStore(tmp_path / "runs")
    analyses = Analyses(store)
    run_id = store.create(SPEC, {}, status="completed")
    first = analyses.create(run_id, "landscape", {"steps": 3})
    analyses.set_status(first, "running", pid=os.getpid())
    analyses.set_status(first, "completed", result={"complete": True})
    with pytest.raises(ValueError, match="an analysis that is completed cannot become running"):
        analyses.set_status(first, "running")
    with pytest.raises(ValueError, match="not valid"):  # an analysis never diverges
        analyses.set_status(first, "diverged")
    second = analyses.create(run_id, "lesion", {})
    analyses.request_stop(second)
    assert analyses.get(second).status == "stopped" and not analyses.get(second).active
    assert analyses.get(first).result == {"complete": True}


def test_check_transition_names_what_is_allowed():
    with pytest.raises(ValueError, match=r"\(it can become failed, interrupted, running, stopped\)"):
        check_transition("queued", "completed")
    with pytest.raises(ValueError, match="not valid"):
        check_transition("queued", "done")


def test_train_ends_runs_only_in_the_endings_the_table_knows():
    """train() (training/, below the store) spells its end statuses itself: they must be ENDINGS."""
    tree = ast.parse((ROOT / "resnet_core" / "training" / "train.py").read_text())
    assigned = {
        node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and any(isinstance(t, ast.Name) and t.id == "status" for t in node.targets)
    }
    ends = {
        elt.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple)
        for t, elt in zip(getattr(node.targets[0], "elts", []), node.value.elts)
        if isinstance(t, ast.Name) and t.id == "status" and isinstance(elt, ast.Constant)
    }
    assert assigned | ends == set(ENDINGS)


def test_a_status_looks_the_same_in_the_tables_and_in_the_sidebar():
    from streamlit.testing.v1 import AppTest

    from ui.runs import BADGES

    assert set(BADGES) == set(STATUSES)

    def sidebar():
        import resnet_core as rc
        from resnet_core.store.config import RunConfig
        from resnet_core.store.run_store import Run
        from ui.sidebar import active_runs

        active_runs(
            [
                Run(f"r{i}", "a run", rc.NetSpec(depth=8), RunConfig(), "shapes", None, s, 0.0, 0.0)
                for i, s in enumerate(("running", "queued"))
            ]
        )

    at = AppTest.from_function(sidebar).run()
    assert not at.exception, at.exception
    assert [link.proto.icon for link in at.get("page_link")] == [BADGES["running"][1], BADGES["queued"][1]]
