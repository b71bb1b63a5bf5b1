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
from .views import Verdict

NORM_WORDS = {"batch": "BatchNorm", "none": "no normalisation"}
VANISHED = 1e-2  # first ÷ last below this: two orders of magnitude or more, a drop the log scale shows plainly


def describe_ratio(ratio: float) -> str:
    """Words for a first-layer ÷ last-layer gradient ratio, honest about both directions."""
    if not np.isfinite(ratio):  # inf, or nan from inf/inf: float32 overflowed on the way to the input
        return "explode toward the input: the first layers' gradients overflow float32 (they are infinite)"
    if ratio == 0.0:
        return "vanish completely toward the input (the first layer's gradient underflows to 0)"
    if ratio < VANISHED:
        return f"vanish toward the input: the first layer's gradient is {ratio:.1e} × the last layer's"
    if ratio > 1e2:
        return f"grow toward the input: the first layer's gradient is {ratio:.3g} × the last layer's"
    return f"stay within two orders of magnitude from input to output (first ÷ last = {ratio:.3g})"


def ratio_text(ratio: float) -> str:
    """A first ÷ last ratio for a metric."""
    if not np.isfinite(ratio):
        return "∞ (overflow)"
    return "≈ 0 (underflow)" if ratio == 0 else f"{ratio:.3g}"


def magnitude(value: float) -> str:
    """ "~1e8", "~1e-4": an order of magnitude, as the log-scale chart shows it."""
    if not np.isfinite(value):
        return "infinite"
    return f"~1e{round(float(np.log10(max(value, 1e-300))))}"


def _span(indices: np.ndarray) -> str:
    first, last = int(indices[0]) + 1, int(indices[-1]) + 1  # the charts' layer numbers start at 1
    return f"layer {first}" if first == last else f"layers {first}–{last}"


def overflow_text(label: str, norms) -> str:
    """ "plain-1202: **exploding gradients** — …": which layers overflowed float32, and the scale of the rest."""
    norms = np.asarray(norms, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(norms))
    finite = len(norms) - len(bad)
    rest = (
        f"; its other layers' norms are {magnitude(typical_norm(norms))} (median)"
        if finite
        else "; no layer has a finite norm"
    )
    return (
        f"{label}: **exploding gradients** — the norms overflow float32 (infinite or not a number) in "
        f"{len(bad):,} of its {len(norms):,} layers ({_span(bad)}){rest}"
    )


def describe_profile(label: str, norms) -> str:
    """One sentence about one drawn profile: its overall scale, first ÷ last, and where a drop happens."""
    norms = np.asarray(norms, dtype=np.float64)
    if overflowed(norms):
        return overflow_text(label, norms) + "."
    text = (
        f"{label}: gradient norms {magnitude(typical_norm(norms))} (median over its {len(norms)} layers); "
        f"they {describe_ratio(first_last_ratio(norms))}"
    )
    body = norms[:-1]
    if len(norms) > 2 and body.min() > 0 and norms[-1] > 100 * body.max() and body.max() < 100 * body.min():
        text += (
            f" — all at once below the classifier: every layer before it lies between {body.min():.1e} and "
            f"{body.max():.1e}, the last layer's is {norms[-1]:.2g}"
        )
    return text + "."


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
        return f"{la} and {lb} have norms of a similar overall scale ({magnitude(ta)} and {magnitude(tb)})."
    (lbig, sbig, tbig), (lsmall, _, tsmall) = ((la, sa, ta), (lb, sb, tb)) if gap > 0 else ((lb, sb, tb), (la, sa, ta))
    if abs(gap) < 2:
        return (
            f"{lbig}'s norms are about {tbig / tsmall:.0f} × {lsmall}'s (medians over the layers: {tbig:.2g} "
            f"and {tsmall:.2g})."
        )
    text = (
        f"{lbig}'s norms ({magnitude(tbig)}) are {abs(gap):.0f} orders of magnitude above {lsmall}'s "
        f"({magnitude(tsmall)}): on the log scale {lbig} dominates the chart."
    )
    if sbig.skip and sbig.norm == "none" and tbig > 1e3:  # healthy norms are ~1e-2…1e1
        text = (
            "**Without normalisation the residual stream's scale explodes**: every block adds its branch's "
            "output to the stream and nothing rescales it, so the gradients grow with it. " + text
        )
    return text


