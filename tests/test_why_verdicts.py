"""The Why page's verdicts (resnet_core/presentation/why_text.py): each sentence follows the numbers it is
given — agrees, does not, too close to call, or a net that did not learn — so no figure sits beside a claim
it contradicts."""

import math

from resnet_core.presentation.why_text import (
    LesionDamage,
    NetFacts,
    acf_memory,
    blocks_to_chance,
    landscape_verdicts,
    lesion_k_verdicts,
    lesion_verdicts,
    shattered_verdicts,
    untrained_verdict,
)

RES = NetFacts("ResNet-20", True, 0.15, 0.9, True)
PLAIN = NetFacts("plain-20", False, 0.25, 0.9, True)
PLAIN_AT_CHANCE = NetFacts("plain-56", False, 0.854, 0.9, False)
RES_AT_CHANCE = NetFacts("ResNet-56", True, 0.88, 0.9, False)


def single(intact: float, deleted: list[float]) -> dict:
    return {
        "intact": {"error": intact, "loss": 1.0},
        **{f"b{i}": {"error": e, "loss": 1.0} for i, e in enumerate(deleted)},
    }


def kinds(verdicts) -> list[str]:
    return [v.kind for v in verdicts]


# ---------------------------------------------------------------------------------------------- lesion


def test_lesion_damage_is_the_share_of_the_way_to_chance():
    d = LesionDamage.of(single(10.0, [20.0, 50.0, 30.0]), 90.0)
    assert (d.intact, d.typical, d.worst) == (10.0, 30.0, 50.0)
    assert d.share == 0.25  # (30 − 10) / (90 − 10)
    assert math.isnan(LesionDamage.of(single(90.0, [90.0]), 90.0).share)  # no headroom: nothing to lose


def test_lesion_agrees_when_the_resnet_is_hurt_little_and_the_plain_net_a_lot():
    res, pln = LesionDamage.of(single(10, [14, 16, 18]), 90), LesionDamage.of(single(20, [85, 88, 86]), 90)
    (v,) = lesion_verdicts(RES, PLAIN, res, pln)
    assert v.kind == "agrees" and "less than plain\\-20" in v.text
    assert "8%" in v.text and "94%" in v.text  # the numbers drawn: 6 of 80 points, 66 of 70
    assert "Not as little" not in v.text


def test_lesion_agrees_but_says_when_the_resnet_is_not_hurt_little():
    """The shipped ResNet-20 goes half way to chance with a typical deletion: less than plain-20, but not
    "barely hurt" as Veit et al.'s 110-layer net — the sentence says so rather than claiming it."""
    res, pln = LesionDamage.of(single(26.4, [59.4]), 90), LesionDamage.of(single(36.7, [86.7]), 90)
    (v,) = lesion_verdicts(RES, PLAIN, res, pln)
    assert v.kind == "agrees" and "Not as little" in v.text


def test_lesion_disagrees_when_the_plain_net_is_hurt_less():
    res, pln = LesionDamage.of(single(10, [80, 85]), 90), LesionDamage.of(single(20, [25, 30]), 90)
    (v,) = lesion_verdicts(RES, PLAIN, res, pln)
    assert v.kind == "disagrees" and "more than plain\\-20" in v.text


def test_lesion_is_too_close_when_both_are_hurt_alike():
    res, pln = LesionDamage.of(single(10, [50]), 90), LesionDamage.of(single(10, [55]), 90)
    (v,) = lesion_verdicts(RES, PLAIN, res, pln)
    assert v.kind == "too_close" and "about equally" in v.text


def test_lesion_names_a_plain_net_that_never_learned_and_still_judges_the_resnet():
    res, pln = LesionDamage.of(single(15.9, [23.7]), 90), LesionDamage.of(single(85.4, [88.4]), 90)
    untrained, alone = lesion_verdicts(RES, PLAIN_AT_CHANCE, res, pln, instead="the reference ResNet-20 with plain-20")
    assert untrained.kind == "untrained"
    assert "plain\\-56 never learned (training error 85%, chance 90%)" in untrained.text
    assert "says nothing about trained plain nets" in untrained.text
    assert "the reference ResNet-20 with plain-20, for one" in untrained.text  # what to do instead
    assert alone.kind == "agrees" and "On its own" in alone.text  # ResNet-56 alone: 11 % of the way
    # The same numbers with two nets that learned give a comparison, not an "untrained" sentence.
    assert kinds(lesion_verdicts(RES, PLAIN, res, pln)) == ["agrees"]


def test_lesion_of_an_untrained_resnet_says_nothing_else():
    res, pln = LesionDamage.of(single(88, [89]), 90), LesionDamage.of(single(30, [85]), 90)
    (v,) = lesion_verdicts(RES_AT_CHANCE, PLAIN, res, pln)
    assert v.kind == "untrained" and "trained ResNets" in v.text
    assert "quick preset" in v.text  # no other pair to point to: train one


def test_untrained_verdict_names_both_and_is_none_when_both_learned():
    assert untrained_verdict([RES, PLAIN], "landscape") is None
    v = untrained_verdict([RES_AT_CHANCE, PLAIN_AT_CHANCE], "landscape")
    assert "ResNet\\-56 never learned" in v.text and "plain\\-56 never learned" in v.text
    assert "their landscape" in v.text and "trained ResNets and plain nets" in v.text
    fresh = NetFacts("plain-8", False, None, 0.9, None)
    assert "has no finished epoch" in untrained_verdict([fresh], "lesion study").text


def random_k(intact: float, means: list[float]) -> dict:
    return {"intact": {"error": intact}, "k": list(range(1, len(means) + 1)), "error": [[m, m] for m in means]}


