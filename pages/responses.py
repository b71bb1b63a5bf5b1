"""Responses: how strongly each 3×3 layer responds in trained nets, as in the paper's Fig. 7."""

from dataclasses import replace

import streamlit as st

from resnet_core.presentation.i18n import _
from resnet_core.presentation.reports import run_label, status_word
from ui.language import use_language
from ui.navigation import leave_pages_directory_mode
from ui.reference import reference_note, runs_view
from ui.runs import SELECTED_KEY
from ui.view_state import Param, ViewState, presenting
from ui.views.render import show_verdict, show_view
from ui.views.responses import default_runs, last_epoch, recorded_runs, responses_view

leave_pages_directory_mode()  # before anything else: see ui/navigation.py
use_language()  # the words of this run: see ui/language.py

# `runs` is the parameter every page that shows runs reads (ui/runs.py); `epoch` 0 means each run's latest.
STATE = ViewState("resp", [Param(SELECTED_KEY, [], str, multi=True), Param("epoch", 0, int)])
STATE.load()
present = presenting()

st.title(_("Responses"))
st.markdown(
    _(
        "A residual block only has to learn what to *add* to its input. If identity is close to the best it can do, "
        "its layers should respond weakly. The paper measured this (Fig. 7): the standard deviation of each 3×3 "
        "layer's output — after BN, before the ReLU or the addition — on the test set."
    )
)
store = runs_view("responses")  # the user's runs and, unless hidden in the sidebar, the reference runs
runs = recorded_runs(store)
if not runs:
    st.info(
        _(
            "No run has finished an epoch yet. Train a few nets on the Train page — e.g. plain and residual "
            "twins at 20 and 56 layers — and come back: the trainer measures responses after every epoch."
        )
    )
    st.stop()

asked = STATE.value(SELECTED_KEY)
chosen = [i for i in asked if i in runs]
reason = ""
if not chosen:
    chosen, reason = default_runs(store, runs)
    if asked:
        reason = _("The link's runs are not here. ") + reason
if not present:
    key = STATE.key(SELECTED_KEY)
    if st.session_state.get(key) != chosen and not st.session_state.get("resp.touched"):
        st.session_state[key] = chosen  # the link's runs, or the informative default, until the user edits
    chosen = st.multiselect(
        _("Runs"),
        list(runs),
        format_func=lambda i: f"{run_label(runs[i])} · {status_word(runs[i].status)} · {i}",
        key=key,
        on_change=st.session_state.__setitem__,
        args=("resp.touched", True),
    )
if reason and not st.session_state.get("resp.touched"):
    st.caption(reason)
if not chosen:
    st.info(_("Choose one or more runs above."))
    STATE.save()
    st.stop()

reference_note(store, [runs[i] for i in chosen])
latest = last_epoch(store, chosen)
key = STATE.key("epoch")
if not 1 <= st.session_state.get(key, 0) <= latest:
    st.session_state[key] = latest  # 0 (the link's default) or beyond these runs: their latest epoch
if latest > 1 and not present:
    st.slider(
        _("Epoch"),
        1,
        latest,
        key=key,
        help=_("Responses after this epoch (a run that has not reached it shows its latest)."),
    )
epoch = st.session_state[key]
if present:
    STATE.set(SELECTED_KEY, chosen)
view = responses_view(store, chosen, epoch)
show_view(replace(view, verdicts=[], notes=[]), key="resp.chart")
st.subheader(_("What the paper found, and what your runs show"))
st.markdown(
    _(
        "He et al. (§4.2): *ResNets have generally smaller responses than their plain counterparts*, and *the "
        "deeper ResNet has smaller magnitudes of responses* — the residual functions stay close to zero."
    )
)
for verdict in view.verdicts:
    show_verdict(verdict)
for note in view.notes:
    st.info(note)
STATE.save()
if epoch == latest and "epoch" in st.query_params:
    del st.query_params["epoch"]  # the latest epoch is the default: a link keeps following the runs
