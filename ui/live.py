"""Live views: a fragment that polls the run store while something runs, and stops when nothing does."""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

import streamlit as st

from resnet_core.store.run_store import StoreCorrupt
from ui.language import in_language
from ui.runs import damaged_store


def live_fragment(view: Callable[[], None], key: str, active: bool, every: float) -> None:
    """Draw `view` as a fragment that reruns every `every` seconds while `active` and the tab is in view.

    A fragment's interval is fixed when the page runs, so when the view sees the activity change
    (`polling_changed`), the whole page reruns once to start or stop polling (no `while True`, and no
    polling at all when nothing runs). A tab in the background does not poll either (`tab_visible`): each
    rerun costs its browser CPU on the cores the training uses, and nobody sees it; the page reruns, with
    the newest data, when the tab comes back to the front."""
    st.session_state[f"{key}.was_active"] = active
    st.fragment(in_language(_naming_damage(view)), run_every=every if active and tab_visible() else None)()


# Vanilla JS for Streamlit's components v2 (no build step): report whether this browser tab is in view
# (the Page Visibility API; a browser hides a tab behind others and a minimised window) as the component's
# state. Setting the state reruns the page even with an unchanged value, so it is set only when it differs
# from what the server holds (`data.visible`): at mount in a hidden tab, and at each change. Streamlit calls
# the function again when `data` changes and keeps only the newest cleanup, so the listener is kept at module
# level (the module is loaded once per page) and replaced rather than added.
_VISIBILITY_JS = """
let stop = null;
export default function ({ data, setStateValue }) {
  if (stop) stop();
  let held = !data || data.visible !== false;
  const report = () => {
    const visible = document.visibilityState !== "hidden";
    if (visible !== held) {
      held = visible;
      setStateValue("visible", visible);
    }
  };
  document.addEventListener("visibilitychange", report);
  report();
  const remove = () => {
    document.removeEventListener("visibilitychange", report);
    if (stop === remove) stop = null;
  };
  stop = remove;
  return remove;
}
"""
_KEY = "tab.visibility"


@functools.cache
def _visibility():
    """Registered at first use, in a page run (not at import: outside a run Streamlit warns)."""
    return st.components.v2.component("resnet_lab.tab_visibility", js=_VISIBILITY_JS)


def tab_visible() -> bool:
    """Whether this session's browser tab is in view (True until its browser says otherwise, so a browser
    without the component — AppTest — polls as before). Mounts an invisible element: call it once per page
    run, and only where it matters (a page that would poll), as a change reruns the page."""
    try:  # the element's state as this run received it ({"visible": …}; nothing before its first mount)
        held = st.session_state[_KEY]["visible"] is not False
    except (KeyError, TypeError):
        held = True
    state = _visibility()(
        key=_KEY, data={"visible": held}, default={"visible": True}, height=0, on_visible_change=lambda: None
    )
    return getattr(state, "visible", True) is not False


class FigureBoard:
    """The charts of live views, shared by every session and tab: built once per change of what they show
    (`LiveReader.version` of their runs) and, while runs train, at most every `every` seconds. An unchanged
    chart is the same figure, so the same element for the browser, which then does not draw it again —
    Streamlit keys a plotly chart by its data, so each new one is drawn from scratch, at a cost to the
    browser's CPU (BENCHMARKS.md, "Ten viewers of a training run")."""

    def __init__(self, max_sets: int = 64) -> None:
        self._lock = threading.Lock()
        self._sets: OrderedDict[Hashable, tuple[Hashable, float, list]] = OrderedDict()  # name -> version, when
        self.max_sets = max_sets

    def get(self, name: Hashable, version: Hashable, build: Callable[[], list], every: float = 0.0) -> list:
        now = time.monotonic()
        with self._lock:
            held = self._sets.get(name)
            if held is not None and (held[0] == version or now - held[1] < every):
                self._sets.move_to_end(name)
                return held[2]
        figures = build()  # outside the lock: another chart set need not wait for this one
        with self._lock:
            self._sets[name] = (version, now, figures)
            self._sets.move_to_end(name)
            while len(self._sets) > self.max_sets:
                self._sets.popitem(last=False)
        return figures


@st.cache_resource(show_spinner=False)
def figure_board() -> FigureBoard:
    """The server's one FigureBoard."""
    return FigureBoard()


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


STARTING_QUEUE_SECONDS = 10.0  # a run queued longer than this waits for a free worker: it is not starting


def run_starting(run, last_step: int, now: float) -> bool:
    """Whether `run` (last stored step `last_step`; -1: none) is in its first `log_every` steps, which the
    trainer logs one by one and a person who just pressed Train watches appear: running, or queued for less
    than STARTING_QUEUE_SECONDS. A run waiting behind others longer is not: the views polling faster for
    starting runs would poll fast for as long as it waits. `now`: time.time()."""
    if run.status == "queued":
        return now - run.created_at < STARTING_QUEUE_SECONDS
    return run.status == "running" and last_step <= run.config.log_every
