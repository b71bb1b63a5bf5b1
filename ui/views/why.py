"""Views of the "why residual nets train" experiments, over the store's read interface (a RunStore or the
pages' RunView of the user's and the reference runs): each returns what a page or the lesson lays out
with ui/views/render.show_view — a figure, what to see in it, and a verdict computed from its numbers.

`pair` is always (ResNet run, its plain twin run). Results come from the analyses table when it keeps them
(the reference bundle ships every run's lesion study and landscape); a lesion study small enough to take a
moment is computed here and kept; anything longer is computed in the background when the user asks
(`lesion_analyses(...).start()`, `landscape_analyses(...).start()`), so opening a view never waits long.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

import streamlit as st

from resnet_core.analysis.shattered import line_gradients, toy_shattered
from resnet_core.model.spec import NetSpec
from resnet_core.model.summary import summarize
from resnet_core.presentation import why_text as text
from resnet_core.presentation.describe import percent
from resnet_core.presentation.i18n import N_, Messages, _, joined
from resnet_core.presentation.reports import run_label, status_word
from resnet_core.presentation.text import markdown_text
from resnet_core.presentation.views import Verdict, View
from resnet_core.presentation.why_figures import (
    NetResult,
    autocorrelation_figure,
    gradient_line_figure,
    landscape_figure,
    landscape_slice_figure,
    lesion_figure,
    lesion_k_figure,
)
from resnet_core.store.loading import final_test_error
from resnet_core.store.run_store import Run, RunStore
from resnet_core.studies.analyses import LESION_PARAMS, Analyses, Analysis, compute, landscape_batch, start_worker
from resnet_core.studies.pairs import chance_error, final_train_error, has_learned, informative_pair, twin_pairs
from resnet_core.studies.reference import LANDSCAPE_PARAMS, is_reference
from resnet_core.training.device import pick_device
from ui.language import with_language
from ui.live import polling_changed
from ui.navigation import page
from ui.reference import reference_note
from ui.view_state import Param, ViewState, parse_bool
from ui.views.render import show_chart, show_view

Pair = tuple[Run, Run]  # (ResNet, plain twin)

# The page's view state in its URL (ui/view_state.py): the lesson links to a view with VIEW_STATE.link(...).
TABS = Messages(
    {"lesion": N_("Lesion study"), "landscape": N_("Loss landscape"), "shattered": N_("Shattered gradients")}
)
STEPS = [5, 7, 9, 11, 15, 21, 25, 31, 41, 51]
# On a CPU the reference bundle's grid, so its kept landscapes show at once; a GPU affords a finer one.
DEFAULT_STEPS = LANDSCAPE_PARAMS["steps"] if pick_device().type == "cpu" else 31
VIEW_STATE = ViewState(
    "why",
    [
        Param("pair", ""),  # "resnet-id,plain-id"; empty: the most informative pair (studies/pairs.py)
        Param("tab", "lesion", choices=list(TABS)),
        Param("steps", DEFAULT_STEPS, int, STEPS),
        Param("span", LANDSCAPE_PARAMS["span"], float, [0.25, 0.5, 1.0, 1.5, 2.0]),
        Param("surface", False, parse_bool),
        Param("weights", "trained", choices=["trained", "initial"]),
        Param("points", 256, int, [64, 128, 256, 512]),
        Param("depth", 50, int, [1, 2, 5, 10, 20, 50, 100]),
        Param("seed", 0, int, range(1000)),
    ],
)

# A lesion study costs about (1 + blocks + draws × the k values) evaluations of the net on its images; below
# this many multiply-adds in all for the pair it takes a second or two on two CPU cores (ResNet-56's on 1,000
# images, about 8·10¹² counted this way, takes 13.3 s there: BENCHMARKS.md, the Why page's speed), so it is
# computed on the spot; a ResNet-20 pair on 1,000 images (3·10¹²) waits for a button.
LESION_INLINE_MACS = 1e12
ENDED = ("failed", "interrupted", "stopped")


def home(store, run: Run) -> RunStore:
    """The store that holds `run` (the reference bundle's or the user's), where its analyses are kept."""
    return store.store_of(run) if hasattr(store, "store_of") else store


def net_facts(store, run: Run) -> text.NetFacts:
    error = final_train_error(store, run)
    classes = run.spec.num_classes
    return text.NetFacts(run.spec.name, run.spec.skip, error, chance_error(classes), has_learned(error, classes))


def instead(store, pair: Pair) -> str | None:
    """Another pair here in which both nets learned, named for an "untrained" verdict (None if none)."""
    best, _unused = informative_pair(store)
    if best is None or {r.id for r in best} == {r.id for r in pair}:
        return None
    if not all(net_facts(store, r).learned for r in best):
        return None
    return text.other_pair(best[0].spec.name, best[1].spec.name, is_reference(best[0]))


def pair_label(store, pair: Pair) -> str:
    """The pair as the selector lists it: names and final test errors."""
    errors = {r.spec.name: final_test_error(store, r) for r in pair}
    return text.pair_label(run_label(pair[0]), pair[1].spec.name, errors)


def pairs_by_key(store) -> dict[str, Pair]:
    """Every (ResNet, plain twin) pair here by its URL value "resnet-id,plain-id", in twin_pairs' order."""
    return {pair_key(p): p for p in twin_pairs(store)}


