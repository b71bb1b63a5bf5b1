"""Issue 15.16: exports — the Degradation table as CSV, the Architecture diagram as SVG (and PNG from the
browser), a run's metrics CSV with its error columns named as fractions and its rows in step order."""

import csv
import html
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import drawings
from streamlit.testing.v1 import AppTest

import resnet_core as rc
from resnet_core.presentation.diagram import architecture_figure, diagram_svg
from resnet_core.presentation.reports import depth_table_csv, metrics_csv
from resnet_core.presentation.text import plot_text
from resnet_core.store.run_store import RunStore
from resnet_core.studies.experiments import depth_table, experiment_runs

PAGES = Path(__file__).resolve().parent.parent / "pages"
SVG = "{http://www.w3.org/2000/svg}"


def test_metrics_csv_rows_come_in_step_order(tmp_path):
    store = RunStore(tmp_path / "runs")
    run_id = store.create(rc.NetSpec(depth=8), {"epochs": 2})
    for step in range(1, 7):
        store.add_steps(
            run_id, [{"step": step, "epoch": step / 3, "loss": 2.0, "error": 0.5, "lr": 0.1, "images_per_second": 10.0}]
        )
        if step % 3 == 0:
            store.add_epoch(run_id, {"epoch": step // 3, "step": step, "train_error": 0.5, "test_error": 0.4})
    rows = list(csv.DictReader(io.StringIO(metrics_csv(store, run_id))))
    assert [(r["record"], int(r["step"])) for r in rows] == [
        ("step", 1),
        ("step", 2),
        ("step", 3),
        ("epoch", 3),
        ("step", 4),
        ("step", 5),
        ("step", 6),
        ("epoch", 6),
    ]
    assert rows[3]["test_error_fraction"] == "0.4"


def test_the_degradation_table_as_csv_in_percent_with_what_keeps_a_depth_from_a_verdict(tmp_path):
    store = RunStore(tmp_path / "runs")
    for depth, skip, done in ((20, False, 2), (20, True, 2), (56, False, 1)):
        status = "completed" if done == 2 else "stopped"
        run_id = store.create(rc.NetSpec(depth=depth, skip=skip), {"experiment": "e1", "epochs": 2}, status=status)
        for epoch in range(1, done + 1):
            store.add_epoch(run_id, {"epoch": epoch, "train_error": 0.125 * depth / 20, "test_error": 0.25})
    text = depth_table_csv(depth_table(store, experiment_runs(store, "e1")))
    rows = list(csv.reader(io.StringIO(text)))
    assert text.splitlines()[0] == (  # the header line as a spreadsheet reads it
        "depth,plain_train_error_percent,plain_test_error_percent,"
        "resnet_train_error_percent,resnet_test_error_percent,not_comparable_because"
    )
    assert rows[1] == ["20", "12.5", "25.0", "12.5", "25.0", ""]
    assert rows[2] == ["56", "35.0", "25.0", "", "", "plain-56: 1 of 2 epochs, stopped; ResNet-56: no run"]


def test_the_degradation_page_offers_its_table_as_csv(tmp_path, monkeypatch):
    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    store = RunStore(tmp_path / "runs")
    for skip in (False, True):
        run_id = store.create(rc.NetSpec(depth=20, skip=skip), {"experiment": "e1", "epochs": 1}, status="completed")
        store.add_epoch(run_id, {"epoch": 1, "train_error": 0.3, "test_error": 0.3})
    try:
        at = AppTest.from_file(str(PAGES / "degradation.py"), default_timeout=60).run()
        assert not at.exception
        (button,) = [b for b in at.get("download_button") if b.proto.id.endswith("deg.csv")]
        assert button.proto.label == "Download the table (CSV)"
    finally:
        from ui.runs import release_runner

        release_runner(str((tmp_path / "runs").resolve()))


@pytest.mark.parametrize(
    "spec",
    [
        rc.NetSpec(depth=56, shortcut="B"),
        rc.NetSpec(depth=20, skip=False),
        rc.NetSpec(depth=50, block="bottleneck", stem="imagenet"),
    ],
    ids=["resnet-56-B", "plain-20", "imagenet-50"],
)
def test_the_diagram_as_svg_draws_what_the_figure_draws(spec):
    figure = architecture_figure(rc.summarize(spec).layout, title=plot_text(f"{spec.name} <diagram> & co"))
    root = ET.fromstring(diagram_svg(figure))  # well-formed: the title's "<" and "&" stay text
    rects = [s for s in figure.layout.shapes if s.type == "rect"]
    arcs = [s for s in figure.layout.shapes if s.type == "path"]
    assert len(root.findall(f"{SVG}rect")) == len(rects) + 1  # and the white background
    assert len(root.findall(f"{SVG}path")) == len(arcs) and bool(arcs) == spec.skip  # the shortcut arcs
    assert len(root.findall(f"{SVG}line")) == sum(bool(a.showarrow) for a in figure.layout.annotations)
    words = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    for note in figure.layout.annotations:
        for line in (note.text or "").split("<br>"):
            assert html.unescape(line.replace("<b>", "").replace("</b>", "")) in words
    assert f"{spec.name} <diagram> & co" in words
    assert float(root.get("height")) == figure.layout.height
    # Each box's hover text is its <title> (a tooltip where the SVG is drawn inline): the module names, as text.
    titles = [r.find(f"{SVG}title") for r in root.findall(f"{SVG}rect")]
    hovers = [html.unescape(h.replace("<br>", "\n")) for h in figure.data[0].hovertext]
    assert [t.text for t in titles if t is not None] == hovers
    assert any("stage1.block1.conv1" in h for h in hovers)


def test_the_architecture_page_offers_svg_and_png(monkeypatch, tmp_path):
    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file(str(PAGES / "architecture.py"), default_timeout=60).run()
    assert not at.exception
    buttons = [b for b in at.get("download_button") if "diagram.svg" in b.proto.id]
    assert [b.proto.label for b in buttons] == ["Download as SVG", "Download as SVG"]
    # Drawn inline from the same SVG, each with its PNG button (the browser rasterises it: test_browser_foundation).
    shown = drawings(at)
    assert [d["png_label"] for d in shown] == ["Download as PNG", "Download as PNG"]
    assert [d["filename"] for d in shown] == ["ResNet-20-diagram", "plain-20-diagram"]
    assert all(d["svg"].startswith("<svg") and "<title>" in d["svg"] for d in shown)


def test_a_stage_of_one_block_says_block():
    """Issue 15.18: "1 blocks" beside a ResNet-8's stages."""
    figure = architecture_figure(rc.summarize(rc.NetSpec(depth=8)).layout)
    texts = [a.text for a in figure.layout.annotations]
    assert sum(t.endswith("<br>1 block") for t in texts) == 3 and not any("1 blocks" in t for t in texts)


def test_a_charts_png_is_named_after_its_title_at_twice_its_size():
    """The mode bar's PNG download (ui/views/render.show_chart): named for the chart, not plotly's "newplot";
    markup and punctuation dropped, Chinese kept; the page's key when the figure has no title."""
    import plotly.graph_objects as go

    from ui.views.render import png_name

    named = lambda title, key="k": png_name(go.Figure(layout={"title": title}), key)  # noqa: E731
    assert named("Gradient norm per layer (BatchNorm, relu)") == "resnet-lab-gradient-norm-per-layer-batchnorm-relu"
    assert named("删除一个块后的测试误差") == "resnet-lab-删除一个块后的测试误差"
    assert named("<b>Loss</b> of <i>a/b</i>") == "resnet-lab-loss-of-a-b"
    assert named(None, key="deg.fig6.plain") == "resnet-lab-deg-fig6-plain"
    assert named("../../etc?") == "resnet-lab-etc"  # a run's own name in a title cannot make a path
    assert named("!!!") == "resnet-lab-chart"
