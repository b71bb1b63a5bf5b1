"""Words of the "why residual nets train" views: what each experiment asks, what to see in its figure, and
a verdict computed from the numbers drawn beside it.

The three claims, each checked against the data on screen rather than stated:
- Veit, Wilber & Belongie 2016: deleting one block barely hurts a trained ResNet, while a plain net
  collapses; with k blocks deleted, a ResNet's error rises smoothly, like an ensemble's losing members.
- Li, Xu, Taylor, Studer & Goldstein 2018: with shortcuts the loss surface around the trained weights stays
  smooth and nearly convex; without them it turns chaotic as depth grows.
- Balduzzi et al. 2017: a deep plain net's input gradient is shattered (white noise: autocorrelation near 0
  beyond lag 0); a ResNet's keeps its structure.

A net whose training error stayed near chance did not learn: its figures say nothing about trained nets of
its kind, and the verdict says so (and what to do instead) rather than comparing it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from .describe import percent
from .i18n import N_, Messages, _, joined, ngettext
from .text import markdown_text
from .views import Verdict

# How far apart two nets' lesion damage must be, as a share of the way from the intact error to chance, to
# count as a difference: on 1,000 test images an error near 50 % has a standard error of about 1.6 points,
# and 0.15 of a typical 50–70 point headroom is 8–10 points, several standard errors.
LESION_MARGIN = 0.15
# A ResNet "hurt little" by a deletion (Veit et al.'s 110-layer net on CIFAR-10: most single deletions moved
# the error by a few points) goes less than a third of the way to chance.
LITTLE_DAMAGE = 1 / 3
# Within this many points of chance a lesioned net's mean error counts as having reached chance.
NEAR_CHANCE_POINTS = 5.0
# Roughness measures (analysis/landscape.roughness) differ when the mean |Laplacian of log loss| differs by
# more than this factor, or the share of non-convex points by more than this many points: an 11 × 11 grid
# has 81 interior points, and a share near 50 % over 81 points has a standard error of about 5.5 points, so
# 15 points is about two standard errors of a difference.
LAPLACIAN_RATIO = 1.25
NONCONVEX_MARGIN = 0.15
# Li et al. (Fig. 5) saw no clear difference at 20 layers; the plain surfaces turned chaotic at 56 and 110.
LANDSCAPE_DEPTH = 56
# Two gradients' mean autocorrelation over the first ACF_LAGS lags differ when apart by more than this: white
# noise over 256 points gives r_k within about ±0.06 of 0 at each lag (1/√n). Longer lags of a finite line are
# biased negative and dominated by its few largest wiggles, so the verdict reads the first few.
ACF_MARGIN = 0.1
ACF_LAGS = 5
# The 1-D toy's plain net is clearly shattered from about this depth (Balduzzi et al. 2017, Fig. 1: 20 and 50).
TOY_SHATTERS = 20


@dataclass(frozen=True)
class NetFacts:
    """What a verdict needs to know about one net besides the experiment's result."""

    label: str  # e.g. "ResNet-20" (escaped where it reaches Markdown)
    skip: bool
    train_error: float | None  # a fraction, after the last epoch; None before one
    chance: float  # a fraction: 0.9 with 10 classes
    learned: bool | None  # studies/pairs.has_learned: None without a finished epoch

    @property
    def name(self) -> str:
        return markdown_text(self.label)

    @property
    def kind(self) -> str:
        return _("ResNets") if self.skip else _("plain nets")


# ------------------------------------------------------------------------------------------ untrained


def _judged(sign: int, agrees: str, disagrees: str, too_close: str) -> list[Verdict]:
    """The verdict on a comparison with the paper's nets: `sign` 1 when the data go the paper's way by more
    than the margin that makes a difference, -1 when they go the other way by as much, 0 when too close."""
    if sign > 0:
        return [Verdict("agrees", agrees)]
    return [Verdict("disagrees", disagrees)] if sign < 0 else [Verdict("too_close", too_close)]