def _vanishes(profile: GradientProfile) -> bool:
    ratio = profile.first_last_ratio
    return bool(np.isfinite(ratio) and ratio < VANISHED) and not profile.overflowed


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
    if exploding and spec.norm == "batch":
        # Yang et al. 2019 (A Mean Field Theory of Batch Normalization): at initialisation, BatchNorm
        # makes a deep net's gradients grow exponentially with depth.
        paragraphs.append(
            f"**Exploding, not vanishing:** with BatchNorm the gradients of {' and '.join(exploding)} *grow* "
            "layer by layer toward the input until they overflow float32 — BatchNorm at initialisation makes "
            "a deep net's gradients grow exponentially with depth (Yang et al. 2019)."
        )
    elif exploding:
        paragraphs.append(
            f"**Exploding gradients:** those of {' and '.join(exploding)} grow until they overflow float32."
        )
    if vanishing and spec.activation == "sigmoid":
        if spec.norm == "none":
            paragraphs.append(
                "**Why they vanish:** a sigmoid's derivative is at most 0.25, so every layer without "
                "normalisation shrinks the gradient."
                + (
                    ""
                    if spec.preact
                    else " In the original ResNet the sigmoid comes *after* the "
                    "addition, so the shortcut path passes through one in every block too — turn on "
                    "pre-activation for a clean identity path."
                )
            )
        else:
            paragraphs.append(
                f"**Even with BatchNorm, {' and '.join(vanishing)} lose their gradient toward the "
                "input here**: BatchNorm normalises each layer's input, but a sigmoid's derivative is "
                "at most 0.25 and the gradient passes through the sigmoids on its way down."
            )
    elif vanishing:
        paragraphs.append(f"The gradients of {' and '.join(vanishing)} vanish toward the input here.")
    elif spec.norm == "batch":
        grows = np.isfinite(plain.first_last_ratio) and plain.first_last_ratio > 1e2
        paragraphs.append(
            "**With BatchNorm nothing vanishes here**, not even in the plain net"
            + (" (its gradients even *grow* toward the input)" if grows else "")
            + (f" — but the gradients of {' and '.join(exploding)} explode instead" if exploding else "")
            + ". So why do deep plain nets still end with a *higher training error*? The paper (§4.1) "
            "calls it an optimisation difficulty — degradation."
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
        setting = "with BatchNorm" + (
            "" if spec.activation == "relu" else f" and {spec.activation} (the paper's nets use ReLU)"
        )
        claim = f"The paper (§4.1) finds healthy gradient norms {setting}"
        if plain.overflowed:
            return [
                Verdict(
                    "disagrees",
                    f"Does not agree: {claim}, but {name}'s gradients explode — they overflow float32 in "
                    f"{plain.overflowed:,} of its {len(plain.norms):,} layers. Nothing vanishes; they are not "
                    "healthy either.",
                )
            ]
        if _vanishes(plain):
            return [
                Verdict(
                    "disagrees",
                    f"Does not agree: {claim}, but here {name}'s first layer gets {ratio:.1e} × the last "
                    "layer's gradient — it vanishes toward the input.",
                )
            ]
        return [
            Verdict(
                "agrees",
                f"Agrees: {claim}. Nothing vanishes here: {name}'s first layer gets {ratio:.2g} × the last "
                f"layer's gradient (ResNet: {ratio_text(residual.first_last_ratio)} ×).",
            )
        ]
    if spec.activation == "sigmoid":
        claim = (
            "without normalisation and with sigmoid a plain net's first layers get gradients orders of "
            "magnitude smaller than its last (a sigmoid's derivative is at most 0.25)"
        )
        if _vanishes(plain):
            orders = "all" if ratio == 0 else f"{-np.log10(ratio):.0f}"
            return [
                Verdict(
                    "agrees",
                    f"Agrees: {claim}. Here {name}'s first layer gets "
                    + ("no gradient at all (it underflows to 0)" if ratio == 0 else f"{ratio:.1e} × the last's")
                    + f" — {orders} orders of magnitude smaller.",
                )
            ]
        found = (
            f"its gradients explode instead (float32 overflows in {plain.overflowed:,} layers)"
            if plain.overflowed
            else f"its first layer gets {ratio:.2g} × the last layer's gradient"
        )
        return [Verdict("disagrees", f"Does not agree: {claim}; in {name} {found}.")]
    return []
