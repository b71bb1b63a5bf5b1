"""The Gradients views: per-layer gradient norms of fresh nets (plain and residual overlaid), and of runs
during training (a layer × step heatmap per run, and the profile at one step)."""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

import resnet_core as rc
from resnet_core.analysis.profiles import (
    GradientProfile,
    aggregate_grid,
    batch_fingerprint,
    init_gradient_profile,
    kept_profiles,
    probe_batch,
    profile_key,
    profile_work,
)
from resnet_core.model.net import layout_of
from resnet_core.presentation.charts import LayerSeries, gradient_heatmap_figure, layer_profile_figure
from resnet_core.presentation.gradient_text import (
    NORM_WORDS,
    compare_scales,
    describe_profile,
    explain_init_profiles,
    init_verdicts,
    ratio_text,
)
from resnet_core.presentation.i18n import N_, Messages, _
from resnet_core.presentation.palette import net_color
from resnet_core.presentation.reports import run_label, status_word
from resnet_core.presentation.views import Verdict, View
from resnet_core.store.loading import find_twin
from resnet_core.store.run_store import Run
from resnet_core.studies.pairs import informative_pair
from resnet_core.studies.reference import is_reference
from ui.data import shapes
from ui.language import spinning
from ui.spec_state import NORM_LABELS, depth_picks
from ui.view_state import Param, ViewState, parse_bool

KINDS = ("residual", "plain")
# Computed without asking, whatever the estimate: up to a ResNet-110 pair on 64 images, within the page's
# 2-second target on a 2-core CPU (BENCHMARKS.md, "Interactive pages"); an estimate from a small net's timing
# overstates small nets' cost.
QUICK_WORK = 2 * profile_work(rc.NetSpec(depth=110), 64)
Y_TITLE = N_("‖∇W‖ (L2 norm of the weight gradient)")

DEPTHS = rc.valid_depths("basic", "cifar", 1202)
TABS = Messages({"init": N_("At initialisation"), "training": N_("During training")})
WAIT = 3.0  # seconds a control change may compute before the page asks first (a kept result never waits)
VIEW_STATE = ViewState(
    "grad",
    [
        Param("depth", 56, int, DEPTHS),
        Param("norm", "batch", str, rc.NORMS),
        Param("activation", "relu", str, rc.ACTIVATIONS),
        Param("preact", False, parse_bool),
        Param("batch", 64, int, (16, 32, 64, 128)),
        Param("shown", list(KINDS), str, KINDS, multi=True),
        Param("tab", "init", str, tuple(TABS)),
        Param("runs", [], str, multi=True),
    ],
)


@dataclass
class InitGradients(View):
    """The view at initialisation, with its two first ÷ last metrics (label, value, help) and, when the
    profiles were not computed because they would take long, the estimate of how long (seconds) and whether
    it is only a floor."""

    metrics: list[tuple[str, str, str]] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)  # paragraphs computed from the profiles
    estimate: float | None = None
    estimate_is_floor: bool = False


@st.cache_resource(show_spinner=False)
def _probe(batch_size: int) -> tuple:
    images, labels = probe_batch(shapes(), batch_size)
    return images, labels, batch_fingerprint(images, labels)


@st.cache_resource(show_spinner=False)
def _kept() -> dict[str, GradientProfile]:
    return kept_profiles()


@st.cache_resource(show_spinner=False)
def _rates() -> list[tuple[int, float]]:
    """(work in layer-images, seconds per layer-image) of the profiles computed by this server, newest last:
    what "about N s here" is estimated from (the speed of this CPU, with whatever else runs on it now)."""
    return []


@st.cache_resource(show_spinner=False)
def _done() -> set:
    """The profiles `_computed` holds (its arguments): shown again without asking."""
    return set()


def _spec(depth: int, norm: str, activation: str, preact: bool, skip: bool) -> rc.NetSpec:
    return rc.NetSpec(depth=depth, norm=norm, activation=activation, preact=preact, skip=skip)


@spinning(N_("Computing gradients of a fresh net…"))
@st.cache_data(max_entries=32, show_spinner=False)
def _computed(depth: int, norm: str, activation: str, preact: bool, batch_size: int, skip: bool) -> GradientProfile:
    images, labels, _unused = _probe(batch_size)
    spec = _spec(depth, norm, activation, preact, skip)
    start = time.perf_counter()
    profile = init_gradient_profile(spec, images, labels)
    work = profile_work(spec, batch_size)
    _rates().append((work, (time.perf_counter() - start) / work))
    del _rates()[:-16]
    _done().add((depth, norm, activation, preact, batch_size, skip))
    return profile


