"""The real app in a real browser: Home and Architecture, and the skip toggle really changes the page."""

import pytest

from conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_a_page_opened_directly_has_the_navigation(page, app_url):
    """Regression: the first visit of a fresh server straight to a page (a bookmark) must run the app's
    navigation, not Streamlit's legacy one-page mode."""
    page.goto(f"{app_url}/train")
    wait_for_app(page)
    nav = page.locator("[data-testid='stSidebarNav']").inner_text()
    assert "Architecture" in nav and "Train" in nav and "app" not in nav.split()
    assert page.get_by_text("Device:").is_visible()


def test_home_page_shows_the_residual_idea_and_the_device(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    assert page.get_by_role("heading", name="ResNet Lab").is_visible()
    assert page.get_by_text("F(x) + x").first.is_visible()
    assert page.get_by_text("Computing on:").is_visible()
    screenshot(page, "home")


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