def untrained_verdict(nets: Sequence[NetFacts], what: str, instead: str | None = None) -> Verdict | None:
    """The verdict naming the nets among `nets` that did not learn (None when all did): their `what` (e.g.
    "lesion study") says nothing about trained nets of their kind; `instead` names a pair that learned."""
    failed = [n for n in nets if not n.learned]
    if not failed:
        return None
    parts = []
    for net in failed:
        if net.train_error is None:
            parts.append(_("{name} has no finished epoch yet").format(name=net.name))
        else:
            parts.append(
                _("{name} never learned (training error {percent}, chance {percent2})").format(
                    name=net.name, percent=percent(net.train_error, 0), percent2=percent(net.chance, 0)
                )
            )
    skips = {n.skip for n in failed}
    about = _("ResNets and plain nets") if len(skips) == 2 else _("ResNets") if True in skips else _("plain nets")
    text = ngettext(
        "{join}: its {what} says nothing about trained {about}. ",
        "{join}: their {what} says nothing about trained {about}. ",
        len(failed),
    ).format(join=joined(parts), what=what, about=about)
    text += (
        _("Pick a pair in which both nets learned — {instead}, for one — or train ").format(instead=instead)
        if instead
        else _("Train a pair whose nets both learn — ")
    )
    text += (
        _("twins longer (the quick preset on the Degradation page trains a pair that learns).")
        if instead
        else _("the quick preset on the Degradation page, or twins with more epochs on the Train page.")
    )
    return Verdict("untrained", text)


# ---------------------------------------------------------------------------------------------- lesion


@dataclass(frozen=True)
class LesionDamage:
    intact: float  # test error (%) of the intact net
    typical: float  # median test error (%) over the single deletions
    worst: float
    share: float  # (typical − intact) / (chance − intact): 0 = no harm, 1 = chance

    @classmethod
    def of(cls, single: dict, chance_pct: float) -> LesionDamage:
        errors = [v["error"] for k, v in single.items() if k != "intact"]
        intact = single["intact"]["error"]
        typical = statistics.median(errors) if errors else intact
        headroom = chance_pct - intact
        share = (typical - intact) / headroom if headroom > 0 else math.nan
        return cls(intact, typical, max(errors, default=intact), share)


def lesion_caption(damage: dict[str, LesionDamage], images: int, chance_pct: float) -> str:
    return (
        _(
            "Each point: the test error on {images:,} test images with that one block deleted; the "
            "dotted lines are the intact nets. Typical (median) block: "
        ).format(images=images)
        + joined(
            _("{name} {typical} (intact {intact}, worst {worst})").format(
                name=markdown_text(name),
                typical=percent(d.typical / 100),
                intact=percent(d.intact / 100),
                worst=percent(d.worst / 100),
            )
            for name, d in damage.items()
        )
        + _(". Chance is {chance}.").format(chance=percent(chance_pct / 100, 0))
    )


def lesion_verdicts(
    residual: NetFacts, plain: NetFacts, res: LesionDamage, pln: LesionDamage, instead: str | None = None
) -> list[Verdict]:
    """Does deleting one block hurt the ResNet little and the plain net a lot (Veit et al. 2016, Fig. 3)?"""
    untrained = untrained_verdict([residual, plain], _("lesion study"), instead)
    if untrained is not None:
        if residual.learned and not plain.learned and math.isfinite(res.share):
            return [untrained, _residual_alone(residual, res)]
        return [untrained]
    way = _(
        "a typical deletion takes {name} {percent} of the way from its intact error to chance, {name2} {percent2}"
    ).format(name=residual.name, percent=percent(res.share, 0), name2=plain.name, percent2=percent(pln.share, 0))
    gap = pln.share - res.share
    agrees = _("Deleting one block hurts {name} less than {name2}, as Veit et al. found: {way}.").format(
        name=residual.name, name2=plain.name, way=way
    )
    if res.share > LITTLE_DAMAGE:
        agrees += _(
            " Not as little as in their 110-layer ResNet, though, where most deletions moved the "
            "error by a few points: {name} has fewer blocks, so fewer paths to spare."
        ).format(name=residual.name)
    return _judged(
        1 if gap >= LESION_MARGIN else -1 if gap <= -LESION_MARGIN else 0,
        agrees,
        _("Here deleting one block hurts {name} more than {name2}, unlike Veit et al.'s nets: {way}.").format(
            name=residual.name, name2=plain.name, way=way
        ),
        _(
            "Deleting one block hurts {name} and {name2} about equally here ({way}): too close to "
            "say the shortcuts make the difference Veit et al. saw."
        ).format(name=residual.name, name2=plain.name, way=way),
    )


