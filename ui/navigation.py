"""The app's pages in one place: the entry point builds the navigation from it and pages link with it.

Paths are absolute so a page script also runs on its own (AppTest runs one page at a time). The folder is
`app_pages/`, not `pages/`: Streamlit decides at start-up whether a `pages/` folder beside the entry script
means the legacy multipage mode, and then a first visit straight to e.g. /train runs that page alone,
without the navigation, until someone opens the home page."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).resolve().parent.parent / "app_pages"

# name -> (title, icon); the order is the sidebar's.
PAGES = {
    "home": ("Home", ":material/home:"),
    "architecture": ("Architecture", ":material/account_tree:"),
    "train": ("Train", ":material/model_training:"),
    "degradation": ("Degradation", ":material/stacked_line_chart:"),
    "gradients": ("Gradients", ":material/gradient:"),
    "responses": ("Responses", ":material/equalizer:"),
    "explain": ("Explain", ":material/image_search:"),
}


def page(name: str) -> st.Page:
    title, icon = PAGES[name]
    return st.Page(PAGES_DIR / f"{name}.py", title=title, icon=icon, default=name == "home",
                   url_path="" if name == "home" else name)