# Beyond this many times the work of any profile computed here, an estimate is a floor: a far deeper net costs
# more per layer-image on a CPU, its saved activations far beyond any cache (BENCHMARKS.md, "Gradients at 1202
# layers", the estimate at 1202 layers).
EXTRAPOLATION = 4.0


def estimate_seconds(depth: int, batch_size: int) -> tuple[float, bool]:
    """(about how long both profiles of a `depth`-layer twin pair take here now, whether that is only a floor),
    from the rate of the profiles computed here whose work is nearest (a ResNet-20 is measured first when none
    was: a tenth of a second)."""
    if not _rates():
        _computed(20, "batch", "relu", False, batch_size, True)
    work = profile_work(rc.NetSpec(depth=depth), batch_size)
    nearest = min(abs(math.log(w / work)) for w, _rate in _rates())
    rates = [rate for w, rate in _rates() if abs(math.log(w / work)) <= nearest + 1e-9][-3:]
    floor = work > EXTRAPOLATION * max(w for w, _rate in _rates())
    return statistics.median(rates) * 2 * work, floor


def init_profiles(
    depth: int, norm: str, activation: str, preact: bool, batch_size: int, allow_seconds: float | None = None
) -> tuple[list[GradientProfile] | None, bool, float, bool]:
    """(residual, plain) profiles, whether they were kept ones, the estimate of computing them and whether it
    is only a floor (`estimate_seconds`); None for the profiles when no kept one matches and computing would
    take longer than `allow_seconds`."""
    fingerprint = _probe(batch_size)[2]
    specs = [_spec(depth, norm, activation, preact, skip) for skip in (True, False)]
    kept = [_kept().get(profile_key(spec, fingerprint)) for spec in specs]
    if all(kept):
        return kept, True, 0.0, False
    if all((depth, norm, activation, preact, batch_size, s.skip) in _done() for s in specs):
        allow_seconds = None  # computed before: in the cache
    if 2 * profile_work(specs[0], batch_size) <= QUICK_WORK:
        allow_seconds = None
    estimate, floor = estimate_seconds(depth, batch_size) if allow_seconds is not None else (0.0, False)
    if allow_seconds is not None and estimate > allow_seconds:
        return None, False, estimate, floor
    return [_computed(depth, norm, activation, preact, batch_size, s.skip) for s in specs], False, estimate, floor


def init_gradients_view(
    depth: int,
    norm: str,
    activation: str,
    preact: bool,
    batch_size: int,
    shown: list[str] | tuple[str, ...] = KINDS,
    allow_seconds: float | None = None,
) -> InitGradients:
    """Per-layer gradient norms of a fresh `depth`-layer ResNet and its plain twin on one batch, the
    lines of `shown` ("residual", "plain") drawn, with the explanation and verdict computed from both.

    `allow_seconds`: compute only when that is estimated to take at most this long here (a kept profile
    is always shown); otherwise the view has no figure, a pending verdict and the estimate."""
    title = _("Gradient norm per layer at initialisation ({norm_words}, {activation})").format(
        norm_words=NORM_WORDS[norm], activation=activation
    )
    profiles, kept, estimate, floor = init_profiles(depth, norm, activation, preact, batch_size, allow_seconds)
    if profiles is None:
        names = _("{name} and {name2}").format(
            name=_spec(depth, norm, activation, preact, True).name,
            name2=_spec(depth, norm, activation, preact, False).name,
        )
        return InitGradients(
            title,
            verdicts=[
                Verdict(
                    "pending",
                    (
                        _(
                            "Computing the gradients of {names} takes at least {estimate:.0f} s on this machine "
                            "now (one forward and backward pass of each net), likely more: these nets are far "
                            "deeper than any computed here yet, and a deeper net costs more per layer. Press the "
                            "button to compute them."
                        )
                        if floor
                        else _(
                            "Computing the gradients of {names} takes about {estimate:.0f} s on this machine now "
                            "(one forward and backward pass of each net); press the button to compute them."
                        )
                    ).format(names=names, estimate=estimate),
                )
            ],
            estimate=estimate,
            estimate_is_floor=floor,
        )
    residual, plain = profiles
    lines = {
        kind: LayerSeries(p.spec.name, net_color(p.spec.skip), p.names, p.norms, p.indices)
        for kind, p in zip(KINDS, profiles)
    }
    caption = (
        _("One batch of {batch_size} images from the embedded dataset; mean cross-entropy loss; ").format(
            batch_size=batch_size
        )
        + (
            _("BatchNorm in training mode (the batch's statistics), as in the first training step. ")
            if norm == "batch"
            else _("no normalisation layers. ")
        )
        + _("Log scale; a layer whose gradient overflowed float32 has no point.")
    )
    notes = (
        [
            _(
                "A kept result: the same computation (net, seed and batch) done once with `python -m "
                "resnet_core profiles`."
            )
        ]
        if kept
        else []
    )
    return InitGradients(
        title,
        layer_profile_figure([lines[k] for k in KINDS if k in shown], title=title, y_title=_(Y_TITLE)),
        caption,
        init_verdicts(residual, plain),
        notes,
        metrics=[
            (
                _("ResNet: first ÷ last layer"),
                ratio_text(residual.first_last_ratio),
                _("‖∇W‖ of the first conv divided by that of the final fc layer."),
            ),
            (_("plain: first ÷ last layer"), ratio_text(plain.first_last_ratio), ""),
        ],
        explanation=explain_init_profiles(residual, plain),
    )


