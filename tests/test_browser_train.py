"""The Train page in a real browser: start a tiny run, see curve points appear, refresh, stop it."""

import re

import pytest

from conftest import screenshot, start_run_from_train_page, wait_for_app

pytestmark = pytest.mark.browser


def test_start_watch_refresh_and_stop_a_run(page, app_url):
    start_run_from_train_page(page, app_url, epochs=40)

    # The run is queued, starts, and its first curve points arrive through the polling fragment.
    page.get_by_text("images/s").first.wait_for(timeout=120_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot .scatterlayer .trace path.js-line')]"
        ".some(p => (p.getAttribute('d') || '').length > 20)", timeout=120_000)
    assert re.search(r"runs=[\w-]+", page.url)
    screenshot(page, "train-running")

    # A refresh loses nothing: the selection is in the URL and the run keeps going.
    page.reload()
    wait_for_app(page)
    page.get_by_text("images/s").first.wait_for(timeout=60_000)
    assert page.get_by_text("ResNet-8", exact=False).first.is_visible()

    page.get_by_role("button", name="Stop").first.click()
    page.get_by_text("stopped").first.wait_for(timeout=60_000)
    wait_for_app(page)
    screenshot(page, "train-stopped")
