"""The app's one job runner, the runs a user is looking at (kept in the URL), and status badges."""

from __future__ import annotations

import streamlit as st

from resnet_core.runs.jobs import JobRunner
from resnet_core.runs.store import Run, runs_dir

SELECTED_KEY = "runs"  # query parameter and session key: comma-separated run ids

BADGES = {  # status -> (colour, icon)
    "queued": ("gray", ":material/schedule:"),
    "running": ("blue", ":material/play_arrow:"),
    "completed": ("green", ":material/check:"),
    "stopped": ("orange", ":material/stop:"),
    "diverged": ("red", ":material/trending_up:"),
    "failed": ("red", ":material/error:"),
    "interrupted": ("violet", ":material/pause:"),
}


@st.cache_resource(show_spinner=False)
def _runner_for(root: str) -> JobRunner:
    return JobRunner(root)


def get_runner() -> JobRunner:
    """One runner per runs folder for the whole server, shared by every session and tab."""
    return _runner_for(str(runs_dir().resolve()))


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
    return f":{color}-badge[{icon} {run.status}]"
