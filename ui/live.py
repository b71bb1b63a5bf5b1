"""Live views: a fragment that polls the run store while something runs, and stops when nothing does."""

from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

from resnet_core.runs.store import StoreCorrupt
from ui.runs import damaged_store


def live_fragment(view: Callable[[], None], key: str, active: bool, every: float) -> None:
    """Draw `view` as a fragment that reruns every `every` seconds while `active`.

    A fragment's interval is fixed when the page runs, so when the view sees the activity change
    (`polling_changed`), the whole page reruns once to start or stop polling (no `while True`, and no
    polling at all when nothing runs)."""
    st.session_state[f"{key}.was_active"] = active
    st.fragment(_naming_damage(view), run_every=every if active else None)()


def _naming_damage(view: Callable[[], None]) -> Callable[[], None]:
    """The view, saying what to do where the run store turns out damaged (never a traceback)."""

    @functools.wraps(view)  # the fragment keeps the view's identity
    def guarded() -> None:
        try:
            view()
        except StoreCorrupt as err:
            damaged_store(err)

    return guarded


def polling_changed(key: str, active: bool) -> None:
    """Called by the view with what it just read: rerun the page when polling must start or stop."""
    if active != st.session_state.get(f"{key}.was_active", False):
        st.session_state[f"{key}.was_active"] = active
        st.rerun()
