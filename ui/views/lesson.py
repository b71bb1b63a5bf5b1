"""The lesson's evidence: which runs a step shows, and each step's view drawn by the tool pages' own view
functions (so the lesson shows exactly what the tool page shows, verdict included)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

import resnet_core as rc
from resnet_core.execution.estimates import estimate, measured_rates
from resnet_core.presentation import lesson
from resnet_core.presentation.describe import describe_duration, describe_provenance, describe_recipe
from resnet_core.presentation.i18n import N_, _, say
from resnet_core.presentation.views import Verdict, View
from resnet_core.store.run_store import Run
from resnet_core.studies import reference
from resnet_core.studies.experiments import cifar_available, default_preset, experiment_runs, experiments
from resnet_core.studies.pairs import final_train_error, informative_pair, run_has_learned
from resnet_core.studies.reference import read_provenance
from resnet_core.training.device import device_words
from ui.language import spinning
from ui.reference import reference_store
from ui.runs import get_runner
from ui.views.render import show_drawing, show_verdict, show_view

REFERENCE, MINE = "reference", "mine"


@dataclass
class Evidence:
    """The runs a lesson step's views read: a store (the reference runs' or the user's), the Fig. 6
    experiment in it, that experiment's runs, and the (ResNet, plain twin) pair the "why" views study."""

    source: str
    store: Any
    experiment: str | None
    runs: list[Run]
    pair: tuple[Run, Run] | None
    notes: list[str] = field(default_factory=list)

    def placeholders(self) -> dict[str, str]:
        """Values for the tool links' placeholders (presentation/lesson.EXPERIMENT, PAIR, RUNS)."""
        out = {}
        if self.experiment:
            out["experiment"] = self.experiment
        if self.runs:
            out["runs"] = ",".join(r.id for r in self.runs)
        if self.pair:
            out["pair"] = ",".join(r.id for r in self.pair)
        return out


def _from(source: str, store) -> Evidence:
    known = experiments(store)
    experiment = (
        reference.EXPERIMENT if source == REFERENCE and reference.EXPERIMENT in known else next(iter(known), None)
    )
    runs = experiment_runs(store, experiment) if experiment else []
    pair, _unused = informative_pair(store)
    return Evidence(source, store, experiment, runs, pair)


def evidence(source: str) -> Evidence:
    """The runs a step shows: the reference runs (the default), or the user's when they chose theirs and
    have some; a note says when the other source had to be used."""
    ref, user = reference_store(), get_runner().store
    if ref is None:
        found = _from(MINE, user)
        found.notes.insert(0, lesson.UI["no_reference"])
        return found
    if source == MINE:
        mine = _from(MINE, user)
        if mine.experiment or mine.pair:
            return mine
        found = _from(REFERENCE, ref)
        found.notes.insert(0, lesson.UI["no_mine"])
        return found
    found = _from(REFERENCE, ref)
    found.notes.append(lesson.UI["reference_from"].format(provenance=describe_provenance(read_provenance(ref.root))))
    return found


def _missing(text: str) -> View:
    return View(title="", verdicts=[Verdict("pending", text)])


# --- one function per view name in presentation/lesson.STEPS: (evidence, params) -> (view, extra verdicts)


def _fig6(ev: Evidence, params: Mapping[str, Any]) -> View:
    from ui.views.degradation import fig6_view

    if not ev.experiment:
        return _missing(lesson.UI["no_experiment"])
    return fig6_view(ev.store, ev.experiment, params["kind"])


def _final_errors(ev: Evidence, params: Mapping[str, Any]) -> View:
    from ui.views.degradation import final_errors_view

    if not ev.experiment:
        return _missing(lesson.UI["no_experiment"])
    return final_errors_view(ev.store, ev.experiment)


def _init_gradients(ev: Evidence, params: Mapping[str, Any]) -> View:
    from ui.views.gradients import init_gradients_view

    return init_gradients_view(
        params["depth"],
        params["norm"],
        params["activation"],
        params["preact"],
        params["batch_size"],
        list(params["shown"]),
    )


def _block(ev: Evidence, params: Mapping[str, Any]) -> View:
    from ui.views.architecture import block_view

    return block_view(rc.NetSpec(depth=params["depth"]))


@st.cache_data(max_entries=8, show_spinner=False)
def _params_of(depth: int, skip: bool) -> int:
    return rc.count_params(rc.build_net(rc.NetSpec(depth=depth, skip=skip)))


def _twins(ev: Evidence, params: Mapping[str, Any]) -> View:
    from ui.views.architecture import twins_view

    spec = rc.NetSpec(depth=params["depth"])
    view = twins_view(spec)
    plain = spec.replace(skip=False)
    counted = lesson.twins_verdict(spec.name, plain.name, _params_of(spec.depth, True), _params_of(spec.depth, False))
    view.verdicts = [*view.verdicts, counted]
    return view


