"""Degradation: the paper's Fig. 6 in one click — plain and residual nets at several depths."""

import pandas as pd
import streamlit as st

import resnet_core as rc
from resnet_core.presentation.charts import degradation_figure
from resnet_core.presentation.reports import depth_table_csv, series_for
from resnet_core.store.status import ACTIVE
from resnet_core.studies import reference
from resnet_core.studies.experiments import (
    cifar_available,
    degradation_findings,
    depth_table,
    describe_recipe,
    device_presets,
    experiment_progress,
    experiment_runs,
    experiments,
    plan_experiment,
    verdict_missing,
    verdict_withheld,
)
from ui.live import live_fragment, polling_changed
from ui.navigation import leave_pages_directory_mode
from ui.reference import reference_note, runs_view
from ui.runs import badge, get_runner

leave_pages_directory_mode()  # before anything else: see ui/navigation.py

EXPERIMENT_PARAM = "exp"
REFERENCE = reference.EXPERIMENT  # the reference runs' experiment tag

runner = get_runner()
view = runs_view("degradation")  # the user's runs and, unless hidden in the sidebar, the shipped reference runs
store = runner.store  # where new runs go

st.title("Degradation")
st.markdown(
    "The paper's central surprise (He et al. 2015, Fig. 6): stack more layers on a *plain* net and its **training** "
    "error goes *up* — a deeper net could copy the shallower one and set its extra layers to identity, so this is "
    "not overfitting but an optimisation difficulty. With shortcuts, the deeper net is no worse. One click trains "
    "both kinds at several depths, the same way."
)


@st.cache_data(ttl=300, show_spinner=False)
def cifar_here() -> bool:
    return cifar_available()


device = rc.pick_device()
presets = device_presets(device.type, device.type == "cuda" and cifar_here())
with st.expander("Start the experiment", expanded=not experiments(view)):  # collapsed when there are results
    choice = 0
    if len(presets) > 1:  # a CPU: a quick pair of depths, or the paper's 20 and 56 for longer
        choice = st.radio(
            "Preset", range(len(presets)), format_func=lambda i: presets[i].name, key="deg.preset", horizontal=True
        )
    preset = presets[choice]
    st.markdown(f"**{preset.name}** on `{preset.dataset}`: {preset.note}")
    cfg = preset.config
    options = sorted({8, 20, 32, 44, 56, 110} | set(preset.depths))
    depths = st.multiselect("Depths", options, default=list(preset.depths), key=f"deg.depths.{choice}")
    at_once = runner.max_parallel  # None: a Ray executor, as many as its cluster fits
    pace = "one after another" if at_once == 1 else f"up to {at_once} at a time" if at_once else "side by side"
    st.caption(f"{describe_recipe(cfg)} · {2 * len(depths)} runs, {pace} on {rc.describe_device(device)}.")
    busy = store.list(ACTIVE)
    if busy:
        st.warning(
            f"{len(busy)} run{'' if len(busy) == 1 else 's'} already queued or running: the experiment "
            "starts after them, so it takes longer than the preset's estimate."
        )
    if st.button("Run the degradation experiment", type="primary", disabled=not depths, key="deg.start"):
        experiment, runs = plan_experiment(preset, depths)
        for spec, config, name in runs:
            runner.submit(spec, config, dataset=preset.dataset, name=name)
        st.query_params[EXPERIMENT_PARAM] = experiment
        st.rerun()

known = experiments(view)
if not known:
    st.info("No experiment yet: press the button above. Results appear here while the nets train.")
    st.stop()
wanted = st.query_params.get(EXPERIMENT_PARAM)
experiment = st.selectbox(
    "Experiment",
    known,
    index=known.index(wanted) if wanted in known else 0,
    key="deg.exp",
    format_func=lambda e: "reference runs (shipped with the app)" if e == REFERENCE else e,
)
if st.query_params.get(EXPERIMENT_PARAM) != experiment:
    st.query_params[EXPERIMENT_PARAM] = experiment


def results() -> None:
    runs = experiment_runs(view, experiment)
    active = any(r.active for r in runs)
    reference_note(view, runs)
    st.markdown(" ".join(f"{badge(r)} {r.spec.name}" for r in sorted(runs, key=lambda r: (r.spec.depth, r.spec.skip))))
    if active:
        progress = experiment_progress(store, runs, runner.max_parallel or 1)
        st.progress(progress.epochs_done / max(progress.epochs_total, 1), text=progress.describe())
    series = series_for(view, runs, label=lambda run: run.spec.name)  # the experiment is named above
    plain = [s for s in series if not s.skip]
    residual = [s for s in series if s.skip]
    st.plotly_chart(degradation_figure(plain, residual), width="stretch", key="deg.chart")
    st.caption(
        "Thin dashed: training error (running mean over recent batches); bold: test error after each "
        "epoch. Darker = deeper. As in Fig. 6, compare the dashed curves: that is the training error."
    )
    rows = depth_table(view, runs)
    pct = lambda v: None if v is None else round(100 * v, 2)  # noqa: E731
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "depth": r.depth,
                    "plain train error %": pct(r.plain_train),
                    "plain test error %": pct(r.plain_test),
                    "ResNet train error %": pct(r.residual_train),
                    "ResNet test error %": pct(r.residual_test),
                }
                for r in rows
            ]
        ).style.format(precision=2, na_rep="—"),  # a run without a finished epoch: a dash, not "None"
        hide_index=True,
        width="stretch",
        placeholder="—",
    )  # the browser's own "None" otherwise
    st.download_button(
        "Download the table (CSV)",
        depth_table_csv(rows),
        file_name=f"degradation-{experiment}.csv",
        mime="text/csv",
        key="deg.csv",
        icon=":material/download:",
    )
    classes = runs[0].spec.num_classes if runs else 10
    findings = degradation_findings(rows, classes)
    missing = verdict_missing(rows)
    withheld = verdict_withheld(rows, classes)
    if active:
        st.caption("Final numbers when every run has finished; the table shows each run's latest epoch.")
    elif missing:
        st.info(
            "No verdict: a comparison needs every run to complete the same recipe, and these did not — "
            + "; ".join(missing)
            + ". The table shows each run's latest epoch; resume the unfinished runs "
            "on the Train page to get a verdict."
        )
    elif withheld:
        st.info(f"No verdict: {withheld}.")
    else:
        for agrees, sentence in findings:
            (st.success if agrees else st.warning)(sentence)
    polling_changed("deg", active)


live_fragment(results, "deg", any(r.active for r in experiment_runs(view, experiment)), every=2.0)