def _residual_alone(residual: NetFacts, res: LesionDamage) -> Verdict:
    way = _("a typical deletion takes it {percent} of the way from its intact error ({intact}) to chance").format(
        percent=percent(res.share, 0), intact=percent(res.intact / 100)
    )
    if res.share <= LITTLE_DAMAGE:
        return Verdict(
            "agrees",
            _("On its own, {name} is hurt little by deleting one block, as Veit et al. found: {way}.").format(
                name=residual.name, way=way
            ),
        )
    return Verdict(
        "disagrees",
        _("On its own, {name} is hurt a lot by deleting one block, unlike Veit et al.'s ResNet: {way}.").format(
            name=residual.name, way=way
        ),
    )


def blocks_to_chance(random_k: dict, chance_pct: float) -> int | None:
    """The fewest blocks deleted at once whose mean error is within NEAR_CHANCE_POINTS of chance (None:
    never, up to all of them)."""
    for k, errors in zip(random_k["k"], random_k["error"]):
        if statistics.fmean(errors) >= chance_pct - NEAR_CHANCE_POINTS:
            return int(k)
    return None


def lesion_k_caption(labels: Sequence[str], randoms: Sequence[dict]) -> str:
    rise = joined(
        _("{name} {one} with one block deleted, {all} with all {k}").format(
            name=markdown_text(label),
            one=percent(statistics.fmean(r["error"][0]) / 100),
            all=percent(statistics.fmean(r["error"][-1]) / 100),
            k=r["k"][-1],
        )
        for label, r in zip(labels, randoms)
    )
    draws = randoms[0].get("draws", len(randoms[0]["error"][0])) if randoms else 0
    return _(
        "Several blocks deleted at once, {draws} random draws per k (the band spans the best to "
        "the worst draw). Here: {rise}."
    ).format(draws=draws, rise=rise)


def lesion_k_verdicts(
    residual: NetFacts, plain: NetFacts, res: dict, pln: dict, chance_pct: float, instead: str | None = None
) -> list[Verdict]:
    """Does the ResNet's error rise gradually with k while the plain net's reaches chance at once (Veit et
    al. 2016, Fig. 5a)? Measured by how many blocks must go before the mean error nears chance."""
    untrained = untrained_verdict([residual, plain], _("lesion study"), instead)
    if untrained is not None:
        return [untrained]
    k_res, k_pln = blocks_to_chance(res, chance_pct), blocks_to_chance(pln, chance_pct)
    n_res, n_pln = res["k"][-1], pln["k"][-1]

    def reach(name: str, k: int | None, n: int) -> str:
        if k is None:
            return _(
                "{name} stays more than {near_chance_points:.0f} points from chance even with all {n} blocks gone"
            ).format(name=name, near_chance_points=NEAR_CHANCE_POINTS, n=n)
        return _(
            "{name} comes within {near_chance_points:.0f} points of chance with {k} of its {n} blocks gone"
        ).format(name=name, near_chance_points=NEAR_CHANCE_POINTS, k=k, n=n)

    numbers = f"{reach(residual.name, k_res, n_res)}; {reach(plain.name, k_pln, n_pln)}"
    later = (n_res + 1 if k_res is None else k_res) - (n_pln + 1 if k_pln is None else k_pln)
    return _judged(
        (later > 0) - (later < 0),
        _(
            "{name}'s error rises more gradually as blocks go, like an ensemble losing members, as "
            "Veit et al. found: {numbers}."
        ).format(name=residual.name, numbers=numbers),
        _("Here {name} holds out longer than {name2}, unlike Veit et al.'s nets: {numbers}.").format(
            name=plain.name, name2=residual.name, numbers=numbers
        ),
        _("Both nets near chance after the same number of deletions: {numbers}. Too close to call.").format(
            numbers=numbers
        ),
    )


# ------------------------------------------------------------------------------------------ landscape


