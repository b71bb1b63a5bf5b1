"""The lesson: the argument of He et al. 2015, one claim per step, as data.

After Transformer Explainer's tour (`textbookPages.ts`): the lesson is a list of step records walked by one
small page (pages/lesson.py). Adding a step is adding a record. Each record holds the claim, the
predict-first question where predicting teaches, the evidence — the name of a view the tool pages draw
too, with its parameters and what to look at — and the tool page that reproduces the view.

Every string a learner reads is here, whole: a sentence with numbers has named placeholders
(`{depth}`), never fragments joined in code, so a translation catalog (gettext) can take each one as it is.
The records state what the paper claims; whether the data on screen agrees is the views' verdicts' job.
The few findings computed here (Table 6's parameter counts, the twins' sizes) are functions of numbers
passed in, so they are testable without Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .describe import percent
from .i18n import N_, Messages, _
from .palette import FONT, RESIDUAL_SHADES
from .views import Verdict, View

# Placeholders a tool link's parameter may hold, filled from the evidence shown (ui/views/lesson.py):
# the Fig. 6 experiment, the (ResNet, plain) pair as "resnet_id,plain_id", and the experiment's run ids.
EXPERIMENT = "{experiment}"
PAIR = "{pair}"
RUNS = "{runs}"
CARRIED = ("present", "lang", "src")  # query parameters a lesson step's link keeps


@dataclass(frozen=True)
class Choice:
    value: str  # kept in session state; never shown
    label: str


@dataclass(frozen=True)
class Question:
    """Asked before the evidence is shown; `answer` is the value of the choice the paper supports, and `why`
    is said after the learner has committed, whichever they chose."""

    prompt: str
    choices: tuple[Choice, ...]
    answer: str
    why: str

    def choice(self, value: str) -> Choice:
        return next(c for c in self.choices if c.value == value)


@dataclass(frozen=True)
class Tool:
    """A tool page and the URL parameters that make it show the same view ("open this in the tool")."""

    page: str  # a name in ui/navigation.PAGES
    label: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Evidence:
    """One view (a name in ui/views/lesson.VIEWS), its parameters, what to look at in it, and its tool page."""

    view: str
    look_at: str
    tool: Tool
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    claim: str  # one or two sentences
    evidence: tuple[Evidence, ...]
    question: Question | None = None
    # Shown when a view's verdict says a net did not learn: what that means for this step's claim.
    if_untrained: str = ""
    source: str = ""  # where in the literature the claim is made


def _frozen(**params: Any) -> Mapping[str, Any]:
    return MappingProxyType(dict(params))


STEPS: tuple[Step, ...] = (
    Step(
        slug="degradation",
        title=N_("Deeper plain nets train worse"),
        claim=(
            N_(
                "Stack more layers on a plain convolutional net and, past some depth, its training error goes up "
                "instead of down: the explainers' 退化, degradation. A deeper net could copy a shallower one and "
                "make its extra layers identities, yet training does not find such weights."
            )
        ),
        question=Question(
            prompt=(
                N_(
                    "Two plain nets, of 20 and 56 layers, are trained the same way on the same images. Which one "
                    "ends with the lower training error?"
                )
            ),
            choices=(
                Choice("shallow", N_("The 20-layer net")),
                Choice("deep", N_("The 56-layer net: more layers, more capacity")),
                Choice("same", N_("About the same")),
            ),
            answer="shallow",
            why=(
                N_(
                    "In the paper the 56-layer plain net has the higher training error all through training "
                    "(Fig. 6, left), although it could in principle do everything the 20-layer net does."
                )
            ),
        ),
        evidence=(
            Evidence(
                view="fig6",
                params=_frozen(kind="plain"),
                look_at=(
                    N_(
                        "The dashed curves are the training error, darker for deeper nets: is the deepest plain "
                        "net's curve above the shallowest one's at the end?"
                    )
                ),
                tool=Tool("degradation", N_("Degradation: the whole Fig. 6"), _frozen(exp=EXPERIMENT)),
            ),
        ),
        if_untrained=(
            N_(
                "What that means: a net that never left chance trains worse than one that learned, so the deeper "
                "plain net is worse here, but in an extreme form of the paper's result. The paper's deeper plain "
                "nets did learn, only less well than the shallower ones; with this short recipe the optimiser never "
                "got the deep one started. That is still an optimisation failure, the paper's point, but the size "
                "of the gap says nothing about the paper's numbers. Train for longer (step 9) to see a deep plain "
                "net that learns and still trails the shallow one."
            )
        ),
        source=N_("He et al. 2015, §4.2 and Fig. 6"),
    ),
    Step(
        slug="not-overfitting",
        title=N_("It is not overfitting"),
        claim=(
            N_(
                "Overfitting means fitting the training images better and new images worse. A degraded net fits "
                "even its training images worse, so the trouble is optimisation, not too much capacity."
            )
        ),
        question=Question(
            prompt=(
                N_(
                    "Suppose the 56-layer plain net were merely overfitting. How would its training error compare "
                    "with the 20-layer net's?"
                )
            ),
            choices=(
                Choice("lower", N_("Lower: it memorises the training images")),
                Choice("higher", N_("Higher")),
            ),
            answer="lower",
            why=(
                N_(
                    "An overfitting net does better on the images it trains on and worse on new ones. Degradation "
                    "is worse on both, which is why the paper calls it an optimisation difficulty (§4.1)."
                )
            ),
        ),
        evidence=(
            Evidence(
                view="final_errors",
                look_at=(
                    N_(
                        "Compare the training error column with the test error column: does the deeper plain net "
                        "have the higher error in both?"
                    )
                ),
                tool=Tool("degradation", N_("Degradation: the depth table"), _frozen(exp=EXPERIMENT)),
            ),
        ),
        if_untrained=(
            N_(
                "What that means: a net near chance has not fitted its training images at all, so it cannot be "
                "overfitting them. The claim holds here, in its extreme form."
            )
        ),
        source=N_("He et al. 2015, §1 and §4.1"),
    ),
    Step(
        slug="vanishing-gradients",
        title=N_("Is it vanishing gradients? With BatchNorm, no"),
        claim=(
            N_(
                "The explainers blame 梯度消失, vanishing gradients: backpropagation multiplies one derivative per "
                "layer and sigmoid's derivative is at most 0.25, so without normalisation dozens of layers shrink "
                "the gradient to nothing. With BatchNorm the paper found healthy gradient norms in deep plain nets, "
                "so vanishing gradients do not explain degradation."
            )
        ),
        question=Question(
            prompt=(
                N_(
                    "A freshly initialised 56-layer plain net with BatchNorm and ReLU takes one batch. How does "
                    "the gradient of its first layer compare with that of its last layer?"
                )
            ),
            choices=(
                Choice("vanished", N_("Far smaller: it vanished on the way back")),
                Choice("healthy", N_("Not smaller: it reaches the first layer")),
            ),
            answer="healthy",
            why=(
                N_(
                    "With BatchNorm the gradient reaches the first layer with a healthy norm (§4.1). Remove "
                    "BatchNorm and use sigmoid, and the same net's first layers get almost nothing: that is "
                    "vanishing gradients, and it is a different problem from degradation."
                )
            ),
        ),
        evidence=(
            Evidence(
                view="init_gradients",
                params=_frozen(
                    depth=56, norm="batch", activation="relu", preact=False, batch_size=64, shown=("residual", "plain")
                ),
                look_at=(
                    N_(
                        "The orange line is plain-56, its first layers on the left: does its gradient fall towards "
                        "them, as it would if it vanished?"
                    )
                ),
                tool=Tool("gradients", N_("Gradients: BatchNorm and ReLU"), _frozen(depth="56")),
            ),
            Evidence(
                view="init_gradients",
                params=_frozen(
                    depth=56,
                    norm="none",
                    activation="sigmoid",
                    preact=False,
                    batch_size=64,
                    shown=("residual", "plain"),
                ),
                look_at=(
                    N_(
                        "The same nets without BatchNorm and with sigmoid: how many powers of ten does each net's "
                        "gradient lose on its way to the first layer? Compare with the first figure."
                    )
                ),
                tool=Tool(
                    "gradients",
                    N_("Gradients: no BatchNorm, sigmoid"),
                    _frozen(depth="56", norm="none", activation="sigmoid"),
                ),
            ),
        ),
        source=N_("He et al. 2015, §4.1; Glorot and Bengio 2010; Ioffe and Szegedy 2015"),
    ),
    Step(
        slug="residual-idea",
        title=N_("The residual idea: H(x) = F(x) + x"),
        claim=(
            N_(
                "Instead of asking a stack of layers to be the whole mapping H(x), a residual block asks them only "
                "for the change F(x) = H(x) − x (残差, the residual) and adds x back through a shortcut (恒等映射, "
                "an identity mapping). A block that should do nothing only has to push F towards zero."
            )
        ),
        question=Question(
            prompt=(
                N_(
                    "Some block of a deep net would do best by passing its input through unchanged. In which net "
                    "is that easier to learn?"
                )
            ),
            choices=(
                Choice("plain", N_("The plain net: its layers must learn the identity mapping")),
                Choice("residual", N_("The ResNet: its layers must only output zero")),
            ),
            answer="residual",
            why=(
                N_(
                    "Driving weights towards zero is easy (weight decay already pulls that way); fitting an "
                    "identity with convolutions, BatchNorm and ReLUs is not (§3.1). So a deeper ResNet can always "
                    "fall back on what a shallower one does."
                )
            ),
        ),
        evidence=(
            Evidence(
                view="block",
                params=_frozen(depth=20),
                look_at=N_("The shortcut carries x around the two 3×3 layers, and the addition makes F(x) + x."),
                tool=Tool("architecture", N_("Architecture: ResNet-20, block by block"), _frozen(depth="20")),
            ),
            Evidence(
                view="twins",
                params=_frozen(depth=20),
                look_at=(
                    N_(
                        "The twins have the same layers; only the shortcut arcs differ. Option A's shortcuts pad "
                        "with zeros and add no parameters."
                    )
                ),
                tool=Tool("architecture", N_("Architecture: ResNet-20 beside plain-20"), _frozen(depth="20")),
            ),
        ),
        source=N_("He et al. 2015, §3.1–3.3 and Fig. 2"),
    ),
    Step(
        slug="deeper-is-better",
        title=N_("With shortcuts, deeper is better"),
        claim=(
            N_(
                "Give the same nets shortcuts and the order turns around: the deeper ResNet reaches the lower "
                "training error, and the lower test error too."
            )
        ),
        question=Question(
            prompt=N_("Now ResNet-20 and ResNet-56, trained the same way. Which ends with the lower training error?"),
            choices=(
                Choice("shallow", "ResNet-20"),
                Choice("deep", "ResNet-56"),
                Choice("same", N_("About the same")),
            ),
            answer="deep",
            why=N_("In the paper ResNet-56 ends below ResNet-20 and ResNet-110 lower still (Fig. 6, middle)."),
        ),
        evidence=(
            Evidence(
                view="fig6",
                params=_frozen(kind="residual"),
                look_at=N_("The blue dashed curves: does the darker (deeper) one end below the lighter one?"),
                tool=Tool("degradation", N_("Degradation: the whole Fig. 6"), _frozen(exp=EXPERIMENT)),
            ),
        ),
        if_untrained=(
            N_(
                "What that means: a ResNet that did not learn says nothing about depth; the comparison needs "
                "both ResNets trained. Train longer or on more images (step 9)."
            )
        ),
        source=N_("He et al. 2015, §4.2 and Fig. 6"),
    ),
    Step(
        slug="small-responses",
        title=N_("Residual functions are small"),
        claim=(
            N_(
                "If identity is close to what a block should do, its F(x) stays small. The paper measured how "
                "strongly each 3×3 layer responds (the standard deviation of its output on test images): ResNets "
                "respond more weakly than plain nets, and a deeper ResNet more weakly still."
            )
        ),
        question=Question(
            prompt=N_("In trained twins of the same depth, whose layers respond more weakly?"),
            choices=(
                Choice("residual", N_("The ResNet's")),
                Choice("plain", N_("The plain net's")),
                Choice("same", N_("Neither: the same layers respond the same")),
            ),
            answer="residual",
            why=(
                N_(
                    "Fig. 7: the ResNets' responses are generally smaller than their plain twins', which supports "
                    "the idea that residual functions stay closer to zero."
                )
            ),
        ),
        evidence=(
            Evidence(
                view="responses",
                look_at=N_("Solid blue lines (ResNets) against dashed orange ones (plain nets), layer by layer."),
                tool=Tool("responses", N_("Responses: the same runs"), _frozen(runs=RUNS)),
            ),
        ),
        if_untrained=(
            N_(
                "What that means: the responses of a net that never learned are those of random weights "
                "passed through training noise; they say nothing about trained plain nets. Compare the twins "
                "that both learned."
            )
        ),
        source=N_("He et al. 2015, §4.2 and Fig. 7"),
    ),
    Step(
        slug="why-it-works",
        title=N_("Why it works: lesions, landscapes, gradients"),
        claim=(
            N_(
                "Later studies looked inside trained ResNets: deleting one block barely hurts one, as if it were an "
                "ensemble of many shorter paths (Veit et al. 2016); the loss around its trained weights is smoother "
                "(Li et al. 2018); and the gradients of nearby inputs stay related instead of shattering into noise "
                "(Balduzzi et al. 2017)."
            )
        ),
        question=Question(
            prompt=N_("Delete one block from the middle of a trained ResNet and test it again. Its test error…"),
            choices=(
                Choice("small", N_("rises a little")),
                Choice("chance", N_("jumps to chance: the net is broken")),
            ),
            answer="small",
            why=(
                N_(
                    "Veit et al. found a ResNet's error rises only a little when one block is removed, while a "
                    "plain net, whose every layer lies on its only path, collapses."
                )
            ),
        ),
        evidence=(
            Evidence(
                view="lesion",
                look_at=N_("Each bar is the test error after deleting one block: how far above the intact net?"),
                tool=Tool("why", N_("Why it works: the lesion study"), _frozen(tab="lesion", pair=PAIR)),
            ),
            Evidence(
                view="landscape",
                look_at=(
                    N_("The loss around the trained weights along two random directions: a smooth bowl or a rough one?")
                ),
                tool=Tool("why", N_("Why it works: the loss landscape"), _frozen(tab="landscape", pair=PAIR)),
            ),
            Evidence(
                view="shattered",
                params=_frozen(points=64),  # the page's coarsest line: a quarter of its default's cost
                look_at=N_("The input gradient along a line between two images: a smooth curve or noise?"),
                tool=Tool(
                    "why", N_("Why it works: shattered gradients"), _frozen(tab="shattered", pair=PAIR, points="64")
                ),
            ),
        ),
        if_untrained=(
            N_(
                "What that means: a net that never learned has no trained weights to study; its lesion, "
                "landscape and gradients say nothing about trained nets of its kind. Look at a pair in which both "
                "nets learned, or train one (step 9)."
            )
        ),
        source=N_("Veit et al. 2016; Li et al. 2018; Balduzzi et al. 2017"),
    ),
    Step(
        slug="the-limit",
        title=N_("The limit: 110 layers against 1202"),
        claim=(
            N_(
                "Shortcuts let He et al. train a 1202-layer net on CIFAR-10 to a training error as low as "
                "ResNet-110's, but its test error was worse. They blame overfitting, that many parameters for "
                "50,000 small images: depth helps until the data runs out."
            )
        ),
        question=Question(
            prompt=(
                N_(
                    "ResNet-1202 has about eleven times the parameters of ResNet-110. What was its test "
                    "error on CIFAR-10?"
                )
            ),
            choices=(
                Choice("lower", N_("Lower: deeper is better")),
                Choice("higher", N_("Higher")),
                Choice("same", N_("The same")),
            ),
            answer="higher",
            why=(
                N_(
                    "Table 6: 7.93% for ResNet-1202 against 6.43% for ResNet-110. Both fit their training "
                    "images; the deeper one generalises worse, which is overfitting, unlike degradation."
                )
            ),
        ),
        evidence=(
            Evidence(
                view="table6",
                look_at=(
                    N_(
                        "The parameters are counted here from the nets this app builds; the test errors are the "
                        "paper's. The notes say what training them would take on this machine."
                    )
                ),
                tool=Tool("architecture", N_("Architecture: ResNet-1202"), _frozen(depth="1202")),
            ),
        ),
        source=N_("He et al. 2015, §4.2 and Table 6"),
    ),
    Step(
        slug="try-it",
        title=N_("Try it yourself"),
        claim=(
            N_(
                "Everything so far came from a few small nets trained on a CPU. Train your own: on a CPU the quick "
                "preset trains plain and residual nets of 8 and 44 layers in a few minutes; or pick your own twins "
                "on the Train page."
            )
        ),
        evidence=(
            Evidence(
                view="your_experiment",
                look_at=(
                    N_(
                        "What to look for: the plain nets' dashed training curves (does the deeper one end higher?) "
                        "and the ResNets' (does the deeper one end lower?). A net still near 90% error has not "
                        "learned yet: give it more epochs or images before reading anything into it."
                    )
                ),
                tool=Tool("degradation", N_("Degradation: start the quick preset")),
            ),
        ),
        source="",
    ),
)

# The page's own words: one entry per sentence, placeholders named; translated when looked up (i18n.Messages).
# The steps' words are msgids too (N_), translated where the page shows them.
UI: Mapping[str, str] = Messages(
    {
        "page_title": N_("The lesson"),
        "intro": (
            N_(
                "Why can residual networks be so deep? Nine steps through the argument of He et al. 2015. Each "
                "step makes one claim, asks you to predict, then shows the evidence from nets trained on this "
                "kind of machine, and says whether that evidence agrees."
            )
        ),
        "step_of": N_("Step {number} of {total}"),
        "predict": N_("Predict first"),
        "commit": N_("Check my answer"),
        "choose_first": N_("Choose an answer, then check it: the evidence appears after you commit."),
        "right": N_("Right. {why}"),
        "wrong": N_("Not what the paper found: the answer is “{answer}”. {why}"),
        "your_answer": N_("Your answer: {answer}"),
        "ask_the_room": N_("Ask the room first: {prompt}"),
        "reveal_answer": N_("The paper's answer"),
        "the_answer": N_("The paper's answer: {answer}. {why}"),
        "look_at": N_("**What to look at.** {text}"),
        "open_in_tool": N_("Open this in the tool: {label}"),
        "previous": N_("Previous: {title}"),
        "next": N_("Next: {title}"),
        "back_to_start": N_("Back to step 1"),
        "source": N_("Source: {source}"),
        "evidence_from": N_("Evidence from"),
        "from_reference": N_("the reference runs"),
        "from_mine": N_("my runs"),
        "from_help": (
            N_(
                "The reference runs ship with the app (four nets trained on a 2-core CPU); your runs are the ones "
                "you trained here."
            )
        ),
        "no_reference": N_("This installation has no reference runs, so the evidence is from your runs."),
        "no_mine": (
            N_(
                "You have no finished experiment or twin pair of your own yet, so the evidence is from the "
                "reference runs. Step 9 says how to train one."
            )
        ),
        "reference_from": N_("The reference runs were {provenance}."),
        "no_experiment": (
            N_("No Fig. 6 experiment to show: start one on the Degradation page (step 9 says how), then come back.")
        ),
        "no_pair": N_("No trained ResNet with its plain twin to show: train a pair (step 9), then come back."),
        "pair_learned": N_("These views study {resnet} and its plain twin {plain}, a pair in which both nets learned."),
        "pair_unlearned": (
            N_(
                "These views study {resnet} and its plain twin {plain}; no pair among these runs has two "
                "nets that learned."
            )
        ),
        "bad_step": N_("There is no step {raw}: showing step 1."),
        "did_not_learn": (
            N_(
                "{net} did not learn at all here: its training error ended at {error}, near chance "
                "({chance} with {classes} classes)."
            )
        ),
    }
)

# Table 6 of He et al. 2015 (CIFAR-10 test error, best of 5 runs) and its parameter counts, as printed.
TABLE6 = {110: {"params_m": 1.7, "test_error": 6.43}, 1202: {"params_m": 19.4, "test_error": 7.93}}
# The paper's CIFAR-10 schedule: 64,000 iterations of mini-batches of 128 (§4.2), in images seen.
PAPER_IMAGES = 64_000 * 128

TABLE6_TEXT: Mapping[str, str] = Messages(
    {
        "title": N_("Table 6: ResNet-110 and ResNet-1202"),
        "params_axis": N_("Parameters (millions), counted here"),
        "error_axis": N_("CIFAR-10 test error (%), as the paper reports"),
        "net": "ResNet-{depth}",
        "caption": (
            N_(
                "Left: the parameters of the nets this app builds, counted with resnet_core.count_params. Right: "
                "the test errors of Table 6 (best of five runs), which this machine did not measure."
            )
        ),
        "col_net": N_("net"),
        "col_params": N_("parameters (counted here)"),
        "col_paper_params": N_("parameters (Table 6)"),
        "col_paper_error": N_("test error % (Table 6)"),
        "col_time": N_("the paper's schedule here (estimate)"),
        "agrees": (
            N_(
                "Counted here: ResNet-110 has {small} parameters and ResNet-1202 {large}, as Table 6 prints them "
                "(1.7M and 19.4M); the deeper net has {ratio:.1f}× the parameters."
            )
        ),
        "disagrees": (
            N_(
                "Counted here: ResNet-110 has {small} parameters and ResNet-1202 {large}, which does not match "
                "Table 6 (1.7M and 19.4M)."
            )
        ),
        "no_estimate": N_("unknown"),
        "can_show": (
            N_(
                "On {device}, the paper's schedule (64,000 steps of 128 CIFAR-10 images) would take ResNet-110 "
                "{small} and ResNet-1202 {large} (estimated from the speed of {runs} earlier runs here), so this "
                "machine counts their parameters but does not reproduce their errors. Where CIFAR-10 and a GPU are "
                "available, run: `{command}`"
            )
        ),
        "cannot_estimate": (
            N_(
                "No run has trained on {device} yet, so how long these nets would take here is unknown: train any "
                "net first. Where CIFAR-10 and a GPU are available, run: `{command}`"
            )
        ),
        # On a GPU with CIFAR-10 the sweep's preset is the paper's schedule (studies/experiments.paper_preset).
        "command": N_("python -m resnet_core sweep --depths 110,1202 --dataset cifar10 --device cuda"),
    }
)

TWINS_TEXT: Mapping[str, str] = Messages(
    {
        "same": (
            N_(
                "Counted here: {resnet} and {plain} have the same {params} parameters: the shortcuts of option A add "
                "none, so whatever the ResNet does better is not bought with size."
            )
        ),
        "differ": N_("Counted here: {resnet} has {params_resnet} parameters and {plain} {params_plain}."),
    }
)

YOURS_TEXT: Mapping[str, str] = Messages(
    {
        "title": N_("Your experiment"),
        "none": (
            N_(
                "You have not run a Fig. 6 experiment of your own yet. Start one on the Degradation page: its "
                "first preset here is “{preset}” ({recipe}), and the nets drawn here are the deepest twins it "
                "trains. Then come back: this step shows your curves and their verdict."
            )
        ),
        "which": N_("Your newest experiment, {experiment}."),
    }
)


def step_count() -> int:
    return len(STEPS)


def step(number: int) -> Step:
    """Step `number`, counted from 1 as in the URL."""
    if not 1 <= number <= len(STEPS):
        raise ValueError(f"no step {number}")
    return STEPS[number - 1]


def parse_step(raw: str | None) -> int:
    """The step a URL's `step` value names; ValueError when it names none."""
    if raw is None:
        return 1
    number = int(raw)
    step(number)
    return number


