"""The app's pages in one place: the entry point builds the navigation from it and pages link with it.

Paths are absolute so a page script also runs on its own (AppTest runs one page at a time).

The pages live in `pages/`, the folder name Streamlit also reads as its older "pages directory" mode:
at start-up each server process decides once, from the folder's mere existence, to run a first request
such as /train by executing `pages/train.py` alone (no `app.py`, so no navigation and no sidebar of ours)
until some session has executed `st.navigation`. `leave_pages_directory_mode()`, the first call of
`app.py` and of every page, ends that mode for the process and reruns the request: the rerun goes through
`app.py`'s `st.navigation`, which picks the same page (a page's identity is the hash of its URL path in
both modes). tests/test_browser_foundation.py opens every page's URL as a fresh server's first request.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"

# name -> (title, icon); the order is the sidebar's.
PAGES = {
    "home": ("Home", ":material/home:"),
    "lesson": ("The lesson", ":material/school:"),
    "architecture": ("Architecture", ":material/account_tree:"),
    "train": ("Train", ":material/model_training:"),
    "degradation": ("Degradation", ":material/stacked_line_chart:"),
    "gradients": ("Gradients", ":material/gradient:"),
    "responses": ("Responses", ":material/equalizer:"),
    "explain": ("Explain", ":material/image_search:"),
    "why": ("Why it works", ":material/psychology:"),
}


def page(name: str) -> st.Page:
    title, icon = PAGES[name]
    return st.Page(
        PAGES_DIR / f"{name}.py",
        title=title,
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
