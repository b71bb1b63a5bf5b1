"""The Why page's view state in its URL: a link opened cold shows the same view (the pair, the experiment,
its settings), a changed widget is written back, a value a link cannot mean falls back with a message, and
`present=1` hides the controls. With no pair in the URL the page opens on the most informative pair (the
shipped reference pair in which both nets learned), says so, and shows kept results without computing."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SHAPES_BUNDLE, charts
from streamlit.testing.v1 import AppTest

from resnet_core.studies import analyses as analyses_module

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "why.py")
BUNDLE = ROOT / "assets" / "reference"
PAIR_20, PAIR_56 = "ref-resnet-20,ref-plain-20", "ref-resnet-56,ref-plain-56"


def open_page(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def titles(at: AppTest) -> list[str]:
    return [c.figure["layout"]["title"]["text"] for c in charts(at)]


def verdicts(at: AppTest) -> list[str]:
    return [a.value for a in (*at.success, *at.warning, *at.info)]


@pytest.fixture
def no_runs(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    monkeypatch.setenv("RESNET_LAB_RUNS", str(runs))
    yield runs
    from ui.runs import release_runner

    release_runner(str(runs.resolve()))


@pytest.fixture
def reference(no_runs, tmp_path, monkeypatch):
    """The shipped reference runs (copied to a cache of this test's own), and no runs of the user's; a
    lesion study computed by the page fails the test (the bundle keeps them)."""
    monkeypatch.setenv("RESNET_LAB_REFERENCE", str(BUNDLE))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def computed_here(*args, **kwargs):
        raise AssertionError("the page computed a lesion study the bundle keeps")

    monkeypatch.setattr(analyses_module, "lesion_study", computed_here)
    from ui.reference import _reference_for

    _reference_for.clear()
    yield
    _reference_for.clear()


def test_the_toy_view_round_trips_through_the_url(no_runs):
    at = open_page(tab="shattered", depth="5", seed="3")
    assert at.select_slider(key="why.depth").value == 5 and at.number_input(key="why.seed").value == 3
    assert titles(at) == ["d output / d input along the line", "Autocorrelation of the gradient"]
    assert any("ResNet \\(5 blocks\\)" in v for v in verdicts(at))  # the verdict is on the depth the link names
    at.select_slider(key="why.depth").set_value(1).run()
    at.number_input(key="why.seed").set_value(0).run()
    assert at.query_params["depth"] == "1" and at.query_params["tab"] == "shattered"
    assert "seed" not in at.query_params  # the default is not written: links stay short
    assert any("At depth 1 that is expected" in v for v in verdicts(at))  # the sentence follows the data


def test_a_link_value_the_page_cannot_mean_falls_back_with_a_message(no_runs):
    at = open_page(tab="shattered", depth="7", seed="x", pair="no-such-run,other")
    assert at.select_slider(key="why.depth").value == 50 and at.number_input(key="why.seed").value == 0
    assert any("depth" in w.value and "seed" in w.value for w in at.warning)
    assert any("no\\-such\\-run" in w.value and "not among the runs here" in w.value for w in at.warning)


def test_no_pair_in_the_url_opens_on_the_informative_reference_pair_with_kept_results(reference):
    at = open_page()
    assert at.selectbox(key="why.pair").value == PAIR_56  # both learned: the deepest pair that did
    assert at.segmented_control(key="why.tab").value == "lesion"
    assert any("Opened on" in c.value and "both nets learned" in c.value for c in at.caption)
    assert "Test error after deleting one block" in titles(at)  # kept in the bundle: shown, not computed
    assert any("hurts ResNet\\-56 less than plain\\-56" in s.value for s in at.success)
    assert at.query_params["pair"] == PAIR_56  # the address bar holds the view


def test_a_link_to_the_56_layer_landscape_reproduces_it_and_names_the_untrained_net(reference, monkeypatch):
    """On the bundle the app shipped on `shapes`, where plain-56 never learned (tests/helpers.SHAPES_BUNDLE)."""
    monkeypatch.setenv("RESNET_LAB_REFERENCE", str(SHAPES_BUNDLE))
    at = open_page(pair=PAIR_56, tab="landscape", steps="11")
    assert at.selectbox(key="why.pair").value == PAIR_56
    assert at.segmented_control(key="why.tab").value == "landscape"
    assert not any("Opened on" in c.value for c in at.caption)  # the link chose it, not the page
    assert "Loss around the trained weights (log₁₀ of the mean cross-entropy)" in titles(at)
    assert any("plain\\-56 never learned" in w.value and "says nothing" in w.value for w in at.warning)
    assert not any("turns chaotic" in s.value for s in at.success)  # no claim the figure contradicts
    # Another span: not kept, so the page offers to compute it rather than starting on its own.
    at.select_slider(key="why.span").set_value(0.5).run()
    assert at.query_params["span"] == "0.5" and at.query_params["tab"] == "landscape"
    assert at.button(key="why.landscape.start") and not any("Loss around" in t for t in titles(at))
    assert any("has not been computed yet" in i.value for i in at.info)


def test_present_hides_the_controls_and_keeps_figure_and_verdict(reference):
    at = open_page(pair=PAIR_20, tab="lesion", present="1")
    assert not at.selectbox and not at.segmented_control and not at.button
    assert "Test error after deleting one block" in titles(at)
    assert at.success  # the verdict


def test_a_long_lesion_study_that_is_not_kept_waits_for_a_button(reference):
    """The 56-layer pair's lesion study takes about 15 s on two quiet cores: without a kept result the page
    says so and offers to compute it in the background, rather than computing on open."""
    from resnet_core.studies.reference import open_reference

    copy = open_reference(BUNDLE)  # the copy the page opens (the same cache)
    with copy._write() as db:
        db.execute("DELETE FROM analyses WHERE kind = 'lesion' AND run_id IN ('ref-resnet-56', 'ref-plain-56')")
    at = open_page(pair=PAIR_56)
    assert at.button(key="why.lesion.start").label == "Compute the lesion study"
    assert any("has not been computed yet" in i.value for i in at.info)
    assert "Test error after deleting one block" not in titles(at)
    at = open_page(pair=PAIR_56, present="1")  # presenting: the state, no button
    assert not at.button and any("has not been computed yet" in i.value for i in at.info)


def test_the_56_layer_gradients_wait_for_a_button_while_the_toy_shows_at_once(reference):
    at = open_page(pair=PAIR_56, tab="shattered", weights="initial", points="512")
    assert at.radio(key="why.weights").value == "initial" and at.select_slider(key="why.points").value == 512
    assert titles(at) == ["d output / d input along the line", "Autocorrelation of the gradient"]  # the toy
    assert at.button(key="why.line.start") and any("take a while to compute" in i.value for i in at.info)