@dataclass
class TrainingGradients(View):
    """The during-training view: `figure` is the first run's heatmap, `heatmaps` every run's (same colour
    scale); `steps` the steps any of them recorded, for `step_view`."""

    heatmaps: list[tuple[str, View]] = field(default_factory=list)  # (run id, its heatmap)
    steps: list[int] = field(default_factory=list)
    data: dict = field(default_factory=dict)  # run id -> (layer names, positions, values)
    runs: dict = field(default_factory=dict)  # run id -> Run


def training_gradients_view(store, run_ids: list[str]) -> TrainingGradients:
    """Every layer's gradient norm over training, for each of `run_ids` (runs that recorded them), on one
    shared colour scale so colours compare across runs."""
    by_id = {r.id: r for r in store.list() if r.id in run_ids}
    data = {}
    for run_id in run_ids:
        names, positions, values = store.probe(run_id, "grad_norms")
        weighted = set(layout_of(by_id[run_id].spec).weighted_layers)  # as `depth` counts: no projections
        keep = [i for i, n in enumerate(names) if n in weighted]
        data[run_id] = ([names[i] for i in keep], positions, values[:, keep])
    grids = {i: aggregate_grid(v) for i, (_, _, v) in data.items()}
    lo = min(float(g[0].min()) for g in grids.values())
    hi = max(float(g[0].max()) for g in grids.values())
    heatmaps = []
    for run_id in run_ids:
        names, positions, _unused = data[run_id]
        grid, col_starts, row_starts = grids[run_id]
        figure = gradient_heatmap_figure(
            grid, positions[col_starts], row_starts, names, (lo, hi), run_label(by_id[run_id])
        )
        heatmaps.append((run_id, View(run_label(by_id[run_id]), figure)))
    steps = sorted(set(np.concatenate([data[i][1] for i in run_ids]).tolist()))
    return TrainingGradients(
        _("Gradient norm of every layer over training"),
        heatmaps[0][1].figure,
        _(
            "One shared colour scale, so colours compare across the runs. Long runs and deep nets are averaged "
            "into at most 300 × 300 cells."
        ),
        heatmaps=heatmaps,
        steps=steps,
        data=data,
        runs=by_id,
    )


def step_view(training: TrainingGradients, step: int) -> View:
    """The per-layer profile of each run near `step`, described from what it draws."""
    series, drawn = [], []
    for run_id, (names, positions, values) in training.data.items():
        run = training.runs[run_id]
        row = int(np.argmin(np.abs(positions - step)))
        label = _("{run_label} @ step {positions}").format(run_label=run_label(run), positions=positions[row])
        series.append(
            LayerSeries(label, net_color(run.spec.skip), names, values[row], layout_of(run.spec).layer_indices(names))
        )
        drawn.append((label, run.spec, values[row]))
    title = _("Per-layer gradient norm near step {step}").format(step=step)
    text = " ".join([describe_profile(label, values) for label, _, values in drawn] + [compare_scales(drawn) or ""])
    return View(
        title,
        layer_profile_figure(series, title, _(Y_TITLE)),
        _("Norms of each training step's own mini-batch gradient (before weight decay), recorded by the trainer."),
        notes=[text.strip()],
    )