def pair_key(pair: Pair) -> str:
    return f"{pair[0].id},{pair[1].id}"


# -------------------------------------------------------------------------------- kept or computed


@dataclass
class PairAnalyses:
    """One kind of analysis (lesion, landscape) with one set of parameters, for both nets of a pair: what
    the store keeps, and starting or stopping the missing ones in the background."""

    store: RunStore  # the store holding the pair
    kind: str
    params: dict
    pair: Pair
    found: list[Analysis | None]

    @property
    def done(self) -> bool:
        return all(a is not None and a.status == "completed" for a in self.found)

    @property
    def active(self) -> list[Analysis]:
        return [a for a in self.found if a is not None and a.active]

    @property
    def ended(self) -> list[Analysis]:
        """Tries that ended without a result (failed, interrupted, stopped), with nothing running."""
        return [a for a in self.found if a is not None and a.status in ENDED]

    @property
    def progress(self) -> float:
        return sum(a.progress for a in self.active) / max(1, len(self.active))

    @property
    def results(self) -> list[dict]:
        return [a.result for a in self.found] if self.done else []

    def missing(self) -> list[Run]:
        return [r for r, a in zip(self.pair, self.found) if a is None or (a.status != "completed" and not a.active)]

    def start(self) -> None:
        """Compute the missing ones in one background worker process (kept in the store when done)."""
        analyses = Analyses(self.store)
        ids = [analyses.create(r.id, self.kind, self.params) for r in self.missing()]
        if ids:
            start_worker(self.store.root, ids)

    def stop(self) -> None:
        analyses = Analyses(self.store)
        for a in self.active:
            analyses.request_stop(a.id)


def find_analyses(store, pair: Pair, kind: str, params: dict) -> PairAnalyses:
    where = home(store, pair[0])
    analyses = Analyses(where)
    return PairAnalyses(where, kind, params, pair, [analyses.find(r.id, kind, params) for r in pair])


def lesion_images(run: Run) -> int:
    size = run.config.test_size
    return min(LESION_PARAMS["images"], size) if size else LESION_PARAMS["images"]


@functools.lru_cache(maxsize=64)
def _size(spec: NetSpec) -> tuple[int, int]:
    """(multiply-adds per image, blocks) of a net: `summarize` runs a forward pass, so once per spec."""
    summary = summarize(spec)
    return summary.macs, summary.blocks


