"""The real app in a real browser: Home and Architecture, and the skip toggle really changes the page."""

import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from plotly.offline import get_plotlyjs_version

from conftest import SCREENSHOTS, browser_page, screenshot, serve_app, wait_for_app
from ui.navigation import PAGES

PLOTLY_JS_VERSION = get_plotlyjs_version()  # the bundle in static/ (tests/test_warm.py checks the file)

pytestmark = pytest.mark.browser


# Each page's URL, and a heading it shows, as a user would type or bookmark them.
PAGE_HEADINGS = {
    "": "ResNet Lab",
    "lesson": "The lesson",
    "architecture": "Architecture",
    "train": "Train",
    "degradation": "Degradation",
    "gradients": "Gradients",
    "responses": "Responses",
    "explain": "Explain",
    "why": "Why residual nets train",
}


# Each a fresh server (10-15 s): Home, and a page that draws figures. That every other page leaves the
# pages-directory mode first too is read from their code (tests/test_pages.py, leave_pages_directory_mode).
@pytest.mark.parametrize("path", ["", "explain"])
def test_a_page_url_works_as_a_fresh_servers_first_request(browser, tmp_path, shapes_root, path):
    """A bookmark opened on a freshly started server (its very first request) must run the app's
    navigation and sidebar, not Streamlit's pages-directory mode, which would run the page alone."""
    assert set(PAGE_HEADINGS) == {"" if name == "home" else name for name in PAGES}
    with serve_app(tmp_path / "runs", shapes_root, tmp_path / "streamlit.log") as url:
        with browser_page(browser) as page:
            page.goto(f"{url}/{path}")
            wait_for_app(page)
            nav = page.locator("[data-testid='stSidebarNav']").inner_text()
            assert all(title in nav for title, _ in PAGES.values()), nav
            assert not {"app", "architecture", "degradation"} & set(nav.split()), nav  # legacy mode: file names
            assert page.get_by_text("Device:").is_visible()
            assert page.get_by_role("heading", name=PAGE_HEADINGS[path]).first.is_visible()
            assert page.url.rstrip("/") == f"{url}/{path}".rstrip("/")


def test_home_page_shows_the_residual_idea_and_the_device(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    assert page.get_by_role("heading", name="ResNet Lab").is_visible()
    assert page.get_by_text("F(x) + x").first.is_visible()
    assert page.get_by_text("Computing on:").is_visible()
    # Home draws no chart, yet the browser loads the chart library while it is read (ui/warm.py), from a
    # hidden element that leaves no gap above the title.
    # It is plotly.js's 2-D bundle from the app's static folder, evaluated (window.Plotly), and not Streamlit's
    # own chart code (its whole plotly.js, three times the size).
    page.wait_for_function("() => window.Plotly !== undefined && typeof window.Plotly.react === 'function'")
    assert page.evaluate("window.Plotly.version") == PLOTLY_JS_VERSION
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert any(name.endswith("/app/static/plotly-cartesian.min.js") for name in loaded), loaded
    assert not any(re.search(r"/PlotlyChart\.[^/]*\.js$", name) for name in loaded), loaded
    assert page.locator(".js-plotly-plot").count() == 0
    hint = page.locator("head link[rel=preload][as=script]").evaluate_all("ls => ls.map(l => l.href)")
    assert any(h.endswith("/app/static/plotly-cartesian.min.js") for h in hint), hint  # asked for at once
    assert page.locator("[data-testid=stElementContainer]:has(#resnet-lab-charts)").is_hidden()
    screenshot(page, "home")


def test_a_chart_whose_library_does_not_load_says_so(page, app_url):
    """The charts' library is a file the browser fetches (ui/views/render.show_chart): when it cannot (a proxy
    that drops it, a server gone), each chart says so in words instead of staying blank."""
    page.route("**/app/static/plotly-cartesian.min.js", lambda route: route.abort())
    page.goto(f"{app_url}/gradients")
    wait_for_app(page)
    chart = page.locator("[role='tabpanel'] .resnet-lab-chart").first
    expect(chart).to_have_text(
        "The chart could not be drawn: the chart library did not load. Reload the page.", timeout=30_000
    )
    assert page.locator(".js-plotly-plot").count() == 0
    # Once the file can be fetched again, the chart's next drawing loads it and replaces the message.
    page.unroute("**/app/static/plotly-cartesian.min.js")
    page.locator("[data-testid='stSlider']", has_text="Depth").get_by_role("slider").press("Home")
    wait_for_app(page)
    expect(page.locator("[role='tabpanel'] .resnet-lab-chart.js-plotly-plot").first).to_be_visible(timeout=60_000)
    expect(chart).not_to_contain_text("could not be drawn")


def test_a_chart_goes_full_screen_and_back(page, app_url):
    """The mode bar's full-screen button (a teacher shows one chart to a room): the chart fills the screen, white,
    at the screen's height, and returns to the figure's own height after."""
    page.goto(f"{app_url}/gradients")
    wait_for_app(page)
    chart = page.locator("[role='tabpanel'] .resnet-lab-chart.js-plotly-plot").first
    expect(chart).to_be_visible(timeout=60_000)
    own_height, own_width = chart.evaluate("c => [c._fullLayout.height, c._fullLayout.width]")
    chart.hover()
    buttons = chart.locator(".modebar-btn").evaluate_all("bs => bs.map(b => b.getAttribute('data-title'))")
    assert "Download plot as a PNG" in buttons and "Share chart..." not in buttons  # nothing goes to a cloud
    with page.expect_download() as download:  # named for the chart, twice its size: sharp on a slide
        chart.locator("[data-title='Download plot as a PNG']").click()
    assert (
        download.value.suggested_filename == "resnet-lab-gradient-norm-per-layer-at-initialisation-batchnorm-relu.png"
    )
    with Image.open(download.value.path()) as png:
        assert png.size == (round(2 * own_width), round(2 * own_height))
    chart.hover()
    chart.locator("[data-title='Full screen']").click()
    page.wait_for_function("() => document.fullscreenElement?.classList.contains('resnet-lab-chart')")
    page.wait_for_function(
        "() => { const l = document.fullscreenElement._fullLayout;"
        " return l.height === window.innerHeight - 48 && l.width === window.innerWidth - 48; }"  # 24 px around
    )
    assert chart.evaluate("c => getComputedStyle(c).backgroundColor") == "rgb(255, 255, 255)"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "chart-full-screen.png"))  # the screen as the room sees it
    chart.hover()
    chart.locator("[data-title='Full screen']").click()
    page.wait_for_function("() => document.fullscreenElement === null")
    expect(chart).to_have_js_property("offsetHeight", own_height)
    assert chart.evaluate("c => c._fullLayout.width") == own_width  # the column's width again


