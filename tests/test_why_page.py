"""The "why residual nets train" page and its parts: figure builders, the background landscape job,
and the page through AppTest on really trained twins (and with no runs at all)."""

import json
import math
import time
from pathlib import Path

import pytest
from helpers import charts
from streamlit.testing.v1 import AppTest

import resnet_core as rc
from resnet_core.analysis.shattered import toy_shattered
from resnet_core.execution.worker import execute_run
from resnet_core.presentation import why_figures as figures
from resnet_core.presentation.palette import PLAIN_COLOR, RESIDUAL_COLOR
from resnet_core.presentation.why_figures import NetResult
from resnet_core.store.run_store import RunStore
from resnet_core.studies.analyses import Analyses, compute, landscape_batch, lesion_study, start_worker

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "why.py")
SPEC = rc.NetSpec(depth=8, width=8)
PARAMS = {"steps": 5, "span": 1.0, "seed": 0, "images": 64}


@pytest.fixture(scope="module")
def twins(tmp_path_factory, shapes_root):
    """A runs folder with a ResNet-8 and its plain twin, each really trained for one epoch."""
    root = tmp_path_factory.mktemp("why") / "runs"
    store = RunStore(root)
    config = rc.RunConfig(
        rc.TrainConfig(epochs=1, batch_size=100, device="cpu"), train_size=500, test_size=200, data_dir=str(shapes_root)
    )
    ids = [store.create(SPEC.replace(skip=skip), config) for skip in (True, False)]
    for run_id in ids:
        assert execute_run(store, run_id) == "completed"
    yield root, ids
    from ui.runs import release_runner

    release_runner(str(root.resolve()))


def test_lesion_figures_draw_each_net_in_its_colour_with_chance():
    residual = {
        "intact": {"loss": 0.3, "error": 10.0},
        "stage1.block1": {"loss": 0.4, "error": 12.0},
        "stage2.block1": {"loss": 0.9, "error": 30.0},
    }
    plain = {
        "intact": {"loss": 0.4, "error": 14.0},
        "stage1.block1": {"loss": 2.3, "error": 90.0},
        "stage2.block1": {"loss": 2.3, "error": 89.0},
    }
    fig = figures.lesion_figure(
        [NetResult("ResNet-8", True, residual), NetResult("<b>plain</b>-8", False, plain)], 90.0
    )
    assert [t.line.color for t in fig.data] == [RESIDUAL_COLOR] * 2 + [PLAIN_COLOR] * 2  # each with its intact line
    assert list(fig.data[0].y) == [12.0, 30.0] and list(fig.data[0].customdata) == ["stage1.block1", "stage2.block1"]
    assert list(fig.data[1].y) == [10.0, 10.0] and fig.data[1].name == "ResNet-8 intact"
    assert "&lt;b&gt;" in fig.data[2].name and "<b>" not in fig.data[2].name  # user text is text, not markup
    assert fig.layout.yaxis.title.text == "test error (%)"
    random_k = {"intact": {"error": 10.0}, "k": [1, 2], "error": [[12.0, 14.0], [20.0, 30.0]]}
    fig = figures.lesion_k_figure([NetResult("ResNet-8", True, random_k)], 90.0)
    band, mean = fig.data
    assert list(mean.y) == [13.0, 25.0] and list(band.y) == [14.0, 30.0, 20.0, 12.0]


def test_landscape_figures_share_one_colour_scale():
    flat = {"alpha": [-1, 0, 1], "beta": [-1, 0, 1], "loss": [[1, 1, 1], [1, 0.1, 1], [1, 1, 1]]}
    steep = {"alpha": [-1, 0, 1], "beta": [-1, 0, 1], "loss": [[100, 10, 100], [10, 0.01, 10], [100, 10, 100]]}
    nets = [NetResult("ResNet-8", True, flat), NetResult("plain-8", False, steep)]
    contours = [t for t in figures.landscape_figure(nets).data if t.type == "contour"]
    assert {(t.zmin, t.zmax) for t in contours} == {(-2.0, 2.0)}  # log10 of 0.01 .. 100, for both nets
    assert [t.type for t in figures.landscape_figure(nets, surface=True).data] == ["surface", "surface"]
    slice_fig = figures.landscape_slice_figure(nets)
    assert [list(t.y) for t in slice_fig.data] == [[1, 0.1, 1], [10, 0.01, 10]]  # the β = 0 row


def test_shattered_figures_standardise_the_gradient():
    toy = toy_shattered(5, True, points=64)
    fig = figures.gradient_line_figure([NetResult("ResNet", True, toy)], "x", "x", "title")
    y = fig.data[0].y
    assert abs(sum(y) / len(y)) < 1e-9 and abs(math.sqrt(sum(v * v for v in y) / len(y)) - 1) < 1e-6
    acf = figures.autocorrelation_figure([NetResult("ResNet", True, toy)])
    assert acf.data[0].y[0] == 1.0