def landscape_caption(steps: int, images: int) -> str:
    return _(
        "{steps} × {steps} points per net, each the mean loss on the same {images} test images; "
        "one colour scale for both nets, darker is lower; the × marks the trained weights."
    ).format(steps=steps, images=images)


def roughness_caption(rough: dict[str, dict | None]) -> str:
    return (
        _(
            "Roughness over the grid's interior — mean |discrete "
            "Laplacian| of the log loss (0 for a plane, larger for a bumpier surface) and the share of points "
            "where the surface curves down in some direction (non-convex): "
        )
        + joined(
            _("{name} {laplacian:.3g}, {percent} non-convex").format(
                name=markdown_text(name), laplacian=r["log_laplacian"], percent=percent(r["nonconvex_fraction"], 0)
            )
            if r
            else _("{name} n/a").format(name=markdown_text(name))
            for name, r in rough.items()
        )
        + _(".")
    )


def landscape_verdicts(
    residual: NetFacts, plain: NetFacts, res: dict, pln: dict, depth: int, instead: str | None = None
) -> list[Verdict]:
    """Is the ResNet's surface smoother and more nearly convex than its plain twin's (Li et al. 2018)?
    `res`, `pln`: analysis/landscape.roughness of each surface."""
    untrained = untrained_verdict([residual, plain], "landscape", instead)
    if untrained is not None:
        return [untrained]
    lap_r, lap_p = res["log_laplacian"], pln["log_laplacian"]
    non_r, non_p = res["nonconvex_fraction"], pln["nonconvex_fraction"]
    smoother = 1 if lap_p > LAPLACIAN_RATIO * lap_r else -1 if lap_r > LAPLACIAN_RATIO * lap_p else 0
    convex = 1 if non_p - non_r > NONCONVEX_MARGIN else -1 if non_r - non_p > NONCONVEX_MARGIN else 0
    numbers = _(
        "mean |Laplacian of log loss| {lap_r:.3g} for {name} vs {lap_p:.3g} for {name2}; "
        "{percent} vs {percent2} of points non-convex"
    ).format(
        lap_r=lap_r,
        name=residual.name,
        lap_p=lap_p,
        name2=plain.name,
        percent=percent(non_r, 0),
        percent2=percent(non_p, 0),
    )
    shallow = (
        _(
            " Li et al. saw the difference grow with depth: below {landscape_depth} layers their "
            "surfaces with and without shortcuts looked alike; at {landscape_depth} and 110 the "
            "plain ones turned chaotic."
        ).format(landscape_depth=LANDSCAPE_DEPTH)
        if depth < LANDSCAPE_DEPTH
        else ""
    )
    signs = {smoother, convex} - {0}
    if signs == {1}:
        if smoother and convex:
            found = _(
                "{name}'s surface is smoother and more nearly convex than {name2}'s, as Li et al. found: {numbers}."
            )
        elif smoother:
            found = _(
                "{name}'s surface is smoother than {name2}'s, as Li et al. found: {numbers}. Their shares of "
                "non-convex points are less than {margin} points apart: too close to count either way."
            )
        else:
            found = _(
                "{name}'s surface is more nearly convex than {name2}'s, as Li et al. found: {numbers}. Their "
                "roughness is within a factor of {ratio} of each other: too close to count either way."
            )
        return [
            Verdict(
                "agrees",
                found.format(
                    name=residual.name,
                    name2=plain.name,
                    numbers=numbers,
                    margin=f"{100 * NONCONVEX_MARGIN:.0f}",
                    ratio=f"{LAPLACIAN_RATIO:g}",
                ),
            )
        ]
    if signs == {-1}:
        return [
            Verdict(
                "disagrees",
                _(
                    "Here {name}'s surface is the smoother or more nearly convex one, unlike Li et al.'s "
                    "nets: {numbers}.{shallow}"
                ).format(name=plain.name, numbers=numbers, shallow=shallow),
            )
        ]
    if signs == {1, -1}:
        better = _("smoother") if smoother == 1 else _("more nearly convex")
        worse = _("more often non-convex") if convex == -1 else _("rougher")
        return [
            Verdict(
                "too_close",
                _(
                    "The two measures point different ways: {name}'s surface is {better} but {worse} than "
                    "{name2}'s ({numbers}). No clear answer on these nets.{shallow}"
                ).format(
                    name=residual.name, better=better, worse=worse, name2=plain.name, numbers=numbers, shallow=shallow
                ),
            )
        ]
    return [
        Verdict(
            "too_close",
            _(
                "{name}'s and {name2}'s surfaces are about equally smooth and convex here ({numbers}): "
                "too close to say the shortcuts smooth the landscape.{shallow}"
            ).format(name=residual.name, name2=plain.name, numbers=numbers, shallow=shallow),
        )
    ]


