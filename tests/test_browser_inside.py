"""The Gradients and Responses pages in a real browser: change depth and skip, see the charts change."""

import pytest
from helpers import PROBED
from playwright.sync_api import expect

import resnet_core as rc
from conftest import screenshot, wait_for_app
from resnet_core.execution.worker import execute_run
from resnet_core.store.run_store import RunStore

pytestmark = pytest.mark.browser

TINY = dict(PROBED, epochs=1)


LINES = ".js-plotly-plot .scatterlayer path.js-line"


def chart_paths(root) -> list[str]:
    """The drawn line paths of the plotly charts inside `root` (a page or a locator): what a user sees change."""
    return root.locator(LINES).evaluate_all("ps => ps.map(p => p.getAttribute('d'))")


def expect_lines(root, count: int) -> None:
    """Retry until `count` lines are drawn: a rerun removes the previous run's elements only as it ends."""
    expect(root.locator(LINES)).to_have_count(count, timeout=60_000)


def test_gradients_page_reacts_to_depth_and_skip(page, app_url):
    page.goto(f"{app_url}/gradients")
    wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot .scatterlayer path.js-line")
    first_tab = page.locator("[role='tabpanel']").first
    expect_lines(first_tab, 2)  # residual and plain overlaid
    before = chart_paths(first_tab)
    slider = page.locator("[data-testid='stSlider']", has_text="Depth").get_by_role("slider")
    slider.press("Home")  # 8 layers (1202 is covered by the page test; here the browser's part matters)
    wait_for_app(page)
    expect(first_tab.get_by_text("ResNet-8", exact=True).first).to_be_visible(timeout=60_000)  # the new legend
    expect_lines(first_tab, 2)
    assert chart_paths(first_tab) != before
    screenshot(page, "gradients")
    page.get_by_role("button", name="plain").click()  # skip only: the residual net alone
    wait_for_app(page)
    expect_lines(first_tab, 1)


def test_responses_page_shows_fig7_for_recorded_runs(page, app_url, app_runs_dir, shapes_root):
    store = RunStore(app_runs_dir)  # shared with other browser tests: select our runs through the link
    ids = []
    for spec in (rc.NetSpec(depth=8, width=4, skip=False), rc.NetSpec(depth=8, width=4), rc.NetSpec(depth=14, width=4)):
        run_id = store.create(spec, dict(TINY, data_dir=str(shapes_root)), status="running")
        assert execute_run(store, run_id) == "completed"
        ids.append(run_id)
    page.goto(f"{app_url}/responses?runs={','.join(ids)}")
    wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot .scatterlayer path.js-line")
    expect_lines(page, 2 * 3)  # by index and sorted, for three runs
    assert page.get_by_text("What the paper found").is_visible()
    screenshot(page, "responses")
    # Dropping a run from the selection redraws the chart without it.
    page.locator("[data-testid='stMultiSelect'] button[aria-label^='Remove']:visible").first.click()
    wait_for_app(page)
    expect_lines(page, 2 * 2)


def _boxes_overlap(a, b) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_gradients_training_tab_legend_stays_clear_of_the_axis_title(page, app_url, app_runs_dir, shapes_root):
    """Issue 26: on the during-training tab the step profile's legend overlapped its x-axis title."""
    store = RunStore(app_runs_dir)
    ids = []
    for spec in (rc.NetSpec(depth=8, width=4, skip=False), rc.NetSpec(depth=8, width=4)):
        run_id = store.create(spec, dict(TINY, data_dir=str(shapes_root)), status="running")
        assert execute_run(store, run_id) == "completed"
        ids.append(run_id)
    page.goto(f"{app_url}/gradients?tab=training&runs={ids[1]},{ids[0]}")
    wait_for_app(page)
    chart = page.locator(".js-plotly-plot").last  # the per-layer profile at one step
    expect(chart.locator(".legend")).to_be_visible(timeout=60_000)
    chart.scroll_into_view_if_needed()
    legend, title = chart.locator(".legend").bounding_box(), chart.locator(".xtitle").bounding_box()
    screenshot(page, "gradients-training")
    assert not _boxes_overlap(legend, title), (legend, title)
    assert legend["y"] >= title["y"] + title["height"]  # under the title


def test_architecture_1202_diagram(page, app_url):
    page.goto(f"{app_url}/architecture?depth=1202")
    wait_for_app(page)
    drawings = page.locator(".drawing svg")  # inline SVG (ui/views/render.show_drawing)
    expect(drawings).to_have_count(2, timeout=60_000)
    drawings.first.scroll_into_view_if_needed()
    screenshot(page, "architecture-1202")
    notes = drawings.first.locator("text")
    script = (
        "ns => ns.map(n => { const r = n.getBoundingClientRect();"
        " return {x: r.x, y: r.y, width: r.width, height: r.height, text: n.textContent}; })"
    )
    boxes = [b for b in notes.evaluate_all(script) if b["text"].strip()]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not _boxes_overlap(a, b), (a["text"], b["text"])