def test_a_landscape_job_computes_in_a_worker_process_and_is_found_again(twins):
    root, ids = twins
    store = RunStore(root)
    analyses = Analyses(store)
    analysis_id = analyses.create(ids[0], "landscape", PARAMS)
    assert analyses.find(ids[0], "landscape", dict(reversed(list(PARAMS.items())))).id == analysis_id
    proc = start_worker(root, [analysis_id])
    assert proc.wait(timeout=300) == 0
    done = analyses.get(analysis_id)
    assert done.status == "completed" and done.progress == 1.0, done.error
    assert len(done.result["loss"]) == 5 and len(done.result["loss"][0]) == 5
    # The centre of the grid is the trained net's own loss on the same images.
    assert done.result["loss"][2][2] == pytest.approx(done.result["center_loss"], rel=1e-4)
    assert analyses.find(ids[1], "landscape", PARAMS) is None


def test_a_kept_lesion_study_is_the_one_the_page_computes(twins):
    """The reference bundle keeps each run's lesion study (analysis kind "lesion"), and the Why page shows it
    instead of computing: it must be the same numbers the page would compute on the same images."""
    root, ids = twins
    store = RunStore(root)
    params = {"images": 150, "draws": 2, "seed": 1}
    analysis_id = Analyses(store).create(ids[0], "lesion", params)
    assert compute(store, analysis_id) == "completed"
    kept = Analyses(store).get(analysis_id).result
    net, images, labels = landscape_batch(store, ids[0], 150)
    direct = json.loads(json.dumps(lesion_study(net, images, labels, draws=2, seed=1)))  # as stored: JSON
    assert kept == direct and set(kept["single"]) == {"intact", *(b.name for b in net.layout.blocks)}
    assert kept["random"]["draws"] == 2 and kept["random"]["k"][-1] == len(net.layout.blocks)


def test_a_stopped_landscape_keeps_its_rows_and_a_dead_worker_reads_interrupted(twins):
    root, ids = twins
    store = RunStore(root)
    analyses = Analyses(store)
    analysis_id = analyses.create(ids[1], "landscape", dict(PARAMS, seed=1))
    analyses.request_stop(analysis_id)  # still queued: stops at once, nothing computed
    assert analyses.get(analysis_id).status == "stopped"
    other = analyses.create(ids[1], "landscape", dict(PARAMS, seed=2))
    analyses.set_status(other, "running", pid=2**22 + 12345)  # a pid that is not alive
    assert analyses.get(other).status == "interrupted"
    assert compute(store, other) == "completed"  # computed again, here


def test_the_page_runs_every_experiment_on_trained_twins(twins, monkeypatch, shapes_root):
    root, ids = twins
    monkeypatch.setenv("RESNET_LAB_RUNS", str(root))
    monkeypatch.setenv("RESNET_LAB_DATA", str(shapes_root))
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    assert not at.exception, at.exception
    figures = [c.figure for c in charts(at)]
    titles = [c["layout"]["title"]["text"] for c in figures]
    assert "Test error after deleting one block" in titles
    assert "Test error after deleting k random blocks at once" in titles
    lesion = figures[titles.index("Test error after deleting one block")]
    assert [t["name"] for t in lesion["data"]] == [
        "ResNet-8: one block deleted",
        "ResNet-8 intact",
        "plain-8: one block deleted",
        "plain-8 intact",
    ]
    assert len(lesion["data"][0]["y"]) == 3  # ResNet-8 has three blocks
    # One experiment at a time: a switch kept in the URL (Streamlit's tabs cannot be set from a link).
    at.segmented_control(key="why.tab").set_value("shattered").run()
    assert not at.exception, at.exception
    assert at.query_params["tab"] == "shattered"
    titles = [c.figure["layout"]["title"]["text"] for c in charts(at)]
    assert "Autocorrelation of the gradient" in titles and "d logit / dt along the line" in titles
    at.segmented_control(key="why.tab").set_value("landscape").run()
    assert at.button(key="why.landscape.start")  # nothing computed yet: the page offers to
    at.select_slider(key="why.steps").set_value(5).run()
    at.button(key="why.landscape.start").click().run()
    assert not at.exception, at.exception
    store = RunStore(root)
    analyses = Analyses(store)
    deadline = time.monotonic() + 300
    params = {"steps": 5, "span": 1.0, "seed": 0, "images": 256}
    while time.monotonic() < deadline:
        found = [analyses.find(i, "landscape", params) for i in ids]
        if all(a is not None and not a.active for a in found):
            break
        time.sleep(1)
    assert [a.status for a in found] == ["completed", "completed"], [a.error for a in found]
    at.run()
    assert not at.exception, at.exception
    titles = [c.figure["layout"]["title"]["text"] for c in charts(at)]
    assert "Loss around the trained weights (log₁₀ of the mean cross-entropy)" in titles


def test_without_runs_the_page_says_what_to_do_and_still_shows_the_toy(tmp_path, monkeypatch, shapes_root):
    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("RESNET_LAB_DATA", str(shapes_root))
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    assert any("trained ResNet and its plain twin" in i.value for i in at.info)
    titles = [c.figure["layout"]["title"]["text"] for c in charts(at)]
    assert titles == ["d output / d input along the line", "Autocorrelation of the gradient"]
    from ui.runs import release_runner

    release_runner(str((tmp_path / "runs").resolve()))