# ------------------------------------------------------------------------------------ shattered gradients


def acf_memory(acf: Sequence[float], lags: int = ACF_LAGS) -> float:
    """Mean autocorrelation over lags 1..`lags`: about 0 for white noise (shattered), near 1 for a gradient
    that changes smoothly. NaN when the gradient is constant (no variance to correlate)."""
    first = list(acf[1 : lags + 1])
    return statistics.fmean(first) if first and all(math.isfinite(r) for r in first) else math.nan


def lag1_caption(lead: str, acfs: dict[str, Sequence[float]]) -> str:
    lag1 = joined(
        f"{markdown_text(k)} {v[1]:.2f}"
        if len(v) > 1 and math.isfinite(v[1])
        else _("{name} n/a").format(name=markdown_text(k))
        for k, v in acfs.items()
    )
    return _("{lead} Autocorrelation at lag 1: {lag1}.").format(lead=lead, lag1=lag1)


def shattered_verdicts(
    residual: NetFacts,
    plain: NetFacts,
    res_acf: Sequence[float],
    pln_acf: Sequence[float],
    when: str,
    instead: str | None = None,
    toy_depth: int | None = None,
) -> list[Verdict]:
    """Does the ResNet's gradient keep its structure (autocorrelation decaying slower) where the plain net's
    is shattered (Balduzzi et al. 2017)? `when`: "trained" or "at initialisation" (a net at initialisation
    has not learned by definition, so only trained weights are checked for learning). `toy_depth`: the 1-D
    toy's depth, to say which depth shows the effect when this one is too shallow."""
    if when == "trained":
        untrained = untrained_verdict([residual, plain], _("trained gradient"), instead)
        if untrained is not None:
            return [untrained]
    m_res, m_pln = acf_memory(res_acf), acf_memory(pln_acf)
    lags = min(ACF_LAGS, len(res_acf) - 1, len(pln_acf) - 1)
    if not (math.isfinite(m_res) and math.isfinite(m_pln)):
        flat = residual.name if not math.isfinite(m_res) else plain.name
        return [
            Verdict(
                "too_close",
                _("{flat}'s gradient is constant along this line: there is no structure to compare.").format(flat=flat),
            )
        ]
    numbers = _("mean autocorrelation over lags 1–{lags}: {name} {m_res:.2f}, {name2} {m_pln:.2f} ({when})").format(
        lags=lags, name=residual.name, m_res=m_res, name2=plain.name, m_pln=m_pln, when=when
    )
    hint = (
        _(
            " At depth {toy_depth} that is expected: Balduzzi et al.'s plain nets shatter as depth grows (try 50)."
        ).format(toy_depth=toy_depth)
        if toy_depth is not None and toy_depth < TOY_SHATTERS
        else ""
    )
    return _judged(
        1 if m_res - m_pln > ACF_MARGIN else -1 if m_pln - m_res > ACF_MARGIN else 0,
        _(
            "The gradient of {name} keeps its structure longer than that of {name2}, as Balduzzi et "
            "al. found: {numbers}."
        ).format(name=residual.name, name2=plain.name, numbers=numbers),
        _("Here the gradient of {name} is the smoother one, unlike Balduzzi et al.'s nets: {numbers}.").format(
            name=plain.name, numbers=numbers
        ),
        _("The two gradients are about equally structured here ({numbers}): too close to call.{hint}").format(
            numbers=numbers, hint=hint
        ),
    )


# --------------------------------------------------------------------------------------------- the page

