"""The paper's Fig. 7 claims checked on the runs shown: "ResNets have generally smaller responses than
their plain counterparts" and "the deeper ResNet has smaller magnitudes of responses" (He et al. 2015,
§4.2). A verdict needs a margin the spread across layers cannot produce (a bootstrap interval over the
layers), and a comparison with a net that did not learn says nothing about trained nets, so it says that.
"""

from __future__ import annotations

import numpy as np

from ..model.spec import NetSpec
from .i18n import _, ngettext
from .views import Verdict

BOOTSTRAP_SAMPLES = 4000


def mean_difference_ci(a, b, paired: bool, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """mean(a) − mean(b) over layers and a bootstrap confidence interval for it: resampling the layers
    (paired: the same layers of both nets, i.e. the per-layer differences; else each net's layers apart).
    Returns (estimate, low, high). Seeded, so the same runs always get the same verdict."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    rng = np.random.default_rng(seed)
    if paired:
        d = a - b
        boots = d[rng.integers(0, len(d), (BOOTSTRAP_SAMPLES, len(d)))].mean(axis=1)
        estimate = float(d.mean())
    else:
        boots = a[rng.integers(0, len(a), (BOOTSTRAP_SAMPLES, len(a)))].mean(axis=1) - b[
            rng.integers(0, len(b), (BOOTSTRAP_SAMPLES, len(b)))
        ].mean(axis=1)
        estimate = float(a.mean() - b.mean())
    low, high = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return estimate, float(low), float(high)


def _verdict(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray, subject: str) -> tuple[bool | None, str]:
    """Whether a's responses are smaller than b's, by a margin the spread across layers cannot produce."""
    paired = len(a) == len(b)
    head = _("{name_a}: {mean:.3f} vs {name_b}: {mean2:.3f}").format(
        name_a=name_a, mean=a.mean(), name_b=name_b, mean2=b.mean()
    )
    if min(len(a), len(b)) < 3:
        return None, _("{head} — too close to call: too few layers to tell a difference from noise").format(head=head)
    estimate, low, high = mean_difference_ci(a, b, paired)
    how = _("per-layer differences") if paired else _("layers of each net")
    spread = _("mean difference {estimate:+.3f}, 95% bootstrap CI {low:+.3f} to {high:+.3f} over the {how}").format(
        estimate=estimate, low=low, high=high, how=how
    )
    if high < 0:
        return True, _("{head} — {subject} responses are smaller ({spread})").format(
            head=head, subject=subject, spread=spread
        )
    if low > 0:
        return False, _("{head} — {subject} responses are larger ({spread})").format(
            head=head, subject=subject, spread=spread
        )
    return None, _(
        "{head} — too close to call: {subject} responses are neither clearly smaller nor larger ({spread})"
    ).format(head=head, subject=subject, spread=spread)


def fig7_findings(responses: dict[NetSpec, np.ndarray]) -> list[tuple[bool | None, str]]:
    """Check the user's runs against the paper's Fig. 7 (§4.2): "ResNets have generally smaller responses
    than their plain counterparts" and "the deeper ResNet has smaller magnitudes of responses".

    `responses`: each run's response std per layer (one epoch). Returns (agrees, sentence) per comparison
    that the runs allow: each plain/residual pair of the same net (compared layer by layer), and each pair
    of ResNets of different depth that differ in nothing else (their layers resampled apart). `agrees` is
    None — "too close to call" — unless the 95% bootstrap interval of the mean difference excludes 0: a
    verdict needs a margin that the spread across layers cannot produce.
    """
    responses = {spec: np.asarray(v, dtype=np.float64).ravel() for spec, v in responses.items()}
    findings = []
    for spec, values in responses.items():
        twin = spec.replace(skip=True)
        if not spec.skip and twin in responses:
            findings.append(_verdict(twin.name, responses[twin], spec.name, values, _("the ResNet's")))
    residual = sorted((s for s in responses if s.skip), key=lambda s: s.depth)
    for shallow, deep in zip(residual, residual[1:]):
        if deep.replace(depth=shallow.depth) == shallow:
            findings.append(
                _verdict(deep.name, responses[deep], shallow.name, responses[shallow], _("the deeper ResNet's"))
            )
    return findings


def fig7_verdicts(responses: dict[NetSpec, np.ndarray], untrained: dict[NetSpec, str] | None = None) -> list[Verdict]:
    """`fig7_findings` as verdicts, worded with what each one means. `untrained`: the nets shown that did
    not learn, each named with its final training error ("plain-56 (final training error 88%, chance
    90%)"); a comparison that involves one is an *untrained* verdict
    whose text says what to do instead, whatever its numbers."""
    untrained = untrained or {}
    verdicts = []
    for (agrees, sentence), specs in zip(fig7_findings(responses), _compared(responses)):
        flat = [untrained[s] for s in specs if s in untrained]
        if flat:
            who = _(" and ").join(flat)
            verdicts.append(
                Verdict(
                    "untrained",
                    # One sentence per number, not pieces: a language orders "its"/"their" its own way.
                    ngettext(
                        "Not trained enough to say: {who} did not learn, so its responses say nothing about "
                        "trained nets (measured: {sentence}). Train longer on the Train page, or show a pair in "
                        "which both nets learned.",
                        "Not trained enough to say: {who} did not learn, so their responses say nothing about "
                        "trained nets (measured: {sentence}). Train longer on the Train page, or show a pair in "
                        "which both nets learned.",
                        len(flat),
                    ).format(who=who, sentence=sentence),
                )
            )
        elif agrees is None:
            text = sentence.replace(_(" — too close to call:"), _(" —"), 1)  # said once, by the verdict
            verdicts.append(
                Verdict("too_close", _("Too close to call: {text} (mean std over layers).").format(text=text))
            )
        else:
            head = _("Agrees: ") if agrees else _("Does not agree: ")
            verdicts.append(
                Verdict(
                    "agrees" if agrees else "disagrees",
                    _("{head}{sentence} (mean std over layers).").format(head=head, sentence=sentence),
                )
            )
    return verdicts


def _compared(responses: dict[NetSpec, np.ndarray]) -> list[tuple[NetSpec, NetSpec]]:
    """The pairs of nets `fig7_findings` compares, in its order."""
    pairs = [
        (spec.replace(skip=True), spec) for spec in responses if not spec.skip and spec.replace(skip=True) in responses
    ]
    residual = sorted((s for s in responses if s.skip), key=lambda s: s.depth)
    pairs += [
        (deep, shallow) for shallow, deep in zip(residual, residual[1:]) if deep.replace(depth=shallow.depth) == shallow
    ]
    return pairs
