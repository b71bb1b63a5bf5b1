"""Why residual nets train: the lesion study, the loss landscape and shattered gradients, on trained twins.

A router: the view state (the pair, the tab, each experiment's settings) lives in the URL (ui/view_state.py),
the figures and their verdicts come from ui/views/why.py, and this script lays them out."""

import streamlit as st

from resnet_core.presentation import why_text as text
from resnet_core.presentation.i18n import _
from ui.language import use_language
from ui.live import live_fragment
from ui.navigation import leave_pages_directory_mode
from ui.reference import runs_view
from ui.threads import share_cpu_with_training
from ui.view_state import presenting
from ui.views import why as views
from ui.views.render import show_view

leave_pages_directory_mode()  # before anything else: see ui/navigation.py
use_language()  # the words of this run: see ui/language.py
share_cpu_with_training()  # torch threads beside the runs training here: see ui/threads.py

state = views.VIEW_STATE
state.load()
controls = not presenting()

st.title(_("Why residual nets train"))
st.markdown(_(text.PAGE_INTRO))
store = runs_view("why")  # the user's runs and, unless hidden in the sidebar, the reference runs
pairs = views.pairs_by_key(store)
pair = views.pick_pair(store, pairs, controls)
tab = state.value("tab") if pairs else "shattered"  # without a pair, the toy: it needs no training


if tab == "lesion" and pair is not None:
    st.markdown(_(text.LESION_INTRO))

    def lesion() -> None:
        with st.spinner(_("Deleting blocks one at a time…")):
            found = views.lesion_analyses(store, pair)
        show_view(views.lesion_view(store, pair), key="why.lesion")
        if found.done:
            show_view(views.lesion_k_view(store, pair), key="why.lesion.k")
        views.analysis_controls(found, "why.lesion", _("Compute the lesion study"), controls)

    live_fragment(lesion, "why.lesion", bool(views.lesion_analyses(store, pair, compute_small=False).active), 1.0)

if tab == "landscape" and pair is not None:
    st.markdown(_(text.LANDSCAPE_INTRO))
    if controls:
        cols = st.columns(3)
        cols[0].select_slider(_("Grid (points per side)"), state.params["steps"].choices, key=state.key("steps"))
        cols[1].select_slider(
            _("Span (±)"), state.params["span"].choices, key=state.key("span"), help=_(text.SPAN_HELP)
        )
        cols[2].toggle(_("3-D surface"), key=state.key("surface"))
    steps, span = state.value("steps"), state.value("span")

    def landscape() -> None:
        found = views.landscape_analyses(store, pair, steps, span)
        for i, view in enumerate(views.landscape_view(store, pair, steps, span, state.value("surface"))):
            show_view(view, key=f"why.landscape.{i}" if i else "why.landscape")
        views.analysis_controls(found, "why.landscape", _("Compute the landscapes"), controls)

    live_fragment(landscape, "why.landscape", bool(views.landscape_analyses(store, pair, steps, span).active), 1.0)

if tab == "shattered":
    st.markdown(_(text.SHATTERED_INTRO))
    st.subheader(_(text.TOY_TITLE))
    if controls:
        cols = st.columns([3, 1])
        cols[0].select_slider(_("Depth (layers or blocks)"), state.params["depth"].choices, key=state.key("depth"))
        cols[1].number_input(_("Seed"), 0, 999, key=state.key("seed"))
    views.side_by_side(views.toy_shattered_view(state.value("depth"), state.value("seed")), "why.toy")
    if pair is not None:
        st.subheader(_(text.SHATTERED_LINE_TITLE))
        if controls:
            cols, weights = st.columns([3, 1]), text.WEIGHTS
            cols[0].radio(
                _("Weights"), list(weights), format_func=weights.get, horizontal=True, key=state.key("weights")
            )
            cols[1].select_slider(_("Points on the line"), state.params["points"].choices, key=state.key("points"))
        points, weights = state.value("points"), state.value("weights")
        ready = views.lines_ready(store, pair, points, weights)
        go = not ready and controls and st.button(_("Compute the gradients"), key="why.line.start")
        views.side_by_side(views.shattered_view(store, pair, points, weights, compute=go), "why.line")
state.save()