def test_lesion_k_follows_how_many_blocks_it_takes_to_reach_chance():
    gradual, at_once = random_k(15, [20, 40, 70, 88]), random_k(30, [86, 89, 90, 90])
    assert blocks_to_chance(gradual, 90) == 4 and blocks_to_chance(at_once, 90) == 1
    assert blocks_to_chance(random_k(15, [20, 30]), 90) is None
    (v,) = lesion_k_verdicts(RES, PLAIN, gradual, at_once, 90)
    assert v.kind == "agrees" and "4 of its 4 blocks" in v.text
    assert kinds(lesion_k_verdicts(RES, PLAIN, at_once, gradual, 90)) == ["disagrees"]
    assert kinds(lesion_k_verdicts(RES, PLAIN, at_once, at_once, 90)) == ["too_close"]
    assert kinds(lesion_k_verdicts(RES, PLAIN_AT_CHANCE, gradual, at_once, 90)) == ["untrained"]


# ------------------------------------------------------------------------------------------ landscape


def rough(laplacian: float, nonconvex: float) -> dict:
    return {"log_laplacian": laplacian, "nonconvex_fraction": nonconvex, "curvature_ratio": 0.1}


def test_landscape_agrees_when_the_resnet_surface_is_smoother():
    (v,) = landscape_verdicts(RES, PLAIN, rough(10, 0.2), rough(30, 0.5), depth=56)
    assert v.kind == "agrees" and "as Li et al. found" in v.text and "20% vs 50%" in v.text
    assert "below 56 layers" not in v.text  # deep enough for the claim


def test_landscape_says_which_measure_agrees_and_that_the_other_is_too_close():
    """The shipped Fashion-MNIST 56-layer pair: ResNet-56 clearly smoother (28.6 vs 46.7), its non-convex share
    higher but by less than the margin (57% vs 44%): the sentence must not read as "better on both"."""
    (v,) = landscape_verdicts(RES, PLAIN, rough(28.6, 0.57), rough(46.7, 0.44), depth=56)
    assert v.kind == "agrees" and "surface is smoother than" in v.text and "57% vs 44%" in v.text
    assert "less than 15 points apart: too close to count either way" in v.text and "convex than" not in v.text
    (v,) = landscape_verdicts(RES, PLAIN, rough(30, 0.2), rough(33, 0.5), depth=56)
    assert v.kind == "agrees" and "more nearly convex than" in v.text and "within a factor of 1.25" in v.text
    (v,) = landscape_verdicts(RES, PLAIN, rough(10, 0.2), rough(30, 0.5), depth=56)
    assert "smoother and more nearly convex" in v.text


def test_landscape_disagrees_when_the_plain_surface_is_smoother():
    (v,) = landscape_verdicts(RES, PLAIN, rough(40, 0.6), rough(10, 0.2), depth=20)
    assert v.kind == "disagrees" and "plain\\-20's surface is the smoother" in v.text
    assert "below 56 layers" in v.text  # Li et al. saw no difference at this depth


def test_landscape_is_too_close_on_the_shipped_20_layer_numbers():
    (v,) = landscape_verdicts(RES, PLAIN, rough(17.05, 0.432), rough(19.99, 0.370), depth=20)
    assert v.kind == "too_close" and "about equally smooth" in v.text
    assert "17" in v.text and "43% vs 37%" in v.text


def test_landscape_says_when_its_two_measures_disagree():
    (v,) = landscape_verdicts(RES, PLAIN, rough(10, 0.7), rough(30, 0.3), depth=56)
    assert v.kind == "too_close" and "point different ways" in v.text


def test_landscape_of_an_untrained_plain_net_is_not_compared():
    """The shipped plain-56 sits at chance: the page once said "without shortcuts the surface turns chaotic"
    beside its smooth basin. Now its landscape is named as saying nothing about trained plain nets."""
    (v,) = landscape_verdicts(RES, PLAIN_AT_CHANCE, rough(28.6, 0.667), rough(43.6, 0.556), depth=56)
    assert v.kind == "untrained" and "landscape says nothing about trained plain nets" in v.text


# ------------------------------------------------------------------------------------ shattered gradients


def test_acf_memory_reads_the_first_lags():
    assert acf_memory([1.0, 0.9, 0.8, 0.7, 0.6, 0.5, -1.0]) == 0.7
    assert math.isnan(acf_memory([1.0, math.nan, math.nan]))


def test_shattered_agrees_disagrees_and_is_too_close():
    smooth, white = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5], [1.0, 0.05, -0.02, 0.01, 0.0, -0.03]
    (v,) = shattered_verdicts(RES, PLAIN, smooth, white, "at initialisation")
    assert v.kind == "agrees" and "0.70" in v.text and "0.00" in v.text
    (v,) = shattered_verdicts(RES, PLAIN, white, smooth, "trained")
    assert v.kind == "disagrees" and "plain\\-20 is the smoother" in v.text
    (v,) = shattered_verdicts(RES, PLAIN, smooth, smooth, "trained")
    assert v.kind == "too_close" and "try 50" not in v.text
    (v,) = shattered_verdicts(RES, PLAIN, smooth, smooth, "at initialisation", toy_depth=1)
    assert "At depth 1 that is expected" in v.text
    (v,) = shattered_verdicts(RES, PLAIN, [1.0, math.nan], smooth, "trained")
    assert v.kind == "too_close" and "constant" in v.text


def test_shattered_checks_learning_for_trained_weights_only():
    smooth, white = [1.0, 0.9, 0.8], [1.0, 0.0, 0.0]
    assert kinds(shattered_verdicts(RES, PLAIN_AT_CHANCE, smooth, white, "trained")) == ["untrained"]
    assert kinds(shattered_verdicts(RES, PLAIN_AT_CHANCE, smooth, white, "at initialisation")) == ["agrees"]
