"""The sidebar's list of active runs (app.py): each a link to the Train page showing that run."""

import streamlit as st

from resnet_core.presentation.i18n import _
from resnet_core.presentation.reports import run_label, status_word
from resnet_core.presentation.text import markdown_text
from resnet_core.store.run_store import Run
from ui.language import with_language
from ui.navigation import page
from ui.runs import BADGES, SELECTED_KEY


def active_runs(runs: list[Run]) -> None:
    if not runs:
        return
    st.caption(_("Active runs"))
    for run in runs:
        st.page_link(
            page("train"),
            label=markdown_text(f"{run_label(run)} · {status_word(run.status)}"),
            icon=BADGES[run.status][1],  # the icon of the run's badge in the tables
            query_params=with_language({SELECTED_KEY: run.id}),
        )