def _responses(ev: Evidence, params: Mapping[str, Any]) -> View:
    from ui.views.responses import responses_view

    runs = [r.id for r in ev.runs] or ([r.id for r in ev.pair] if ev.pair else [])
    if not runs:
        return _missing(lesson.UI["no_pair"])
    return responses_view(ev.store, runs)


def _why(name: str) -> Callable[[Evidence, Mapping[str, Any]], list[View]]:
    def draw(ev: Evidence, params: Mapping[str, Any]) -> list[View]:
        from ui.views import why

        if ev.pair is None:
            return [_missing(lesson.UI["no_pair"])]
        return getattr(why, f"{name}_view")(ev.store, ev.pair, **params)

    return draw


def cifar_macs(depth: int) -> int:
    """Multiply-adds per image of the CIFAR ResNet of `depth` layers (6n + 2), without building it: the net is
    three stages of n blocks, and each added block repeats the same convolutions, so the count is affine in
    n; measured on the two shallowest nets (8 and 14 layers) and extended. A forward pass of ResNet-1202
    measures the same number but costs seconds of the page's first open."""
    one, two = (rc.count_flops(rc.build_net(rc.NetSpec(depth=d))) for d in (8, 14))
    return one + ((depth - 2) // 6 - 1) * (two - one)


@spinning(N_("Counting the parameters of ResNet-110 and ResNet-1202…"))
@st.cache_resource(show_spinner=False)
def _table6_counts() -> dict[int, tuple[int, int]]:
    """(parameters counted on the built net, multiply-adds per image) of Table 6's CIFAR ResNets."""
    return {d: (rc.count_params(rc.build_net(rc.NetSpec(depth=d))), cifar_macs(d)) for d in lesson.TABLE6}


@st.cache_data(max_entries=64, show_spinner=False)
def _macs(spec: rc.NetSpec) -> int:
    return rc.summarize(spec).macs


def warm() -> None:
    """What the steps compute at their first open from the reference runs, ahead of it (ui/warm.py's background
    thread): step 7's gradient lines of the reference pair at the
    lesson's points, step 8's Table 6 counts (ResNet-1202 built) and the reference runs' sizes its estimate
    of training times reads, step 9's diagrams."""
    from ui.views import architecture, why

    _table6_counts()
    architecture.warm(_try_it()[1])
    ref = reference_store()
    if ref is None:
        return
    measured_rates(ref, rc.describe_device(), _macs)
    pair = informative_pair(ref)[0]
    for ev in (ev for step in lesson.STEPS for ev in step.evidence if ev.view == "shattered"):
        for run in pair or ():
            why.gradient_line(ref, run, int(ev.params["points"]), "trained")


def _table6(ev: Evidence, params: Mapping[str, Any]) -> View:
    counts = _table6_counts()
    device = rc.describe_device()
    user = get_runner().store
    ref = reference_store()
    rates = measured_rates(user, device, _macs) + (measured_rates(ref, device, _macs) if ref is not None else [])
    durations, used = {}, 0
    for depth, (_unused, macs) in counts.items():
        found = estimate(macs, lesson.PAPER_IMAGES, 1, rates)
        durations[depth] = describe_duration(found.seconds) if found else None
        used = found.runs if found else used
    # the speeds are kept under the device's English label; the page says it in the reader's language
    return lesson.table6_view({d: p for d, (p, _) in counts.items()}, durations, say(device_words()), used)


def _try_it():
    """(the Degradation page's first preset here, its deepest net): what step 9 offers to train, and draws
    while the visitor has no experiment of their own."""
    device = rc.pick_device().type
    preset = default_preset(device, device == "cuda" and cifar_available())
    return preset, rc.NetSpec(depth=max(preset.depths))


def _your_experiment(ev: Evidence, params: Mapping[str, Any]) -> list[View]:
    user = get_runner().store
    mine = experiments(user)
    if mine:
        from ui.views.degradation import fig6_view

        views = [fig6_view(user, mine[0], kind) for kind in ("plain", "residual")]
        views[-1].notes = [lesson.YOURS_TEXT["which"].format(experiment=mine[0]), *views[-1].notes]
        return views
    from ui.views.architecture import twins_view

    preset, spec = _try_it()
    view = twins_view(spec)
    text = lesson.YOURS_TEXT["none"].format(preset=_(preset.name), recipe=describe_recipe(preset.config))
    view.verdicts = [Verdict("pending", text)]
    return view


VIEWS: dict[str, Callable[[Evidence, Mapping[str, Any]], View | list[View]]] = {
    "fig6": _fig6,
    "final_errors": _final_errors,
    "init_gradients": _init_gradients,
    "block": _block,
    "twins": _twins,
    "responses": _responses,
    "lesion": _why("lesion"),
    "landscape": _why("landscape"),
    "shattered": _why("shattered"),
    "table6": _table6,
    "your_experiment": _your_experiment,
}


RUN_VIEWS = {"fig6", "final_errors", "responses", "lesion", "landscape", "shattered"}  # views of trained runs
PAIR_VIEWS = {"lesion", "landscape", "shattered"}


def uses_runs(step: lesson.Step) -> bool:
    """Whether the step's evidence is trained runs (so the learner may choose whose)."""
    return any(item.view in RUN_VIEWS for item in step.evidence)


def step_notes(step: lesson.Step, ev: Evidence) -> list[str]:
    """Where the step's runs come from, and which pair the "why" views study, for the step's foot."""
    if not uses_runs(step):
        return []
    notes = list(ev.notes)
    if ev.pair is not None and any(item.view in PAIR_VIEWS for item in step.evidence):
        resnet, plain = ev.pair
        learned = run_has_learned(ev.store, resnet) and run_has_learned(ev.store, plain)
        note = lesson.UI["pair_learned" if learned else "pair_unlearned"]
        notes.append(note.format(resnet=resnet.spec.name, plain=plain.spec.name))
    return notes


def shown_runs(item: lesson.Evidence, ev: Evidence) -> list[Run]:
    """The trained runs whose data evidence `item` draws."""
    if item.view == "fig6":
        return [r for r in ev.runs if r.spec.skip == (item.params["kind"] == "residual")]
    if item.view in ("final_errors", "responses"):
        return ev.runs or list(ev.pair or ())
    if item.view in ("lesion", "landscape", "shattered"):
        return list(ev.pair or ())
    return []


def not_learned(items: Sequence[lesson.Evidence], ev: Evidence) -> list[Verdict]:
    """A verdict for each net the step shows that finished without learning (near chance)."""
    runs = {r.id: r for item in items for r in shown_runs(item, ev)}.values()
    failed = [r for r in runs if run_has_learned(ev.store, r) is False]
    return lesson.not_learned_verdicts(
        [(r.spec.name, final_train_error(ev.store, r), r.spec.num_classes) for r in failed]
    )


def _listed(views: View | list[View]) -> list[View]:
    return list(views) if isinstance(views, list) else [views]


def draw(item: lesson.Evidence, ev: Evidence) -> list[View]:
    """The views evidence `item` names (one, or a figure and its companion), on the runs of `ev`."""
    return _listed(VIEWS[item.view](ev, item.params))


def show_evidence(view: View, key: str) -> None:
    """A view laid out as its tool page does (ui/views/render.show_view); a view with `diagrams` (the
    Architecture page's twins) shows both nets side by side, as that page does, without its stage table."""
    diagrams = getattr(view, "diagrams", None)
    if not diagrams:
        show_view(view, key=key)
        return
    st.subheader(view.title)
    for column, (spec, svg) in zip(st.columns(len(diagrams), gap="medium"), diagrams):
        with column:
            show_drawing(svg, key=f"{key}.{spec.name}", label=_("Diagram of {name}").format(name=spec.name))
    st.caption(view.caption)
    for verdict in view.verdicts:
        show_verdict(verdict)
    for note in view.notes:
        st.caption(note)


def predict_first(question: lesson.Question | None, number: int, present: bool) -> bool:
    """The step's question before its evidence (Hohman et al. 2020): the learner picks an answer and commits,
    then sees whether it was right; a projector (present) asks the room and hides the answer in an expander.
    Whether the evidence may be shown now."""
    answer_key = f"lesson.answer.{number}"
    revealed = present or question is None or answer_key in st.session_state
    if question is not None and present:
        st.info(lesson.UI["ask_the_room"].format(prompt=_(question.prompt)), icon=":material/forum:")
        # keyed: kept open when the language changes
        with st.expander(lesson.UI["reveal_answer"], key=f"lesson.reveal.{number}"):
            right = _(question.choice(question.answer).label)
            st.markdown(lesson.UI["the_answer"].format(answer=right, why=_(question.why)))
    elif question is not None:
        st.subheader(lesson.UI["predict"])
        labels = {c.value: _(c.label) for c in question.choices}
        choice = st.radio(
            _(question.prompt),
            list(labels),
            index=None,
            format_func=labels.get,
            key=f"lesson.choice.{number}",
            disabled=revealed,
        )
        if not revealed:
            if st.button(lesson.UI["commit"], type="primary", key=f"lesson.commit.{number}", disabled=choice is None):
                st.session_state[answer_key] = choice
                st.rerun()
            st.caption(lesson.UI["choose_first"])
        else:
            right, said = lesson.judge(question, st.session_state[answer_key])
            (st.success if right else st.error)(said, icon=":material/check:" if right else ":material/close:")
    return revealed
