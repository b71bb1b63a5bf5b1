"""Words about gradient profiles, computed from the numbers drawn: each net's scale, first ÷ last layer,
where gradients vanish or overflow, and the verdict on the claim the settings make.

The claims (He et al. 2015, §4.1, and the explainers the app was made from):
- with BatchNorm "the backward propagated gradients exhibit healthy norms": nothing vanishes, even in deep
  plain nets — so degradation is an optimisation difficulty, not vanishing gradients;
- without normalisation and with sigmoid, a plain net's first layers get gradients orders of magnitude
  smaller than its last: a sigmoid's derivative is at most 0.25, so every layer shrinks the gradient.
A float32 overflow (inf or nan) is said as what it is — exploding gradients — never as a ratio.
"""

from __future__ import annotations

import numpy as np

from ..analysis.profiles import GradientProfile, first_last_ratio, overflowed, typical_norm
from ..model.spec import NetSpec
from .describe import SUPERSCRIPTS, number
from .i18n import N_, Messages, _
from .views import Verdict

NORM_WORDS = Messages({"batch": "BatchNorm", "none": N_("no normalisation")})
VANISHED = 1e-2  # first ÷ last below this: two orders of magnitude or more, a drop the log scale shows plainly


def describe_ratio(ratio: float) -> str:
    """Words for a first-layer ÷ last-layer gradient ratio, honest about both directions."""
    if not np.isfinite(ratio):  # inf, or nan from inf/inf: float32 overflowed on the way to the input
        return _("explode toward the input: the first layers' gradients overflow float32 (they are infinite)")
    if ratio == 0.0:
        return _("vanish completely toward the input (the first layer's gradient underflows to 0)")
    if ratio < VANISHED:
        return _("vanish toward the input: the first layer's gradient is {ratio} × the last layer's").format(
            ratio=number(ratio)
        )
    if ratio > 1e2:
        return _("grow toward the input: the first layer's gradient is {ratio} × the last layer's").format(
            ratio=number(ratio, 3)
        )
    return _("stay within two orders of magnitude from input to output (first ÷ last = {ratio})").format(
        ratio=number(ratio, 3)
    )


def ratio_text(ratio: float) -> str:
    """A first ÷ last ratio for a metric."""
    if not np.isfinite(ratio):
        return _("∞ (overflow)")
    return _("≈ 0 (underflow)") if ratio == 0 else number(ratio, 3)


def magnitude(value: float) -> str:
    """ "~10⁸", "~10⁻⁴": an order of magnitude, as the log-scale chart shows it."""
    if not np.isfinite(value):
        return _("infinite")
    return "~10" + str(round(float(np.log10(max(value, 1e-300))))).translate(SUPERSCRIPTS)


def _span(indices: np.ndarray) -> str:
    first, last = int(indices[0]) + 1, int(indices[-1]) + 1  # the charts' layer numbers start at 1
    return (
        _("layer {first}").format(first=first)
        if first == last
        else _("layers {first}–{last}").format(first=first, last=last)
    )


def overflow_text(label: str, norms) -> str:
    """ "plain-1202: **exploding gradients** — …": which layers overflowed float32, and the scale of the rest."""
    norms = np.asarray(norms, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(norms))
    finite = len(norms) - len(bad)
    rest = (
        _("; its other layers' norms are {magnitude} (median)").format(magnitude=magnitude(typical_norm(norms)))
        if finite
        else _("; no layer has a finite norm")
    )
    return _(
        "{label}: **exploding gradients** — the norms overflow float32 (infinite or not a "
        "number) in {n:,} of its {n2:,} layers ({span}){rest}"
    ).format(label=label, n=len(bad), n2=len(norms), span=_span(bad), rest=rest)


def describe_profile(label: str, norms) -> str:
    """One sentence about one drawn profile: its overall scale, first ÷ last, and where a drop happens."""
    norms = np.asarray(norms, dtype=np.float64)
    if overflowed(norms):
        return overflow_text(label, norms) + _(".")
    text = _("{label}: gradient norms {magnitude} (median over its {n} layers); they {describe_ratio}").format(
        label=label,
        magnitude=magnitude(typical_norm(norms)),
        n=len(norms),
        describe_ratio=describe_ratio(first_last_ratio(norms)),
    )
    body = norms[:-1]
    if len(norms) > 2 and body.min() > 0 and norms[-1] > 100 * body.max() and body.max() < 100 * body.min():
        text += _(
            " — all at once below the classifier: every layer before it lies between {min} and "
            "{max}, the last layer's is {norms}"
        ).format(min=number(body.min()), max=number(body.max()), norms=number(norms[-1]))
    return text + _(".")


