"""Issue 15.18 in a real browser: at 1024 px wide no label, choice or chart title is cut ("A · identi",
"Skip con…"), and the page asks nothing of a server outside the app (the favicon came from a font service)."""

import pytest

import resnet_core as rc
from conftest import screenshot, serve_app, wait_for_app
from resnet_core.execution.worker import execute_run
from resnet_core.store.run_store import RunStore
from resnet_core.training.train import TrainConfig

pytestmark = pytest.mark.browser

# Text cut by its box: an ellipsis, or overflow hidden with more text than room; and chart titles, axis titles
# and legend entries that reach past their chart.
CUT = """() => {
  const out = [];
  for (const el of document.querySelectorAll('[data-testid=stMain] *')) {
    if (el.children.length > 1 || !el.innerText || !el.innerText.trim()) continue;
    const s = getComputedStyle(el);
    const clips = s.textOverflow === 'ellipsis' || s.overflow === 'hidden' || s.overflowX === 'hidden';
    if (clips && el.scrollWidth > el.clientWidth + 1) out.push(el.innerText.trim().slice(0, 60));
  }
  for (const chart of document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')) {
    const box = chart.querySelector('svg.main-svg').getBoundingClientRect();
    for (const t of chart.querySelectorAll('.gtitle, .xtitle, .ytitle, .legendtext')) {
      const b = t.getBoundingClientRect();
      if (b.width && (b.left < box.left - 1 || b.right > box.right + 1)) out.push('chart: ' + t.textContent);
    }
  }
  return out;
}"""
PAGES = ["", "architecture", "train", "degradation", "gradients", "responses", "explain", "why"]


@pytest.fixture(scope="module")
def twins(tmp_path_factory, shapes_root):
    """A runs folder with a ResNet-8 and its plain twin, trained for one epoch: the pages show everything."""
    root = tmp_path_factory.mktemp("narrow") / "runs"
    store = RunStore(root)
    config = TrainConfig(epochs=1, batch_size=100, device="cpu").to_dict()
    config.update(train_size=500, test_size=100, data_dir=str(shapes_root), experiment="pair-1")
    for skip in (True, False):
        run_id = store.create(rc.NetSpec(depth=8, width=8, skip=skip), config, dataset="shapes", status="queued")
        assert execute_run(store, run_id) == "completed"
    return root


def test_pages_at_1024_px_cut_no_text_and_fetch_nothing_from_outside(browser, twins, shapes_root, tmp_path):
    with serve_app(twins, shapes_root, tmp_path / "streamlit.log") as url:
        context = browser.new_context(viewport={"width": 1024, "height": 800})
        page = context.new_page()
        page.set_default_timeout(120_000)
        outside = []
        page.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:")) else outside.append(r.url))
        cut = {}
        try:
            for path in PAGES:
                page.goto(f"{url}/{path}")
                wait_for_app(page)
                for summary in page.locator("[data-testid=stExpander] summary").all():  # the settings inside
                    if summary.get_attribute("aria-expanded") != "true" and summary.is_visible():
                        summary.click()
                wait_for_app(page)
                page.wait_for_timeout(1000)  # charts lay out their titles
                screenshot(page, f"narrow-{path or 'home'}")
                if found := page.evaluate(CUT):
                    cut[path or "home"] = found
                icons = page.evaluate("() => [...document.querySelectorAll('link[rel*=icon]')].map(l => l.href)")
                assert icons and all(i.startswith(url) for i in icons), icons  # served by the app itself
        finally:
            context.close()
    assert not cut, cut
    assert not outside, outside
