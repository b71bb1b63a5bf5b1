"""A fresh install in a real browser (issue 12.3): with an empty runs folder the Degradation, Responses,
Gradients, Explain and Why pages show the shipped reference runs, labelled as such; one sidebar toggle
hides them for the rest of the session; nothing is written into the user's runs folder."""

import pytest
from playwright.sync_api import expect

from conftest import screenshot, serve_app, wait_for_app
from resnet_core.store.run_store import RunStore
from resnet_core.studies.reference import DEFAULT_BUNDLE

pytestmark = pytest.mark.browser

LINES = ".js-plotly-plot .scatterlayer path.js-line"


@pytest.fixture
def fresh_app(tmp_path, monkeypatch, shapes_root, browser):
    """A server of its own: an empty runs folder, the shipped bundle on, a cache folder of its own."""
    runs = tmp_path / "runs"
    monkeypatch.setenv("RESNET_LAB_REFERENCE", str(DEFAULT_BUNDLE))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with serve_app(runs, shapes_root, tmp_path / "streamlit.log") as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(120_000)
        yield page, url, runs
        context.close()


def nav(page, title: str) -> None:
    """Go to a page through the sidebar, as a user would (the session, and its toggle, stay)."""
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=title).click()
    wait_for_app(page)


def test_a_fresh_install_shows_labelled_reference_runs_and_hides_them(fresh_app):
    page, url, runs = fresh_app
    page.goto(f"{url}/degradation")
    wait_for_app(page)
    main = page.locator("[data-testid='stMain']")
    expect(main.get_by_text("Runs marked reference ship with the app", exact=False)).to_be_visible()
    expect(main.get_by_text("python -m resnet_core reference", exact=False).first).to_be_visible()
    expect(main.locator(LINES)).not_to_have_count(0)
    screenshot(page, "reference-degradation")

    nav(page, "Responses")
    expect(main.get_by_text("Runs marked reference ship with the app", exact=False)).to_be_visible()
    expect(main.locator(LINES)).not_to_have_count(0)
    expect(main.locator(".js-plotly-plot .legendtext", has_text="reference").first).to_be_visible()
    screenshot(page, "reference-responses")

    nav(page, "Gradients")
    page.get_by_role("tab", name="During training").click()
    expect(main.get_by_text("Runs marked reference ship with the app", exact=False)).to_be_visible()
    expect(main.locator(".js-plotly-plot .heatmaplayer").first).to_be_visible()
    screenshot(page, "reference-gradients")

    nav(page, "Explain")
    expect(main.get_by_text("Runs marked reference ship with the app", exact=False)).to_be_visible()
    expect(main.get_by_text("What the nets look at", exact=False)).to_be_visible()
    screenshot(page, "reference-explain")

    nav(page, "Why it works")  # the bundle keeps the pair's lesion studies and landscapes: shown at once
    expect(main.get_by_text("Test error after deleting one block")).to_be_visible()
    switch = main.locator("[data-testid='stButtonGroup']")  # the experiment switch, kept in the URL
    switch.get_by_text("Loss landscape", exact=True).click()
    expect(main.get_by_text("A slice through the centre").first).to_be_visible()  # precomputed: shown at once
    screenshot(page, "reference-why-landscape")

    # One toggle hides them, and they stay hidden on the session's other pages.
    page.locator("[data-testid='stSidebar']").get_by_text("Show reference runs").click()
    wait_for_app(page)
    expect(main.get_by_text("These experiments need a trained ResNet and its plain twin", exact=False)).to_be_visible()
    nav(page, "Degradation")
    expect(main.get_by_text("No experiment yet", exact=False)).to_be_visible()
    expect(main.locator(LINES)).to_have_count(0)
    screenshot(page, "reference-hidden-degradation")
    nav(page, "Responses")
    expect(main.get_by_text("No run has finished an epoch yet", exact=False)).to_be_visible()

    assert {p.name for p in runs.iterdir()} <= {"runs.sqlite", "runs.sqlite-wal", "runs.sqlite-shm"}
    assert RunStore(runs).list() == []  # the user's runs folder: its empty store, no reference run in it