def compare_scales(profiles: list[tuple[str, NetSpec, np.ndarray]]) -> str | None:
    """Which drawn net's norms dominate, when two differ by two orders of magnitude or more, and why, as far
    as the settings tell: without normalisation a ResNet's stream adds up every block's output. None when
    not two profiles, or when one overflowed (its scale is not a number: `overflow_text` says so)."""
    if len(profiles) != 2 or any(overflowed(norms) for _, _, norms in profiles):
        return None
    (la, sa, a), (lb, sb, b) = profiles
    ta, tb = typical_norm(a), typical_norm(b)
    gap = float(np.log10(max(ta, 1e-300)) - np.log10(max(tb, 1e-300)))
    if abs(gap) < 1:
        return _("{la} and {lb} have norms of a similar overall scale ({magnitude} and {magnitude2}).").format(
            la=la, lb=lb, magnitude=magnitude(ta), magnitude2=magnitude(tb)
        )
    (lbig, sbig, tbig), (lsmall, _n, tsmall) = ((la, sa, ta), (lb, sb, tb)) if gap > 0 else ((lb, sb, tb), (la, sa, ta))
    if abs(gap) < 2:
        return _(
            "{lbig}'s norms are about {value:.0f} × {lsmall}'s (medians over the layers: {tbig} and {tsmall})."
        ).format(lbig=lbig, value=tbig / tsmall, lsmall=lsmall, tbig=number(tbig), tsmall=number(tsmall))
    text = _(
        "{lbig}'s norms ({magnitude}) are {gap:.0f} orders of magnitude above {lsmall}'s "
        "({magnitude2}): on the log scale {lbig} dominates the chart."
    ).format(lbig=lbig, magnitude=magnitude(tbig), gap=abs(gap), lsmall=lsmall, magnitude2=magnitude(tsmall))
    if sbig.skip and sbig.norm == "none" and tbig > 1e3:  # healthy norms are ~1e-2…1e1
        text = (
            _(
                "**Without normalisation the residual stream's scale explodes**: every block adds its branch's "
                "output to the stream and nothing rescales it, so the gradients grow with it. "
            )
            + text
        )
    return text


def _vanishes(profile: GradientProfile) -> bool:
    ratio = profile.first_last_ratio
    return bool(np.isfinite(ratio) and ratio < VANISHED) and not profile.overflowed


# The paragraph on the nets whose gradients overflow ({join}), by whether they have BatchNorm. Yang et al. 2019
# (A Mean Field Theory of Batch Normalization): at initialisation, BatchNorm makes a deep net's gradients grow
# exponentially with depth.
EXPLODING = Messages(
    {
        "batch": N_(
            "**Exploding, not vanishing:** with BatchNorm the gradients of {join} *grow* layer by "
            "layer toward the input until they overflow float32 — BatchNorm at initialisation makes "
            "a deep net's gradients grow exponentially with depth (Yang et al. 2019)."
        ),
        "other": N_("**Exploding gradients:** those of {join} grow until they overflow float32."),
    }
)
# The paragraph on the nets whose gradients vanish ({join}) although they are normalised, by whether they use
# sigmoid (without normalisation and with sigmoid, explain_init_profiles says why they vanish instead).
VANISHING = Messages(
    {
        "sigmoid": N_(
            "**Even with BatchNorm, {join} lose their gradient toward the input here**: BatchNorm "
            "normalises each layer's input, but a sigmoid's derivative is at most 0.25 and the "
            "gradient passes through the sigmoids on its way down."
        ),
        "other": N_("The gradients of {join} vanish toward the input here."),
    }
)


