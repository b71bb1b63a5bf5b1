"""The app's pages in one place: the entry point builds the navigation from it and pages link with it.

Paths are absolute so a page script also runs on its own (AppTest runs one page at a time).

The pages live in `pages/`, the folder name Streamlit also reads as its older "pages directory" mode:
at start-up each server process decides once, from the folder's mere existence, to run a first request
such as /train by executing `pages/train.py` alone (no `app.py`, so no navigation and no sidebar of ours)
until some session has executed `st.navigation`. `leave_pages_directory_mode()`, the first call of
`app.py` and of every page, ends that mode for the process and reruns the request: the rerun goes through
`app.py`'s `st.navigation`, which picks the same page (a page's identity is the hash of its URL path in
both modes). tests/test_pages.py checks that every page calls it first; tests/test_browser_foundation.py opens
pages as a fresh server's first request.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from resnet_core.presentation.i18n import N_, _

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"

# name -> (title, icon); the order is the sidebar's. Titles are English msgids, translated when shown.
PAGES = {
    "home": (N_("Home"), ":material/home:"),
    "lesson": (N_("The lesson"), ":material/school:"),
    "architecture": (N_("Architecture"), ":material/account_tree:"),
    "train": (N_("Train"), ":material/model_training:"),
    "degradation": (N_("Degradation"), ":material/stacked_line_chart:"),
    "gradients": (N_("Gradients"), ":material/gradient:"),
    "responses": (N_("Responses"), ":material/equalizer:"),
    "explain": (N_("Explain"), ":material/image_search:"),
    "why": (N_("Why it works"), ":material/psychology:"),
}


def title(name: str) -> str:
    """The page's title in the run's language."""
    return _(PAGES[name][0])


def page(name: str) -> st.Page:
    icon = PAGES[name][1]
    return st.Page(
        PAGES_DIR / f"{name}.py",
        title=title(name),
        icon=icon,
        default=name == "home",
        url_path="" if name == "home" else name,
    )


def leave_pages_directory_mode() -> None:
    """If this server still runs pages without `app.py` (see the module docstring), stop that for good
    and rerun this request through `app.py`'s navigation."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