def lesion_cost(pair: Pair) -> float:
    """Multiply-adds of both nets' lesion studies, counted without the shared prefixes the study reuses."""
    total = 0.0
    for run in pair:
        macs, blocks = _size(run.spec)
        ks = len({1, 2, 3, *range(4, blocks + 1, max(1, blocks // 8)), blocks})
        total += macs * lesion_images(run) * (1 + blocks + LESION_PARAMS["draws"] * ks)
    return total


def lesion_analyses(store, pair: Pair, compute_small: bool = True) -> PairAnalyses:
    """The pair's lesion studies as kept; a study small enough (LESION_INLINE_MACS) is computed here first,
    in this process, and kept like the others."""
    state = find_analyses(store, pair, "lesion", LESION_PARAMS)
    waiting = not (state.done or state.active or state.ended)  # after a failed try: the button
    if compute_small and waiting and lesion_cost(pair) <= LESION_INLINE_MACS:
        analyses = Analyses(state.store)
        for run in state.missing():
            try:
                compute(state.store, analyses.create(run.id, "lesion", LESION_PARAMS))
            except Exception:  # recorded as failed in the store; the view says so
                pass
        state = find_analyses(store, pair, "lesion", LESION_PARAMS)
    return state


def landscape_params(steps: int, span: float) -> dict:
    return {
        "steps": int(steps),
        "span": float(span),
        "seed": LANDSCAPE_PARAMS["seed"],
        "images": LANDSCAPE_PARAMS["images"],
    }


def landscape_analyses(store, pair: Pair, steps: int, span: float) -> PairAnalyses:
    return find_analyses(store, pair, "landscape", landscape_params(steps, span))


def waiting(state: PairAnalyses, title: str, what: str) -> View:
    """The view of an analysis that is not there yet: computing, ended without a result, or not started."""
    names = _(" and ").join(r.spec.name for r in state.pair)
    if state.active:
        verdict = Verdict(
            "pending",
            _("Computing the {what} of {names}: {percent} done.").format(
                what=what, names=names, percent=percent(state.progress, 0)
            ),
        )
    elif state.ended:
        ends = joined(
            _("the last try for {name} ended {status}: {error}").format(
                name=r.spec.name, status=status_word(a.status), error=a.error
            )
            if a.error
            else _("the last try for {name} ended {status}").format(name=r.spec.name, status=status_word(a.status))
            for r, a in zip(state.pair, state.found)
            if a in state.ended
        )
        verdict = Verdict("pending", text.markdown_text(ends[0].upper() + ends[1:]) + _("."))
    else:
        verdict = Verdict(
            "pending", _("The {what} of {names} has not been computed yet.").format(what=what, names=names)
        )
    return View(title, verdicts=[verdict])


# ---------------------------------------------------------------------------------------------- lesion


def _chance_pct(pair: Pair) -> float:
    return 100 * chance_error(pair[0].spec.num_classes)


@dataclass(frozen=True)
class _Lesion:
    """What both lesion views read: each net's part of its kept results ("single" or "random") and that part
    as a figure's NetResult, chance (%), the nets' facts, a pair that learned."""

    parts: list[dict]
    nets: list[NetResult]
    chance: float
    facts: tuple[text.NetFacts, text.NetFacts]
    instead: str | None


def _lesion(store, pair: Pair, title: str, part: str) -> View | _Lesion:
    """The pair's lesion studies, or the view that waits for them (computed inline when small)."""
    state = lesion_analyses(store, pair)
    if not state.done:
        return waiting(state, title, _("lesion study"))
    parts = [r[part] for r in state.results]
    nets = [NetResult(run.spec.name, run.spec.skip, result) for run, result in zip(pair, parts)]
    res, pln = (net_facts(store, r) for r in pair)
    return _Lesion(parts, nets, _chance_pct(pair), (res, pln), instead(store, pair))


def lesion_view(store, pair: Pair) -> View:
    """Test error after deleting each block on its own, both nets (Veit et al. 2016, Fig. 3)."""
    title = _(text.LESION_TITLE)
    study = _lesion(store, pair, title, "single")
    if isinstance(study, View):
        return study
    damage = {run.spec.name: text.LesionDamage.of(single, study.chance) for run, single in zip(pair, study.parts)}
    return View(
        title,
        lesion_figure(study.nets, study.chance),
        text.lesion_caption(damage, lesion_images(pair[0]), study.chance),
        text.lesion_verdicts(*study.facts, *damage.values(), instead=study.instead),
    )


def lesion_k_view(store, pair: Pair) -> View:
    """Test error after deleting k random blocks at once (Veit et al. 2016, Fig. 5a)."""
    title = _(text.LESION_K_TITLE)
    study = _lesion(store, pair, title, "random")
    if isinstance(study, View):
        return study
    return View(
        title,
        lesion_k_figure(study.nets, study.chance),
        text.lesion_k_caption([r.spec.name for r in pair], study.parts),
        text.lesion_k_verdicts(*study.facts, *study.parts, study.chance, instead=study.instead),
    )


# ------------------------------------------------------------------------------------------ landscape


def landscape_view(store, pair: Pair, steps: int = 11, span: float = 1.0, surface: bool = False) -> list[View]:
    """The loss around each net's trained weights (contours, or 3-D surfaces), then the slice through the
    centre with the roughness of both surfaces and the verdict (Li et al. 2018)."""
    state = landscape_analyses(store, pair, steps, span)
    if not state.done:
        return [waiting(state, _(text.LANDSCAPE_TITLE), _("loss landscapes"))]
    nets = [NetResult(run.spec.name, run.spec.skip, result) for run, result in zip(pair, state.results)]
    rough = {n.label: n.data.get("roughness") for n in nets}
    res, pln = (net_facts(store, r) for r in pair)
    verdicts = (
        text.landscape_verdicts(res, pln, *rough.values(), pair[0].spec.depth, instead=instead(store, pair))
        if all(rough.values())
        else [Verdict("pending", _("The grid is too small to measure its roughness (it needs 3 × 3 points)."))]
    )
    return [
        View(
            _(text.LANDSCAPE_TITLE),
            landscape_figure(nets, surface=surface),
            text.landscape_caption(steps, LANDSCAPE_PARAMS["images"]),
        ),
        View(_(text.LANDSCAPE_SLICE_TITLE), landscape_slice_figure(nets), text.roughness_caption(rough), verdicts),
    ]


# ------------------------------------------------------------------------------------ shattered gradients


# Gradients along the line, by (store folder, run id, points, weights): the newest few, kept for the server's
# life so a view knows whether it has them without computing (st.cache_data cannot be asked).
_LINES: OrderedDict[tuple, dict] = OrderedDict()
_LINES_KEPT = 32
# One forward and one backward pass per point (about three forward passes' multiply-adds) for each net; below
# this many in all for the pair the line takes a few seconds on two CPU cores (ResNet-20's pair at 256 points,
# about 6·10¹⁰; the 20-layer reference pair's trained and fresh lines together were about half of the Why
# page's 15 s first visit in BENCHMARKS.md), so it is computed on the spot; ResNet-56's pair waits for a button.
LINE_INLINE_MACS = 1e11


def line_cost(pair: Pair, points: int) -> float:
    return sum(3.0 * _size(r.spec)[0] * points for r in pair)


def _line_key(store, run: Run, points: int, weights: str) -> tuple:
    return (str(home(store, run).root.resolve()), run.id, int(points), weights)


def lines_ready(store, pair: Pair, points: int = 256, weights: str = "trained") -> bool:
    """Whether both nets' lines are at hand (or cheap enough to compute on the spot)."""
    kept = all(_line_key(store, r, points, weights) in _LINES for r in pair)
    return kept or line_cost(pair, points) <= LINE_INLINE_MACS


def gradient_line(store, run: Run, points: int, weights: str) -> dict:
    """The run's gradient along the line between its first two test images, trained or at initialisation."""
    key = _line_key(store, run, points, weights)
    if key not in _LINES:
        net, images, _unused = landscape_batch(home(store, run), run.id, 2)
        _LINES[key] = line_gradients(net, run.spec, images[0], images[1], int(points), weights=weights)
        while len(_LINES) > _LINES_KEPT:
            _LINES.popitem(last=False)
    return _LINES[key]


def shattered_view(store, pair: Pair, points: int = 256, weights: str = "trained", compute: bool = False) -> list[View]:
    """Each net's gradient along the line between two test images (`weights`: "trained" or "initial": a
    fresh net of the same architecture), then the autocorrelation with the verdict (Balduzzi et al. 2017).
    A line that would take more than a few seconds is computed only with `compute` (else: a pending view)."""
    if not (compute or lines_ready(store, pair, points, weights)):
        names = _(" and ").join(r.spec.name for r in pair)
        return [View(_(text.SHATTERED_LINE_TITLE), verdicts=[Verdict("pending", text.lines_pending(names, points))])]
    with st.spinner(_("Computing input gradients…")):
        lines = [gradient_line(store, r, points, weights) for r in pair]
    when = _("trained") if weights == "trained" else _("at initialisation")
    nets = [NetResult(f"{r.spec.name} ({when})", r.spec.skip, line) for r, line in zip(pair, lines)]
    res, pln = (net_facts(store, r) for r in pair)
    line = View(
        _(text.SHATTERED_LINE_TITLE),
        gradient_line_figure(
            nets, "t", _("position on the line between the images (t)"), _("d logit / dt along the line")
        ),
        _(text.LINE_CAPTION),
    )
    judge = functools.partial(text.shattered_verdicts, res, pln, when=when, instead=instead(store, pair))
    return [line, _autocorrelation_view(nets, _(text.ACF_CAPTION), judge)]


def _autocorrelation_view(nets: list[NetResult], lead: str, judge: Callable[..., list[Verdict]]) -> View:
    """The autocorrelation of each net's gradient along its line, with the verdict `judge(res_acf, pln_acf)`
    gives (the ResNet first), after the view of the line itself."""
    acfs = {n.label: n.data["autocorrelation"] for n in nets}
    return View(
        _(text.SHATTERED_ACF_TITLE),
        autocorrelation_figure(nets),
        text.lag1_caption(lead, acfs),
        judge(*acfs.values()),
    )


@st.cache_data(max_entries=32, show_spinner=False)
def _toy(depth: int, skip: bool, seed: int) -> dict:
    return toy_shattered(depth, skip, seed=seed)


def toy_shattered_view(depth: int = 50, seed: int = 0) -> list[View]:
    """The paper's 1-D experiment at initialisation (Balduzzi et al. 2017, Fig. 1–2): a ResNet and a plain
    net of `depth` blocks or layers, their gradient along the input line and its autocorrelation."""
    nets = [
        NetResult(
            _("ResNet ({depth} blocks)").format(depth=depth)
            if skip
            else _("plain net ({depth} layers)").format(depth=depth),
            skip,
            _toy(int(depth), skip, int(seed)),
        )
        for skip in (True, False)
    ]
    facts = [text.NetFacts(n.label, n.skip, None, 0.0, None) for n in nets]  # at initialisation: not trained
    line = View(
        _(text.TOY_TITLE),
        gradient_line_figure(nets, "x", _("input x (256 points on [−2, 2])"), _("d output / d input along the line")),
        _(text.TOY_CAPTION),
    )
    judge = functools.partial(text.shattered_verdicts, *facts, when=_("at initialisation"), toy_depth=int(depth))
    return [line, _autocorrelation_view(nets, "", judge)]


# ---------------------------------------------------------------------------------------- the page's controls


def pick_pair(store, pairs: dict[str, Pair], controls: bool) -> Pair | None:
    """The pair the URL names, else the most informative one (said so in a caption); the pair and tab
    pickers when the page shows its controls; a note when the link's pair is not here."""
    state = VIEW_STATE
    best, why_best = informative_pair(store)
    if state.value("pair") not in pairs:
        if state.value("pair"):
            st.warning(
                _("This link's pair ({value}) is not among the runs here.").format(
                    value=markdown_text(state.value("pair"))
                )
            )
        state.set("pair", pair_key(best) if best else "")
    if not pairs:
        st.info(_(text.NO_PAIRS))
        st.page_link(
            page("train"), label=_("Train twins"), icon=":material/model_training:", query_params=with_language()
        )
    elif controls:
        label = lambda k: pair_label(store, pairs[k])  # noqa: E731
        st.selectbox(_("Trained twins"), list(pairs), format_func=label, key=state.key("pair"))
        st.segmented_control(_("Experiment"), list(TABS), format_func=TABS.get, required=True, key=state.key("tab"))
    pair = pairs.get(state.value("pair"))
    if pair is not None:
        if best is not None and pair_key(best) == state.value("pair"):
            # why_best is said in English by studies/pairs.py (marked in presentation/library_words.py)
            st.caption(
                _("Opened on **{pair_label}**. {why_best}").format(
                    pair_label=markdown_text(pair_label(store, best)), why_best=_(why_best)
                )
            )
        reference_note(store, list(pair))
    return pair


def analysis_controls(found: PairAnalyses, key: str, label: str, controls: bool) -> None:
    """Progress and Stop while computing; a button to compute what is missing. The buttons act in their
    callbacks, before the next run of the polling fragment, so a press is never lost to a poll."""
    if found.active:
        st.progress(found.progress)
        if controls:
            st.button(_("Stop"), key=f"{key}.stop", on_click=found.stop)
    elif not found.done and controls:
        label = label if not found.ended else _("Compute them again")
        st.button(label, type="primary", key=f"{key}.start", on_click=found.start)
    polling_changed(key, bool(found.active))


def side_by_side(two: list[View], key: str) -> None:
    """Two views' figures in two columns, then their captions and verdicts."""
    figures = [v.figure for v in two if v.figure is not None]
    for i, (col, figure) in enumerate(zip(st.columns(2) if figures else [], figures)):
        with col:
            show_chart(figure, key=f"{key}.{i}" if i else key)
    for view in two:
        show_view(replace(view, title="", figure=None), key=key)
