"""Degradation: the paper's Fig. 6 in one click — plain and residual nets at several depths."""

import dataclasses

import streamlit as st

import resnet_core as rc
from resnet_core.data.catalog import DATASETS
from resnet_core.presentation.describe import describe_progress
from resnet_core.presentation.i18n import _
from resnet_core.presentation.reports import depth_table_csv
from resnet_core.studies.experiments import (
    cifar_available,
    depth_table,
    device_presets,
    experiment_progress,
    experiment_runs,
    experiments,
)
from ui.language import use_language
from ui.live import live_fragment, polling_changed
from ui.navigation import leave_pages_directory_mode
from ui.reference import reference_note, runs_view
from ui.runs import badge, follow_statuses, get_runner, read_runs
from ui.view_state import Param, ViewState, presenting
from ui.views import degradation as views
from ui.views.render import show_verdict, show_view

leave_pages_directory_mode()  # before anything else: see ui/navigation.py
use_language()  # the words of this run: see ui/language.py

STARTED = "deg.started"  # the experiment this session started last: its runs are not "already queued"

runner = get_runner()
view = runs_view("degradation")  # the user's runs and, unless hidden in the sidebar, the shipped reference runs
store = runner.store  # where new runs go
read_runs(store)  # what the sidebar shows of the runs, for `follow_statuses`


@st.cache_data(ttl=300, show_spinner=False)
def cifar_here() -> bool:
    return cifar_available()


device = rc.pick_device()
presets = device_presets(device.type, device.type == "cuda" and cifar_here())
known, default, why = views.experiment_choices(view)
state = ViewState(
    "deg",
    [
        Param("exp", None, choices=known),
        Param("preset", 0, int, choices=range(len(presets))),
        Param("data", presets[0].dataset, str, DATASETS),  # the preset's dataset: any whose files are here
    ],
)
state.load()
controls = not presenting()

st.title(_("Degradation"))
if controls:
    st.markdown(
        _(
            "The paper's central surprise (He et al. 2015, Fig. 6): stack more layers on a *plain* net and its "
            "**training** error goes *up* — a deeper net could copy the shallower one and set its extra layers to "
            "identity, so this is not overfitting but an optimisation difficulty. With shortcuts, the deeper net is "
            "no worse. One click trains both kinds at several depths, the same way."
        )
    )
    started = views.start_form(runner, presets, state, expanded=not known, started=st.session_state.get(STARTED))
    if started:
        st.session_state[STARTED] = started
        state.set("exp", started)  # before the picker is drawn: the new experiment is the one shown
        known = experiments(view)

if not known:
    st.info(_("No experiment yet: press the button above. Results appear here while the nets train."))
    st.stop()
if state.value("exp") not in known:  # no link, or its experiment was deleted or hidden
    state.set("exp", default)
if controls:
    st.selectbox(_("Experiment"), known, key=state.key("exp"), format_func=views.experiment_label)
experiment = state.value("exp")
state.save()
if experiment == default and why:
    st.caption(why)


def results() -> None:
    follow_statuses(store)  # a status changed since the page was drawn: redraw all of it (and the sidebar)
    runs = experiment_runs(view, experiment)
    active = any(r.active for r in runs)
    reference_note(view, runs)
    if controls:
        st.markdown(
            " ".join(f"{badge(r)} {r.spec.name}" for r in sorted(runs, key=lambda r: (r.spec.depth, r.spec.skip)))
        )
    if active:
        progress = experiment_progress(view, runs, runner.max_parallel or 1)
        st.progress(progress.epochs_done / max(progress.epochs_total, 1), text=describe_progress(progress))
    halves = {kind: views.fig6_view(view, experiment, kind) for kind in ("plain", "residual")}
    for column, (kind, half) in zip(st.columns(2), halves.items()):
        with column:
            show_view(dataclasses.replace(half, caption="", verdicts=[]), key=f"deg.fig6.{kind}")
    st.caption(_(views.FIG6_CAPTION))
    shown = []  # a verdict both halves share (e.g. "still training") is said once
    for verdict in (v for half in halves.values() for v in half.verdicts):
        if verdict not in shown:
            show_verdict(verdict)
            shown.append(verdict)
    final = views.final_errors_view(view, experiment)
    show_view(dataclasses.replace(final, verdicts=[v for v in final.verdicts if v not in shown]), key="deg.final")
    if controls:
        st.download_button(
            _("Download the table (CSV)"),
            depth_table_csv(depth_table(view, runs)),
            file_name=f"degradation-{experiment}.csv",
            mime="text/csv",
            key="deg.csv",
            icon=":material/download:",
        )
    polling_changed("deg", active)


live_fragment(results, "deg", any(r.active for r in experiment_runs(view, experiment)), every=2.0)