def test_architecture_diagrams_are_inline_svg_with_tooltips_and_a_png_button(page, app_url, tmp_path):
    """No chart library for two drawings: inline SVG whose boxes name their modules on hover (<title>), and a
    button that saves the drawing as a PNG at twice its size, made in the browser."""
    page.goto(f"{app_url}/architecture?depth=20")
    wait_for_app(page)
    drawings = page.locator(".drawing svg")
    expect(drawings).to_have_count(2)
    assert page.locator(".js-plotly-plot").count() == 0
    titles = drawings.first.locator("rect > title").all_text_contents()
    assert any("stage1.block1.conv1" in t and "shortcut: identity" in t for t in titles), titles
    assert drawings.first.get_attribute("aria-label") == "Diagram of ResNet-20"
    width, height = (float(drawings.first.get_attribute(a)) for a in ("width", "height"))
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as PNG").first.click()
    assert download.value.suggested_filename == "ResNet-20-diagram.png"
    saved = tmp_path / "diagram.png"
    download.value.save_as(saved)
    with Image.open(saved) as png:
        assert png.format == "PNG" and png.size == (round(2 * width), round(2 * height))
        assert len(set(png.convert("L").tobytes())) > 10  # drawn, not a blank canvas


def test_architecture_page_toggle_skip_changes_the_page(page, app_url):
    page.goto(f"{app_url}/architecture?depth=56")
    wait_for_app(page)
    heading = page.locator("h3", has_text="ResNet-56")
    assert heading.is_visible()
    assert page.locator("[data-testid='stMetricValue']", has_text="0.85M").is_visible()
    screenshot(page, "architecture-resnet56")

    page.get_by_text("Skip connections", exact=True).click()
    page.wait_for_selector("h3:has-text('plain-56')")
    wait_for_app(page)
    assert "skip=0" in page.url
    assert page.locator("h3", has_text="plain-56").is_visible()
    screenshot(page, "architecture-plain56")

    # A link reproduces the net: open the URL fresh in a new page.
    url = page.url
    page.goto("about:blank")
    page.goto(url)
    wait_for_app(page)
    assert page.locator("h3", has_text="plain-56").is_visible()
