"""The degradation experiment's views (He et al. 2015, Fig. 6), for the Degradation page and the lesson.

`store`: any store with the read interface (a RunStore, or the pages' RunView of the user's runs and the
reference runs). `experiment`: an experiment's tag, `RunConfig.experiment` of its runs — the id
`plan_experiment` made ("degradation-20261203-171500"), a sweep's id, or `studies.reference.EXPERIMENT`
("reference") for the reference runs the app ships. `experiment_choices(store)` lists them with the one a
page opens on.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import resnet_core as rc
from resnet_core.data.catalog import DATASETS, facts
from resnet_core.execution.estimates import device_kind, estimate, measured_rates
from resnet_core.presentation import degradation as words
from resnet_core.presentation.describe import NO_VALUE, describe_duration, describe_recipe
from resnet_core.presentation.i18n import N_, _, in_each_language, ngettext
from resnet_core.presentation.reports import series_for
from resnet_core.presentation.spec_words import DATASET_LABELS
from resnet_core.presentation.views import View
from resnet_core.store.status import ACTIVE
from resnet_core.studies.experiments import (
    Preset,
    depth_table,
    device_presets,
    experiment_runs,
    experiment_specs,
    experiments,
    plan_experiment,
)
from resnet_core.studies.reference import EXPERIMENT as REFERENCE
from ui.data import dataset_problem_here
from ui.reference import reference_store
from ui.views.classroom import submit_checked

FIG6_CAPTION = N_(
    "Thin dashed: training error (running mean over recent batches); bold: test error after each epoch. "
    "Darker = deeper. As in Fig. 6, compare the dashed curves: that is the training error."
)
FINAL_CAPTION = N_(
    "Each net's error after its last epoch: solid = training, dashed = test. If the deeper plain net were "
    "overfitting, its training error would be *lower* while its test error rose."
)


def experiment_label(experiment: str) -> str:
    return _("reference runs (shipped with the app)") if experiment == REFERENCE else experiment


def _classes(runs) -> int:
    return runs[0].spec.num_classes if runs else 10


def experiment_learned(store, experiment: str) -> bool:
    """Whether an experiment's runs finished and learned enough for a verdict (any verdict: the figure
    then says something, whether or not it agrees with the paper)."""
    runs = experiment_runs(store, experiment)
    return bool(runs) and words.waiting_verdict(depth_table(store, runs), _classes(runs), _active(runs)) is None


def _active(runs) -> bool:
    return any(r.active for r in runs)


def experiment_choices(store) -> tuple[list[str], str | None, str]:
    """(experiments newest first, the one to open on, why that one): the user's newest experiment whose
    nets learned; else the reference runs; else the newest there is."""
    known = experiments(store)
    if not known:
        return known, None, ""
    mine = [e for e in known if e != REFERENCE]
    for experiment in mine:
        if experiment_learned(store, experiment):
            return known, experiment, _("Showing your newest experiment whose nets learned.")
    if REFERENCE in known:
        if mine:
            return known, REFERENCE, _("Showing the reference runs: none of your experiments has learned enough yet.")
        return known, REFERENCE, _("Showing the reference runs.")
    return known, known[0], _("Showing your newest experiment; none has learned enough for a verdict yet.")


def fig6_view(store, experiment: str, kind: words.Kind) -> View:
    """One half of Fig. 6 (`kind` "plain" or "residual"): the training error curves of that kind's nets at
    each depth of the experiment, and the verdict on them."""
    runs = experiment_runs(store, experiment)
    mine = [r for r in runs if r.spec.skip == (kind == "residual")]
    series = series_for(store, mine, label=lambda run: run.spec.name)
    rows = depth_table(store, runs)
    title = _("Plain nets: deeper, worse?") if kind == "plain" else _("ResNets: deeper, no worse?")
    return View(
        title=title,
        figure=words.fig6_half_figure(series, kind),
        caption=_(FIG6_CAPTION),
        verdicts=words.fig6_verdicts(rows, kind, _classes(runs), _active(runs)),
    )


def final_errors_view(store, experiment: str) -> View:
    """Final training and test error by depth for plain nets and ResNets, and whether the deeper plain net's
    higher error is overfitting (it is not when its training error is higher too)."""
    runs = experiment_runs(store, experiment)
    rows = depth_table(store, runs)
    table = pd.DataFrame(words.depth_records(rows))
    return View(
        title=_("Not overfitting: the training error is higher too"),
        figure=words.final_errors_figure(rows),
        caption=_(FINAL_CAPTION),
        verdicts=words.not_overfitting_verdicts(rows, _classes(runs), _active(runs)),
        # a run without a finished epoch: a dash, not "None"
        table=table.style.format(precision=2, na_rep=NO_VALUE) if len(table) else table,
    )


@st.cache_data(max_entries=256, show_spinner=False)
def _macs(spec: rc.NetSpec, image_size: int | None = None) -> int:
    return rc.summarize(spec, image_size).macs


@st.cache_data(ttl=60, show_spinner=False)
def _rates(root: str, _store, device_label: str) -> list[tuple[int, float]]:
    return measured_rates(_store, device_label, _macs)


def _preset_macs(preset: Preset, depths) -> list[int]:
    """The multiply-accumulates per image of each net the preset trains at `depths`, on its dataset."""
    data = facts(preset.dataset)
    specs = experiment_specs(depths, rc.NetSpec(in_channels=data.in_channels, num_classes=data.num_classes))
    return [_macs(spec, data.image_size) for spec in specs]


def warm() -> None:
    """What this page's first open computes, ahead of it (ui/warm.py's background thread): each preset's nets
    counted (the presets' times), and Fig. 6's views of the reference experiment — the page's default until the
    visitor has an experiment that learned — in each language."""
    for preset in device_presets(rc.pick_device().type, False):
        _preset_macs(preset, preset.depths)
    ref = reference_store()
    if ref is not None and REFERENCE in experiments(ref):
        in_each_language(
            lambda: (
                [fig6_view(ref, REFERENCE, kind) for kind in ("plain", "residual")]
                + [final_errors_view(ref, REFERENCE)]
            )
        )


def experiment_seconds(user_store, preset: Preset, depths) -> tuple[float, int] | None:
    """(seconds, earlier runs measured) the preset's runs at `depths` should train here, from the speeds of
    the user's runs on this kind of device (execution/estimates.py; the reference runs were measured
    elsewhere); None before any run here finished an epoch. The runs share this machine, so their times
    add up whether they train one after another or side by side."""
    rates = _rates(str(user_store.root), user_store, device_kind(rc.describe_device()))
    config, data = preset.config, facts(preset.dataset)
    images = config.train_size or data.train_size
    total, used = 0.0, 0
    for macs in _preset_macs(preset, depths):
        found = estimate(macs, images, config.epochs, rates)
        if found is None:
            return None
        total, used = total + found.seconds, max(used, found.runs)
    return total, used


def dataset_choice(preset: Preset, state) -> Preset:
    """The preset on the dataset the picker (and the URL's `data`) names: any built-in dataset whose files
    are here; the preset's own by default. The reference runs are the longer preset on Fashion-MNIST."""
    here = [name for name in DATASETS if name == preset.dataset or dataset_problem_here(name) is None]
    if state.value("data") not in here:
        state.set("data", preset.dataset)
    st.selectbox(
        _("Dataset"),
        here,
        format_func=lambda name: _(DATASET_LABELS[name]),
        key=state.key("data"),
        help=_("Datasets whose files are on this machine; put the others' files in the data folder to add them."),
    )
    return preset.on(state.value("data"))


def preset_label(user_store, preset: Preset) -> str:
    """The preset's name with its time here: "Quick CPU preset · about 5 min here"."""
    found = experiment_seconds(user_store, preset, preset.depths)
    name = _(preset.name)  # said in English by studies/experiments.py (marked in presentation/library_words.py)
    if found is None:
        return name
    return _("{name} · {describe_duration} here").format(name=name, describe_duration=describe_duration(found[0]))


def time_here(user_store, preset: Preset, depths) -> str:
    found = experiment_seconds(user_store, preset, depths)
    if found is None:
        return _("Time here: known once a run here has finished an epoch.")
    seconds, runs = found
    return ngettext(
        "Time here: {describe_duration} of training, estimated from the speed of {runs} earlier run on this "
        "{device_kind}.",
        "Time here: {describe_duration} of training, estimated from the speed of {runs} earlier runs on this "
        "{device_kind}.",
        runs,
    ).format(
        describe_duration=describe_duration(seconds),
        runs=runs,
        device_kind=device_kind(rc.describe_device()),
    )


def start_form(runner, presets: tuple[Preset, ...], state, expanded: bool, started: str | None) -> str | None:
    """The "Start the experiment" form: a preset (its time here), the depths, the recipe, and the button.
    Returns the id of the experiment it started, or None. `state`: the page's ViewState (the preset is in
    the URL); `started`: the experiment this session started last, whose runs are not "already queued"."""
    store = runner.store
    with st.expander(_("Start the experiment"), expanded=expanded):  # collapsed when there are results
        choice = 0
        if len(presets) > 1:  # a CPU: a quick pair of depths, or the paper's 20 and 56 for longer
            label = {i: preset_label(store, p) for i, p in enumerate(presets)}
            choice = st.radio(
                _("Preset"), range(len(presets)), format_func=label.get, key=state.key("preset"), horizontal=True
            )
        preset = dataset_choice(presets[choice], state)
        st.markdown(
            _("**{name}** on `{dataset}`: {note}").format(
                name=_(preset.name), dataset=preset.dataset, note=_(preset.note)
            )
        )
        options = sorted({8, 20, 32, 44, 56, 110} | set(preset.depths))
        depths = st.multiselect(_("Depths"), options, default=list(preset.depths), key=f"deg.depths.{choice}")
        at_once = runner.max_parallel  # None: a Ray executor, as many as its cluster fits
        pace = (
            _("one after another")
            if at_once == 1
            else _("up to {at_once} at a time").format(at_once=at_once)
            if at_once
            else _("side by side")
        )
        st.caption(
            _("{describe_recipe} · {value} runs, {pace} on {describe_device}. ").format(
                describe_recipe=describe_recipe(preset.config),
                value=2 * len(depths),
                pace=pace,
                describe_device=rc.describe_device(),
            )
            + time_here(store, preset, depths)
        )
        busy = [r for r in store.list(ACTIVE) if started is None or r.config.experiment != started]
        if busy:
            st.warning(
                ngettext(
                    "{n} run already queued or running: the experiment starts after it, so it takes longer than "
                    "the estimate.",
                    "{n} runs already queued or running: the experiment starts after them, so it takes longer "
                    "than the estimate.",
                    len(busy),
                ).format(n=len(busy))
            )
        if st.button(_("Run the degradation experiment"), type="primary", disabled=not depths, key="deg.start"):
            experiment, runs = plan_experiment(preset, depths)
            if not submit_checked(runner, len(runs)):  # class mode: past the student's cap, nothing is queued
                return None
            for spec, config, name in runs:
                runner.submit(spec, config, dataset=preset.dataset, name=name)
            return experiment
    return None