@dataclass
class TrainingChoice:
    """The runs that recorded gradient norms (newest first), the pair shown first, and why (empty when the
    link chose it)."""

    runs: dict[str, Run]
    first: str
    second: str | None
    reason: str = ""


def training_choice(store, asked: list[str]) -> TrainingChoice | None:
    """What the during-training tab shows: the runs of the link (`asked`) when it names recorded ones, else
    the most informative twin pair (studies/pairs.informative_pair) — never a flat pair when one learned,
    never a twin without its pair when there is a pair. None when no run recorded gradient norms."""
    recorded = store.runs_with_probe("grad_norms")
    runs = {r.id: r for r in reversed(store.list()) if r.id in recorded}
    if not runs:
        return None
    asked = [i for i in asked if i in runs][:2]
    if asked:
        return TrainingChoice(runs, asked[0], asked[1] if len(asked) > 1 else None)
    pair, reason = informative_pair(store)
    reason = _(reason)  # said in English by studies/pairs.py (marked in presentation/library_words.py)
    if pair is not None and all(r.id in runs for r in pair):
        return TrainingChoice(runs, pair[0].id, pair[1].id, reason)
    newest = next(iter(runs.values()))
    return TrainingChoice(
        runs,
        newest.id,
        twin_of(store, newest, runs),
        _("No finished ResNet with its plain twin has recorded gradients yet: showing the newest run that has."),
    )


def twin_of(store, run: Run, runs: dict[str, Run]) -> str | None:
    """The run's twin among `runs` (reference runs pair with reference runs), or None."""
    same_source = [r for r in runs.values() if is_reference(r) == is_reference(run)]
    return getattr(find_twin(store, run, statuses=None, among=same_source), "id", None)


def init_controls(key, depths: list[int]) -> None:
    """The at-initialisation controls, keyed `key(name)` (the page's view state seeds and saves them): the
    paper's depths as quick picks beside the depth slider, normalisation, activation, batch, pre-activation
    and which nets are drawn."""
    cols = st.columns([3, 1.4], gap="large") + st.columns(3)  # two rows: at 1024 px one cut the labels
    with cols[0]:
        depth_picks(key("depth"), depths, "cifar")
        st.select_slider(_("Depth"), depths, key=key("depth"))
    cols[2].selectbox(_("Normalisation"), rc.NORMS, format_func=NORM_LABELS.get, key=key("norm"))
    cols[3].selectbox(_("Activation"), rc.ACTIVATIONS, key=key("activation"))
    cols[4].selectbox(_("Batch size"), [16, 32, 64, 128], key=key("batch"))
    cols[1].toggle(
        _("Pre-activation"),
        key=key("preact"),
        help=_(
            "He et al. 2016: BN and activation before each conv, nothing after the addition, "
            "so the shortcut path is a clean identity from block to block."
        ),
    )
    st.segmented_control(
        _("Nets shown"),
        list(KINDS),
        selection_mode="multi",
        format_func={"residual": _("residual"), "plain": _("plain")}.get,
        key=key("shown"),
        help=_("Skip connections on (residual), off (plain), or both overlaid."),
    )


def choose_runs(store, choice: TrainingChoice) -> tuple[str, str | None]:
    """The run and the run to compare it with, as two select boxes starting on `choice`; when the user
    picks another run, the comparison starts on that run's twin."""
    ids, runs = list(choice.runs), choice.runs
    label = {i: f"{run_label(r)} · {status_word(r.status)} · {i}" for i, r in runs.items()}.get
    first = st.selectbox(_("Run"), ids, index=ids.index(choice.first), format_func=label, key="grad.run")
    second = choice.second if first == choice.first else twin_of(store, runs[first], runs)
    options = [None] + [i for i in ids if i != first]
    second = st.selectbox(
        _("Compare with"),
        options,
        index=options.index(second) if second in options else 0,
        format_func=lambda i: "—" if i is None else label(i),
        key=f"grad.compare.{first}",
        help=_(
            "Defaults to the run's twin (same net, skip connections toggled, created together "
            "with it or trained the same way) when there is one."
        ),
    )
    return first, second
