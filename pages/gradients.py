"""Gradients: per-layer gradient norms at initialisation (plain vs residual) and during training runs."""

from dataclasses import replace

import streamlit as st

from resnet_core.presentation.i18n import _
from ui.language import use_language, with_language
from ui.navigation import leave_pages_directory_mode, page
from ui.reference import reference_note, runs_view
from ui.threads import share_cpu_with_training
from ui.view_state import presenting
from ui.views import gradients as views
from ui.views.render import show_verdict, show_view

leave_pages_directory_mode()  # before anything else: see ui/navigation.py
use_language()  # the words of this run: see ui/language.py
share_cpu_with_training()  # torch threads beside the runs training here: see ui/threads.py

DEPTHS, TABS, WAIT, STATE = views.DEPTHS, views.TABS, views.WAIT, views.VIEW_STATE
STATE.load()
present = presenting()

st.title(_("Gradients"))
st.markdown(
    _(
        "How large is each layer's gradient? If gradients *vanished* toward the input, the first layers could not "
        "learn. The paper's point (§4.1) is subtle: with BatchNorm they do **not** vanish, even in deep plain nets — "
        "and yet those nets train worse."
    )
)
if present:
    tab = STATE.value("tab")
    at_init, during = (st.container(), None) if tab == "init" else (None, st.container())
else:
    at_init, during = st.tabs(list(TABS.values()), default=TABS[STATE.value("tab")], key="grad.tabs", on_change="rerun")
    # the open tab's label, in this run's language (after a switch of language: the one the URL kept)
    opened = st.session_state.get("grad.tabs")
    STATE.set("tab", next((k for k, label in TABS.items() if label == opened), STATE.value("tab")))
    # Each tab's content is computed and drawn only when it is open: its nets, and the other tab's three
    # figures, which a first open would otherwise draw hidden (BENCHMARKS.md, "First open of every page").
    at_init = at_init if at_init.open is not False else None
    during = during if during.open is not False else None

if at_init is not None:
    with at_init:
        if not present:
            views.init_controls(STATE.key, DEPTHS)
        args = [STATE.value(n) for n in ("depth", "norm", "activation", "preact", "batch")]
        asked = st.session_state.pop("grad.computing", False)
        view = views.init_gradients_view(*args, STATE.value("shown") or [], allow_seconds=None if asked else WAIT)
        if view.figure is None:
            show_verdict(view.verdicts[0])
            st.button(
                (
                    _("Compute (at least {estimate:.0f} s)")
                    if view.estimate_is_floor
                    else _("Compute (about {estimate:.0f} s)")
                ).format(estimate=view.estimate),
                key="grad.compute",
                type="primary",
                on_click=st.session_state.__setitem__,
                args=("grad.computing", True),
            )
        else:
            chart, text = st.columns([3, 1.5], gap="large")
            with chart:
                show_view(replace(view, title=""), key="grad.init.chart")
            with text:
                for label, value, help_text in view.metrics:
                    st.metric(label, value, help=help_text or None)
                for paragraph in view.explanation:
                    st.markdown(paragraph)
                if STATE.value("norm") == "batch" and not present:
                    st.page_link(
                        page("degradation"),
                        label=_("See degradation happen"),
                        icon=":material/stacked_line_chart:",
                        query_params=with_language(),
                    )

if during is not None:
    with during:
        store = runs_view("gradients")  # the user's runs and, unless hidden in the sidebar, the reference runs
        choice = views.training_choice(store, STATE.value("runs"))
        if choice is None:
            st.info(
                _(
                    "No run has recorded gradients yet. Start one on the Train page; the trainer records every "
                    "layer's gradient norm every few steps."
                )
            )
        else:
            runs = choice.runs
            first, second = choice.first, choice.second
            if not present:
                first, second = views.choose_runs(store, choice)
            shown = [i for i in (first, second) if i]
            STATE.set("runs", shown)
            if choice.reason and shown == [choice.first, choice.second]:
                st.caption(choice.reason)
            reference_note(store, [runs[i] for i in shown])
            training = views.training_gradients_view(store, shown)
            st.markdown(f"**{training.title}.** {training.caption}")
            for col, (run_id, heatmap) in zip(st.columns(len(shown)), training.heatmaps):
                col.plotly_chart(heatmap.figure, width="stretch", key=f"heat.{run_id}")
            steps = training.steps
            key = f"grad.step.{'.'.join(shown)}"
            step = steps[0] if present else st.select_slider(_("Step"), steps, value=steps[0], key=key)
            view = views.step_view(training, step)
            show_view(replace(view, title="", notes=[]), key="grad.step")
            for note in view.notes:
                st.markdown(note)
STATE.save()