def step_query(number: int, keep: Mapping[str, str] | None = None) -> dict[str, str]:
    """The query parameters of step `number`'s link, keeping those of `keep` that carry across steps
    (`present`, `lang`, the evidence source)."""
    step(number)
    query = {name: value for name, value in (keep or {}).items() if name in CARRIED}
    query["step"] = str(number)
    return query


def tool_query(tool: Tool, context: Mapping[str, str]) -> dict[str, str]:
    """The tool page's query parameters with the placeholders filled from `context` (experiment, pair,
    runs); a parameter whose placeholder has no value in `context` is left out."""
    out = {}
    for name, value in tool.params.items():
        try:
            filled = value.format_map(context)
        except KeyError:
            continue
        if filled:
            out[name] = filled
    return out


def judge(question: Question, value: str) -> tuple[bool, str]:
    """(right, what to say) once the learner has committed to `value`."""
    if value == question.answer:
        return True, UI["right"].format(why=_(question.why))
    return False, UI["wrong"].format(answer=_(question.choice(question.answer).label), why=_(question.why))


def human_millions(count: int) -> str:
    return f"{count / 1e6:.1f}M"


def table6_view(
    counts: Mapping[int, int], durations: Mapping[int, str | None], device: str, estimated_from: int
) -> View:
    """Table 6 beside what this machine computes: `counts` are the parameters of ResNet-110 and -1202 as
    built here; `durations` the words for how long the paper's schedule would take each here (None: no
    estimate, no run trained on this device yet), from `estimated_from` earlier runs."""
    import pandas as pd

    t = TABLE6_TEXT
    depths = sorted(TABLE6)
    names = [t["net"].format(depth=d) for d in depths]
    colors = [RESIDUAL_SHADES[2], RESIDUAL_SHADES[-1]]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(t["params_axis"], t["error_axis"]), horizontal_spacing=0.12)
    fig.add_trace(
        go.Bar(
            x=names,
            y=[counts[d] / 1e6 for d in depths],
            marker_color=colors,
            text=[human_millions(counts[d]) for d in depths],
            textposition="outside",
            showlegend=False,
            hovertemplate="%{x}: %{y:.2f}M<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=names,
            y=[TABLE6[d]["test_error"] for d in depths],
            marker_color=colors,
            marker_pattern_shape="/",
            text=[percent(TABLE6[d]["test_error"] / 100, 2) for d in depths],
            textposition="outside",
            showlegend=False,
            hovertemplate="%{x}: %{y:.2f}%<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.update_yaxes(title_text=_("millions"), rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="%", range=[0, 10], row=1, col=2)
    fig.update_layout(
        title=t["title"], font=FONT, height=380, margin=dict(t=80, b=40, l=60, r=20), plot_bgcolor="white"
    )

    small, large = counts[110], counts[1202]
    matches = all(round(counts[d] / 1e6, 1) == TABLE6[d]["params_m"] for d in depths)
    words = dict(small=f"{small:,}", large=f"{large:,}", ratio=large / small)
    verdict = (
        Verdict("agrees", t["agrees"].format(**words))
        if matches
        else Verdict("disagrees", t["disagrees"].format(**words))
    )

    def when(depth: int) -> str:
        return durations.get(depth) or t["no_estimate"]

    table = pd.DataFrame(
        {
            t["col_net"]: names,
            t["col_params"]: [f"{counts[d]:,}" for d in depths],
            t["col_paper_params"]: [f"{TABLE6[d]['params_m']}M" for d in depths],
            t["col_paper_error"]: [f"{TABLE6[d]['test_error']:.2f}" for d in depths],
            t["col_time"]: [when(d) for d in depths],
        }
    )
    if all(durations.get(d) for d in depths):
        note = t["can_show"].format(
            device=device, small=durations[110], large=durations[1202], runs=estimated_from, command=t["command"]
        )
    else:
        note = t["cannot_estimate"].format(device=device, command=t["command"])
    return View(title="", figure=fig, caption=t["caption"], verdicts=[verdict], notes=[note], table=table)


def not_learned_verdicts(nets: Sequence[tuple[str, float, int]]) -> list[Verdict]:
    """An "untrained" verdict for each (name, final training error as a fraction, classes) of a net shown
    that did not learn (the caller decides which did not: studies/pairs.has_learned)."""
    return [
        Verdict(
            "untrained",
            UI["did_not_learn"].format(
                net=name, error=percent(error), chance=percent(1 - 1 / classes, 0), classes=classes
            ),
        )
        for name, error, classes in nets
    ]


def twins_verdict(resnet: str, plain: str, params_resnet: int, params_plain: int) -> Verdict:
    """What counting the twins' parameters shows (the diagrams' titles show the same counts)."""
    if params_resnet == params_plain:
        return Verdict("agrees", TWINS_TEXT["same"].format(resnet=resnet, plain=plain, params=f"{params_resnet:,}"))
    return Verdict(
        "disagrees",
        TWINS_TEXT["differ"].format(
            resnet=resnet, plain=plain, params_resnet=f"{params_resnet:,}", params_plain=f"{params_plain:,}"
        ),
    )
