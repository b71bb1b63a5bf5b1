"""Reference runs in the pages: the shipped bundle (resnet_core/studies/reference.py) beside the user's runs,
a sidebar toggle that hides it (remembered for the session), and the label that says where it came from."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from resnet_core.presentation.describe import describe_provenance
from resnet_core.presentation.i18n import N_, _
from resnet_core.store.run_store import Run, RunStore
from resnet_core.studies.reference import RunView, bundle_dir, is_reference, open_reference, read_provenance
from ui.runs import get_runner

# Session key: whether reference runs are shown. Each page has its own toggle widget (key TOGGLE_KEY.<page>):
# Streamlit drops a widget's state on pages that do not draw it, and one key shared by pages showed a stale
# value after navigating; so each toggle starts from this value and writes it back when changed.
SHOW_KEY = "reference.show"
TOGGLE_KEY = "reference.toggle"
BADGE = N_(":gray-badge[:material/verified: reference]")


@st.cache_resource(show_spinner=False)
def _reference_for(bundle: str) -> RunStore | None:
    """The bundle opened (copied to the cache once per server and bundle version)."""
    return open_reference(Path(bundle))


def reference_store() -> RunStore | None:
    """The reference runs' store, or None when there is no bundle (or RESNET_LAB_REFERENCE=off)."""
    bundle = bundle_dir()
    return _reference_for(str(bundle.resolve())) if bundle is not None else None


def shown() -> bool:
    return bool(st.session_state.get(SHOW_KEY, True))


def _remember(key: str) -> None:
    st.session_state[SHOW_KEY] = st.session_state[key]


def runs_view(page: str) -> RunView:
    """The runs page `page` shows: the user's, and the reference runs unless hidden. Draws the sidebar
    toggle that hides them (when there is a bundle), key "reference.toggle.<page>"; stops the page like
    `get_runner` if the user's store is damaged."""
    access = get_runner()
    user, visible = access.runner.store, access.store.visible  # the runs this viewer may see (class mode)
    reference = reference_store()
    if reference is None:
        return RunView(user, visible=visible)
    key = f"{TOGGLE_KEY}.{page}"
    st.sidebar.toggle(
        _("Show reference runs"),
        value=shown(),
        key=key,
        on_change=_remember,
        args=(key,),
        help=_(
            "Runs shipped with the app (marked *reference*), so these pages have results before "
            "you train. Your own runs are shown either way."
        ),
    )
    return RunView(user, reference if shown() else None, visible=visible)


def provenance_line(view: RunView) -> str:
    """Where the reference runs came from, for a caption."""
    return describe_provenance(read_provenance(view.reference.root)) if view.reference is not None else ""


def reference_note(view: RunView, runs: list[Run]) -> None:
    """A badge and a caption naming where the reference runs among `runs` came from (nothing if none)."""
    if view.reference is None or not any(is_reference(r) for r in runs):
        return
    st.markdown(
        _(
            "{badge} Runs marked **reference** ship with the app, so this page has results before "
            "you train; your own runs appear beside them. Hide them with *Show reference runs* in "
            "the sidebar."
        ).format(badge=_(BADGE))
    )
    st.caption(_("The reference runs were {provenance}.").format(provenance=provenance_line(view)))