PAGE_INTRO = N_(
    "The Degradation page shows *that* deep plain nets train worse and ResNets do not. Three experiments from "
    "the papers that followed ask *why*, on a trained ResNet and its plain twin: what happens when you delete a "
    "block, what the loss looks like around the trained weights, and how the gradient behaves between nearby "
    "inputs. Each figure comes with a verdict: whether these nets agree with the paper."
)
NO_PAIRS = N_(
    "These experiments need a trained ResNet and its plain twin. On the **Train** page, press *Train plain + "
    "residual twins* (ResNet-20 on 5,000 images takes a few minutes on a CPU), or run the Degradation "
    "experiment; the pairs appear here when both runs complete. The shattered-gradients toy needs no training."
)
LESION_INTRO = N_(
    "**Delete one block at test time** — its output becomes its shortcut's (the identity, or the zero-padded "
    "identity where the shape changes; a plain net gets the same mapping). Veit, Wilber and Belongie (2016) "
    "found that this barely hurts a trained ResNet except at the downsampling blocks, while a plain net "
    "collapses: a ResNet behaves like an **ensemble of many paths**, mostly short ones — with n blocks, there "
    "are 2ⁿ paths and their lengths follow a Binomial(n, ½) distribution."
)
LANDSCAPE_INTRO = N_(
    "**The loss around the trained weights**, on a plane through them spanned by two random directions, each "
    "filter scaled to the norm of the same filter of the weights (Li, Xu, Taylor, Studer and Goldstein 2018: "
    "*filter normalisation*, so nets of different scales compare). They found that without shortcuts the "
    "surface turns chaotic as depth grows, and with them stays smooth and nearly convex around the minimum."
)
SHATTERED_INTRO = N_(
    "**Gradients between nearby inputs.** Balduzzi et al. (2017) fed a line of inputs to a net and plotted the "
    "gradient of its output with respect to the input: in a deep plain net it looks like **white noise** — "
    "neighbouring inputs get unrelated gradients, so the gradient says little about where to go (it is "
    "*shattered*); in a ResNet it keeps its structure. The autocorrelation measures it: near 0 beyond lag 0 "
    "means white noise."
)

LESION_TITLE = N_("Deleting one block")
LESION_K_TITLE = N_("Deleting k blocks at once")
LANDSCAPE_TITLE = N_("The loss around the trained weights")
LANDSCAPE_SLICE_TITLE = N_("A slice through the centre")
SHATTERED_LINE_TITLE = N_("Your trained twins, between two test images")
SHATTERED_ACF_TITLE = N_("How alike neighbouring gradients are")
TOY_TITLE = N_("The paper's 1-D experiment, at initialisation")
LINE_CAPTION = N_(
    "The logit of the class predicted at the first image, along the straight line to the second; the "
    "gradient's component along the line, scaled to unit standard deviation so the shapes compare."
)
ACF_CAPTION = N_("How alike the gradient is at neighbouring points of the line: near 0 beyond lag 0 is white noise.")
TOY_CAPTION = N_(
    "Fully-connected ReLU nets of width 200 with batch normalisation, freshly initialised; the gradient "
    "scaled to unit standard deviation. Try depth 1 (both smooth) and 50."
)
SPAN_HELP = N_("How far along each direction, in units of the weights' own filter norms.")
WEIGHTS = Messages({"trained": N_("trained"), "initial": N_("at initialisation")})


def lines_pending(names: str, points: int) -> str:
    return _(
        "The gradients of {names} at {points} points along the line take a while to compute on "
        "this machine, so they are computed on request (fewer points are quicker)."
    ).format(names=markdown_text(names), points=points)


def other_pair(residual: str, plain: str, reference: bool) -> str:
    """A pair to look at instead, for an "untrained" verdict."""
    if reference:
        return _("the reference {residual} with {plain}").format(residual=residual, plain=plain)
    return _("your {residual} with {plain}").format(residual=residual, plain=plain)


def pair_label(residual_label: str, plain: str, test_errors: dict[str, float | None]) -> str:
    """ "ResNet-20 · reference + plain-20 twin · test error ResNet-20 26.4% · plain-20 36.7%" (a selector's
    option: plain text)."""
    tested = " · ".join(f"{name} {percent(e, 1)}" for name, e in test_errors.items() if e is not None)
    return _("{residual_label} + {plain} twin").format(residual_label=residual_label, plain=plain) + (
        _(" · test error {tested}").format(tested=tested) if tested else ""
    )
