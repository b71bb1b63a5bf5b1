"""The app's one job runner, the runs a user is looking at (kept in the URL), and status badges."""

from __future__ import annotations

import functools

import streamlit as st

from resnet_core.execution.access import RunAccess
from resnet_core.execution.jobs import JobRunner, standby_command, standby_wanted
from resnet_core.presentation.i18n import _
from resnet_core.presentation.reports import status_word
from resnet_core.store.reader import LiveReader
from resnet_core.store.run_store import Run, StoreCorrupt, move_aside, runs_dir
from ui.auth import access_for

MOVED = "store.moved"  # session key: where a damaged store was moved, to say so once

SELECTED_KEY = "runs"  # query parameter and session key: comma-separated run ids

BADGES = {  # status -> (colour, icon): the one source of a status's look (badges, the sidebar's links)
    "queued": ("gray", ":material/schedule:"),
    "running": ("blue", ":material/play_arrow:"),
    "completed": ("green", ":material/check:"),
    "stopped": ("orange", ":material/stop:"),
    "diverged": ("red", ":material/trending_up:"),
    "failed": ("red", ":material/error:"),
    "interrupted": ("violet", ":material/pause:"),
}


_MADE: dict[str, JobRunner] = {}  # the runners _runner_for made, by folder: what release_runner shuts down


@st.cache_resource(show_spinner=False)
def _runner_for(root: str) -> JobRunner:
    # Its standby worker renders the embedded dataset while it waits, on a fresh install: the first press of
    # Train then does not wait for it (BENCHMARKS.md, "Time to first point").
    runner = JobRunner(root, standby=standby_wanted() and functools.partial(standby_command, prepare="shapes"))
    _MADE[root] = runner
    return runner


def release_runner(root: str, kill_workers: bool = True) -> None:
    """Shut down the job runner kept for the runs folder `root` (a resolved path), if one was made — never
    starting one to do so — and forget it and its live reader (a damaged store moved aside; a test's end)."""
    runner = _MADE.pop(root, None)
    if runner is not None:
        runner.shutdown(kill_workers=kill_workers)
    _runner_for.clear(root)
    _reader_for.clear(root)


@st.cache_resource(show_spinner=False)
def _reader_for(root: str) -> LiveReader:
    return LiveReader(_runner_for(root).store)


def live_reader() -> LiveReader:
    """The server's one LiveReader: the live views of every session and tab share its reads of a run (one
    small query a second, however many watch). StoreCorrupt like `shared_runner`."""
    return _reader_for(str(runs_dir().resolve()))


def shared_runner() -> JobRunner:
    """One runner per runs folder for the whole server, shared by every session and tab (StoreCorrupt if
    its run store is damaged)."""
    return _runner_for(str(runs_dir().resolve()))


def get_runner() -> RunAccess:
    """The shared runner as this session's viewer may use it (ui/auth.access_for: every action checked, the
    runs they may not see hidden from every read), for a page that needs the run store: if the store is
    damaged, the page says so, offers to move it aside (`damaged_store`) and stops here."""

    try:
        runner = shared_runner()
    except StoreCorrupt as err:
        damaged_store(err)
        st.stop()
    if MOVED in st.session_state:
        st.success(
            _("The damaged run store was kept as `{pop}`; this is a new, empty one.").format(
                pop=st.session_state.pop(MOVED)
            )
        )
    return access_for(runner)


def damaged_store(err: StoreCorrupt) -> None:
    """What a damaged run store means, and a button that moves it aside (kept, renamed) for a new one."""
    path = str(err.path).replace("`", "'")
    st.error(
        _(
            "**The run store `{path}` is damaged** and cannot be read. Nothing was changed. Move it "
            "aside to start a new, empty store: the file is kept under a new name, and the run "
            "folders and their checkpoints stay. Or put back a copy you trust, then reload the page."
        ).format(path=path),
        icon=":material/error:",
    )
    st.caption(_("SQLite says: {detail}").format(detail=err.detail))
    if st.button(_("Move it aside and start a new run store"), key="store.new", type="primary"):
        release_runner(str(err.path.parent.resolve()), kill_workers=False)  # if one was running
        st.session_state[MOVED] = str(move_aside(err.path))
        st.rerun()


SNAPSHOT = "runs.snapshot"  # session key: the runs app.py read at the start of this rerun, for the page
DRAWN = "runs.drawn"  # session key: what the last full rerun showed of each run (`_shown_state`)
JUST_READ = "runs.just_read"  # session key: the page read the runs in this very rerun


def _shown_state(runs: list[Run]) -> dict[str, tuple]:
    """What a status shows of each run: its status, and for an active run its epoch (the table's "2/6")."""
    return {r.id: (r.status, int(r.progress.get("epoch") or 0) if r.active else None) for r in runs}


def take_snapshot(store) -> list[Run]:
    """Every run, read once at the start of a rerun (app.py: the sidebar's "Active runs"), and kept for the
    page of this rerun (`read_runs`): the sidebar, the "All runs" table and the "Runs shown" chips then
    show the same statuses."""
    runs = store.list()
    st.session_state[SNAPSHOT] = runs
    st.session_state[DRAWN] = _shown_state(runs)
    return runs


def read_runs(store) -> list[Run]:
    """The runs this rerun shows: app.py's snapshot of this rerun, or (a page run on its own, as in tests)
    one read of the store."""
    runs = st.session_state.pop(SNAPSHOT, None)
    if runs is None:
        runs = store.list()
    st.session_state[DRAWN] = _shown_state(runs)
    st.session_state[JUST_READ] = True
    return runs


def follow_statuses(store) -> None:
    """For a live view's poll (a fragment rerun, which redraws only the fragment): rerun the whole app when a
    run's status or epoch changed since the page was drawn, so every place a status shows is redrawn."""
    if st.session_state.pop(JUST_READ, False):  # this is the page's own run: it has just read them
        return
    drawn = st.session_state.get(DRAWN)
    if drawn is not None and _shown_state(store.list()) != drawn:
        st.rerun(scope="app")


def default_selection(runs: list[Run]) -> list[str]:
    """The runs a page shows without a link: the active ones, the newest, and the runs started together with
    the newest (its twin, stopped or not: a pair is shown as a pair)."""
    if not runs:
        return []
    latest = runs[-1]
    together = [r.id for r in runs if latest.config.experiment and r.config.experiment == latest.config.experiment]
    return list(dict.fromkeys([r.id for r in runs if r.active] + together + [latest.id]))


def selected_ids() -> list[str]:
    if SELECTED_KEY not in st.session_state:
        raw = st.query_params.get(SELECTED_KEY, "")
        st.session_state[SELECTED_KEY] = [i for i in raw.split(",") if i]
    return list(st.session_state[SELECTED_KEY])


def set_selected(ids: list[str]) -> None:
    ids = list(dict.fromkeys(ids))  # unique, in order
    st.session_state[SELECTED_KEY] = ids
    if ids:
        st.query_params[SELECTED_KEY] = ",".join(ids)
    elif SELECTED_KEY in st.query_params:
        del st.query_params[SELECTED_KEY]


def badge(run: Run) -> str:
    """Markdown for a coloured status badge."""
    color, icon = BADGES[run.status]
    return f":{color}-badge[{icon} {status_word(run.status)}]"
