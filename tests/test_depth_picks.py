"""Issue 26.5: about 200 stops from 8 to 1202 on one slider made landing on 56 or 110 fiddly. The paper's
depths are one-click picks beside the precise control, on the Architecture (and Train) spec editor."""

from test_pages import metric, run_page


def test_a_quick_pick_sets_the_depth_and_the_link():
    at = run_page("architecture")
    picks = at.button_group(key="arch.depth.basic.cifar.pick")
    assert picks.value == 20  # the default net, ResNet-20, is one of the paper's: its pick is shown selected
    picks.set_value(110).run()
    assert not at.exception
    assert metric(at, "Weighted layers") == "110" and at.select_slider(key="arch.depth.basic.cifar").value == 110
    assert at.query_params["depth"] in ("110", ["110"])
    at.select_slider(key="arch.depth.basic.cifar").set_value(26).run()  # the precise control: not a paper depth
    assert metric(at, "Weighted layers") == "26" and at.button_group(key="arch.depth.basic.cifar.pick").value is None


def test_imagenet_picks_are_the_papers_imagenet_depths():
    at = run_page("architecture", {"stem": "imagenet", "block": "bottleneck", "depth": "50"})
    picks = at.button_group(key="arch.depth.bottleneck.imagenet.pick")
    assert picks.value == 50
    picks.set_value(152).run()
    assert metric(at, "Weighted layers") == "152"
