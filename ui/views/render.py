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
    """The view's title, figure (keyed: `key`), caption, table, verdicts and notes, in that order."""
    if view.title:
        getattr(st, title_level)(view.title)
    if view.figure is not None:
        st.plotly_chart(view.figure, width="stretch", key=key)
    if view.caption:
        st.caption(view.caption)
    if view.table is not None:
        st.dataframe(view.table, hide_index=True, width="stretch", placeholder="—")  # not the browser's "None"
    for verdict in view.verdicts:
        show_verdict(verdict)
    for note in view.notes:
        st.caption(note)
