"""Laying out a View: the one place that decides how a figure, its caption and its verdicts look."""

from __future__ import annotations

import streamlit as st

from resnet_core.presentation.views import Verdict, View

_ALERTS = {  # verdict kind -> (alert, icon)
    "agrees": (st.success, ":material/check_circle:"),
    "disagrees": (st.warning, ":material/error:"),
    "too_close": (st.info, ":material/balance:"),
    "untrained": (st.warning, ":material/block:"),
    "pending": (st.info, ":material/hourglass_empty:"),
}


def show_verdict(verdict: Verdict) -> None:
    alert, icon = _ALERTS[verdict.kind]
    alert(verdict.text, icon=icon)


def show_view(view: View, *, key: str, title_level: str = "subheader") -> None:
    """The view's title, figure (keyed: `key`), caption, table (static), verdicts and notes, in that order."""
    if view.title:
        getattr(st, title_level)(view.title)
    if view.figure is not None:
        st.plotly_chart(view.figure, width="stretch", key=key)
    if view.caption:
        st.caption(view.caption)
    if view.table is not None:
        # A static table: a view's table is a few rows (a figure's numbers), and the data grid's code (over 1 MB)
        # would load on a page's first open for them (BENCHMARKS.md, "First open of every page"). A missing
        # value is the view's to write (its Styler's na_rep: NO_VALUE), not the browser's "None".
        st.table(view.table, hide_index=True)
    for verdict in view.verdicts:
        show_verdict(verdict)
    for note in view.notes:
        st.caption(note)
