"""User text is shown as text: a run's name, a link's value or an upload's file name never becomes bold text,
a link or a remote image on a page, nor a link or markup in a plotly figure."""

import json
import re
import time

import numpy as np
import pytest
from helpers import charts
from streamlit.testing.v1 import AppTest
from test_attributions import make_run
from test_pages import run_page as page

import resnet_core as rc
from resnet_core.presentation.charts import (
    LayerSeries,
    RunSeries,
    error_figure,
    gradient_heatmap_figure,
    layer_profile_figure,
    loss_figure,
    responses_figure,
)
from resnet_core.presentation.explain_figures import MapRow, attribution_figure
from resnet_core.presentation.text import markdown_text, plot_text
from resnet_core.store.run_store import RunStore

HOSTILE = '**won** [Click here](https://e.vil/x) ![x](https://e.vil/p.png) <a href="https://e.vil">link</a> _i_'


def test_markdown_text_leaves_no_markup():
    text = markdown_text(HOSTILE + "\n# heading $x$ :red[hi]")
    assert "\n" not in text
    for mark in "*[]()!<>#$_:":
        assert all(text[i - 1] == "\\" for i, c in enumerate(text) if c == mark), mark
    assert plot_text('<a href="x">y</a> & <br>') == '&lt;a href="x"&gt;y&lt;/a&gt; &amp; &lt;br&gt;'


def figure_strings(fig) -> str:
    """Every string plotly renders as markup: trace names, hover templates, titles, annotations."""
    spec = fig.to_plotly_json()
    texts = [t.get(k, "") for t in spec["data"] for k in ("name", "hovertemplate")]
    texts += [json.dumps(spec["layout"].get(k, "")) for k in ("title", "annotations", "yaxis", "yaxis2")]
    return " ".join(str(t) for t in texts)


def test_figure_builders_escape_labels():
    steps = np.arange(1, 11, dtype=float)
    run = RunSeries(
        HOSTILE, True, "#000", steps, np.ones(10), np.ones(10) / 2, np.array([10.0]), np.array([0.5]), np.array([0.4])
    )
    layer = LayerSeries(HOSTILE, "#000", ["a", "b"], np.array([1.0, 2.0]), [1, 2])
    figures = [
        loss_figure([run]),
        error_figure([run]),
        layer_profile_figure([layer], HOSTILE, "y"),
        responses_figure([layer]),
        gradient_heatmap_figure(np.ones((2, 2)), np.array([1, 2]), np.array([0, 1]), ["a", "b"], (0, 1), HOSTILE),
        attribution_figure(
            np.zeros((8, 8, 3), dtype=np.uint8),
            [MapRow(HOSTILE + "\nclass", "#000", {"saliency": np.zeros((8, 8))})],
            "absolute",
            0.7,
            "title",
        ),
    ]
    for fig in figures:
        text = figure_strings(fig)
        assert "<a href" not in text and "&lt;a href" in text.replace("\\u003c", "<"), text[:500]
        assert "<extra>" + HOSTILE not in text


@pytest.fixture
def env(page_runs, monkeypatch):
    """The pages' runs folder (conftest.page_runs), and no ImageNet weights from the user's torch cache."""
    monkeypatch.setenv("TORCH_HOME", str(page_runs.parent / "torch"))
    return page_runs


def shown(at: AppTest) -> str:
    """The Markdown source of everything the page wrote as text."""
    parts = [e.value for kind in ("markdown", "caption", "warning", "error", "info") for e in getattr(at, kind)]
    return "\n".join(parts)


def test_run_names_on_the_train_page_are_text(env):
    store = RunStore(env)
    run_id = store.create(rc.NetSpec(depth=8), {"epochs": 1}, status="stopped", name=HOSTILE)
    store.set_status(run_id, "failed", error=f"could not read {HOSTILE}")
    time.sleep(0.01)
    at = page("train", {"runs": run_id})
    text = shown(at)
    assert markdown_text(HOSTILE) in text
    assert "[Click here](" not in text and "![x](" not in text and "**won**" not in text
    assert "<a href" not in re.sub(r"\\.", "", text)  # a tag only where its "<" is not escaped
    legends = " ".join(t.get("name", "") for c in charts(at) for t in c.figure["data"])
    assert "<a href" not in legends


def test_a_links_values_are_text_in_its_warning(env):
    at = page("architecture", {"depth": "[Click here](https://e.vil)"})
    assert "[Click here](" not in at.warning[0].value and "Click here" in at.warning[0].value


def test_an_uploads_file_name_is_text(env, shapes_root):
    make_run(RunStore(env), rc.NetSpec(depth=8, width=8), shapes_root)
    at = page("explain")
    at.radio(key="explain.source.False").set_value("Upload").run()
    name = "[Click here](https:__e.vil) **x**.png"
    at.file_uploader(key="explain.upload").upload(name, b"not an image", "image/png").run()
    assert not at.exception, at.exception
    assert markdown_text(name) in at.error[0].value and "[Click here](" not in at.error[0].value


LINKY = "x http://evil.example www.evil.example mail evil@evil.example"


def test_markdown_text_breaks_every_start_of_an_autolink():
    # GFM's literal autolinks start at "http://", "https://", "www." and an email's "@", in any case.
    text = markdown_text("HTTP://a.b https://a.b WWW.a.b me@a.b ftp://a.b").replace("\\", "")
    for start in ("HTTP://", "https://", "WWW.", "@a", "ftp://"):
        assert start not in text, start
    assert text.replace("\u2060", "") == "HTTP://a.b https://a.b WWW.a.b me@a.b ftp://a.b"  # nothing else changes


@pytest.mark.browser
def test_a_url_in_a_run_name_puts_no_link_on_the_page(page, app_url, app_runs_dir):
    # Streamlit's Markdown turns bare URLs and emails into links after the escapes are read: escaping alone
    # left a live <a href="http://evil.example"> on every visitor's Train page (issue 25). Checked in the
    # browser, where the links would form.
    store = RunStore(app_runs_dir)
    run_id = store.create(rc.NetSpec(depth=8), {"epochs": 1}, status="stopped", name=LINKY)
    store.set_status(run_id, "failed", error=f"could not read {LINKY}")
    from conftest import screenshot, wait_for_app

    page.goto(f"{app_url}/train?runs={run_id}")
    wait_for_app(page)
    main = page.locator("[data-testid='stMain']")
    main.get_by_text("could not read", exact=False).first.wait_for()
    shown = main.inner_text().replace("\u2060", "")
    assert "x http://evil.example www.evil.example" in shown  # the name reads as it was written …
    links = page.eval_on_selector_all("a", "els => els.map(e => e.href)")
    assert not [href for href in links if "evil" in href], links  # … and nothing of it is a link
    screenshot(page, "user-text-no-autolink")
