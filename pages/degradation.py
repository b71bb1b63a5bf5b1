"""Degradation: the paper's Fig. 6 in one click — plain and residual nets at several depths."""

import dataclasses

import streamlit as st

import resnet_core as rc
from resnet_core.presentation.describe import describe_progress, describe_recipe
from resnet_core.presentation.reports import depth_table_csv
from resnet_core.studies.experiments import (
    cifar_available,
    depth_table,
    device_presets,
    experiment_progress,
    experiment_runs,
    experiments,
    plan_experiment,
)
from ui.live import live_fragment, polling_changed
from ui.navigation import leave_pages_directory_mode
from ui.reference import reference_note, runs_view
from ui.runs import badge, get_runner
from ui.view_state import Param, ViewState, presenting
from ui.views import degradation as views
from ui.views.render import show_verdict, show_view

leave_pages_directory_mode()  # before anything else: see ui/navigation.py

STARTED = "deg.started"  # the experiment this session started last: its runs are not "already queued"

runner = get_runner()
view = runs_view("degradation")  # the user's runs and, unless hidden in the sidebar, the shipped reference runs
store = runner.store  # where new runs go


@st.cache_data(ttl=300, show_spinner=False)
def cifar_here() -> bool:
    return cifar_available()


device = rc.pick_device()
presets = device_presets(device.type, device.type == "cuda" and cifar_here())
known, default, why = views.experiment_choices(view)
state = ViewState("deg", [Param("exp", None, choices=known), Param("preset", 0, int, choices=range(len(presets)))])
state.load()
controls = not presenting()

st.title("Degradation")
if controls:
    st.markdown(
        "The paper's central surprise (He et al. 2015, Fig. 6): stack more layers on a *plain* net and its "
        "**training** error goes *up* — a deeper net could copy the shallower one and set its extra layers to "
        "identity, so this is not overfitting but an optimisation difficulty. With shortcuts, the deeper net is "
        "no worse. One click trains both kinds at several depths, the same way."
    )
    with st.expander("Start the experiment", expanded=not known):  # collapsed when there are results
        choice = 0
        if len(presets) > 1:  # a CPU: a quick pair of depths, or the paper's 20 and 56 for longer
            label = {i: views.preset_label(store, p) for i, p in enumerate(presets)}
            choice = st.radio(
                "Preset", range(len(presets)), format_func=label.get, key=state.key("preset"), horizontal=True
            )
        preset = presets[choice]
        st.markdown(f"**{preset.name}** on `{preset.dataset}`: {preset.note}")
        options = sorted({8, 20, 32, 44, 56, 110} | set(preset.depths))
        depths = st.multiselect("Depths", options, default=list(preset.depths), key=f"deg.depths.{choice}")
        at_once = runner.max_parallel  # None: a Ray executor, as many as its cluster fits
        pace = "one after another" if at_once == 1 else f"up to {at_once} at a time" if at_once else "side by side"
        st.caption(
            f"{describe_recipe(preset.config)} · {2 * len(depths)} runs, {pace} on {rc.describe_device(device)}. "
            + views.time_here(store, preset, depths)
        )
        busy = [r for r in store.list(["queued", "running"]) if r.config.experiment != st.session_state.get(STARTED)]
        if busy:
            st.warning(
                f"{len(busy)} run{'' if len(busy) == 1 else 's'} already queued or running: the experiment "
                "starts after them, so it takes longer than the estimate."
            )
        if st.button("Run the degradation experiment", type="primary", disabled=not depths, key="deg.start"):
            started, runs = plan_experiment(preset, depths)
            for spec, config, name in runs:
                runner.submit(spec, config, dataset=preset.dataset, name=name)
            st.session_state[STARTED] = started
            state.set("exp", started)  # before the picker is drawn: the new experiment is the one shown
            known = experiments(view)

if not known:
    st.info("No experiment yet: press the button above. Results appear here while the nets train.")
    st.stop()
if state.value("exp") not in known:  # no link, or its experiment was deleted or hidden
    state.set("exp", default)
if controls:
    st.selectbox("Experiment", known, key=state.key("exp"), format_func=views.experiment_label)
experiment = state.value("exp")
state.save()
if experiment == default and why:
    st.caption(why)


def results() -> None:
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
    st.caption(views.FIG6_CAPTION)
    shown = []  # a verdict both halves share (e.g. "still training") is said once
    for verdict in (v for half in halves.values() for v in half.verdicts):
        if verdict not in shown:
            show_verdict(verdict)
            shown.append(verdict)
    final = views.final_errors_view(view, experiment)
    show_view(dataclasses.replace(final, verdicts=[v for v in final.verdicts if v not in shown]), key="deg.final")
    if controls:
        st.download_button(
            "Download the table (CSV)",
            depth_table_csv(depth_table(view, runs)),
            file_name=f"degradation-{experiment}.csv",
            mime="text/csv",
            key="deg.csv",
            icon=":material/download:",
        )
    polling_changed("deg", active)


live_fragment(results, "deg", any(r.active for r in experiment_runs(view, experiment)), every=2.0)