def explain_init_profiles(residual: GradientProfile, plain: GradientProfile) -> list[str]:
    """The explanation of the two profiles drawn, computed from them: each net's scale and first ÷ last
    ratio (or its overflow), which net dominates, and only the mechanisms the numbers show."""
    spec = residual.spec
    paragraphs = [describe_profile(p.spec.name, p.norms) for p in (residual, plain)]
    scales = compare_scales([(p.spec.name, p.spec, p.norms) for p in (residual, plain)])
    if scales:
        paragraphs.append(scales)
    exploding = [p.spec.name for p in (residual, plain) if p.overflowed]
    vanishing = [p.spec.name for p in (residual, plain) if _vanishes(p)]
    if exploding:
        paragraphs.append(
            EXPLODING["batch" if spec.norm == "batch" else "other"].format(join=_(" and ").join(exploding))
        )
    if vanishing and spec.activation == "sigmoid" and spec.norm == "none":
        paragraphs.append(
            _(
                "**Why they vanish:** a sigmoid's derivative is at most 0.25, so every layer without "
                "normalisation shrinks the gradient."
            )
            + (
                ""
                if spec.preact
                else _(
                    " In the original ResNet the sigmoid comes *after* the "
                    "addition, so the shortcut path passes through one in every block too — turn on "
                    "pre-activation for a clean identity path."
                )
            )
        )
    elif vanishing:
        paragraphs.append(
            VANISHING["sigmoid" if spec.activation == "sigmoid" else "other"].format(join=_(" and ").join(vanishing))
        )
    elif spec.norm == "batch":
        grows = np.isfinite(plain.first_last_ratio) and plain.first_last_ratio > 1e2
        paragraphs.append(
            _("**With BatchNorm nothing vanishes here**, not even in the plain net")
            + (_(" (its gradients even *grow* toward the input)") if grows else "")
            + (
                _(" — but the gradients of {join} explode instead").format(join=_(" and ").join(exploding))
                if exploding
                else ""
            )
            + _(
                ". So why do deep plain nets still end with a *higher training error*? The paper (§4.1) "
                "calls it an optimisation difficulty — degradation."
            )
        )
    return paragraphs


def init_verdicts(residual: GradientProfile, plain: GradientProfile) -> list[Verdict]:
    """The verdict on the claim these settings make, from the plain net's profile (the claims are about
    plain nets): with BatchNorm, healthy norms (none vanishes, none explodes); without normalisation and
    with sigmoid, the first layers' gradients orders of magnitude below the last's. Other settings make no
    claim, so get no verdict."""
    spec, name = plain.spec, plain.spec.name
    ratio = plain.first_last_ratio
    if spec.norm == "batch":
        setting = _("with BatchNorm") + (
            ""
            if spec.activation == "relu"
            else _(" and {activation} (the paper's nets use ReLU)").format(activation=spec.activation)
        )
        claim = _("The paper (§4.1) finds healthy gradient norms {setting}").format(setting=setting)
        if plain.overflowed:
            return [
                Verdict(
                    "disagrees",
                    _(
                        "Does not agree: {claim}, but {name}'s gradients explode — they overflow float32 in "
                        "{overflowed:,} of its {n:,} layers. Nothing vanishes; they are not healthy either."
                    ).format(claim=claim, name=name, overflowed=plain.overflowed, n=len(plain.norms)),
                )
            ]
        if _vanishes(plain):
            return [
                Verdict(
                    "disagrees",
                    _(
                        "Does not agree: {claim}, but here {name}'s first layer gets {ratio} × the last "
                        "layer's gradient — it vanishes toward the input."
                    ).format(claim=claim, name=name, ratio=number(ratio, 3)),
                )
            ]
        return [
            Verdict(
                "agrees",
                _(
                    "Agrees: {claim}. Nothing vanishes here: {name}'s first layer gets {ratio} × the "
                    "last layer's gradient (ResNet: {ratio_text} ×)."
                ).format(
                    claim=claim, name=name, ratio=number(ratio, 3), ratio_text=ratio_text(residual.first_last_ratio)
                ),
            )
        ]
    if spec.activation == "sigmoid":
        claim = _(
            "without normalisation and with sigmoid a plain net's first layers get gradients orders of "
            "magnitude smaller than its last (a sigmoid's derivative is at most 0.25)"
        )
        if _vanishes(plain):
            orders = "" if ratio == 0 else f"{-np.log10(ratio):.0f}"
            return [
                Verdict(
                    "agrees",
                    # Whole sentences, not pieces: each language words "no gradient at all" its own way.
                    _(
                        "Agrees: {claim}. Here {name}'s first layer gets no gradient at all (it underflows to 0) — "
                        "all orders of magnitude smaller."
                    ).format(claim=claim, name=name)
                    if ratio == 0
                    else _(
                        "Agrees: {claim}. Here {name}'s first layer gets {ratio} × the last's — {orders} orders "
                        "of magnitude smaller."
                    ).format(claim=claim, name=name, ratio=number(ratio, 3), orders=orders),
                )
            ]
        found = (
            _("its gradients explode instead (float32 overflows in {overflowed:,} layers)").format(
                overflowed=plain.overflowed
            )
            if plain.overflowed
            else _("its first layer gets {ratio} × the last layer's gradient").format(ratio=number(ratio, 3))
        )
        return [
            Verdict(
                "disagrees",
                _("Does not agree: {claim}; in {name} {found}.").format(claim=claim, name=name, found=found),
            )
        ]
    return []
