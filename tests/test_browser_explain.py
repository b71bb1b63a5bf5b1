"""The Explain page in a real browser: train a tiny net on the Train page, then explain a test image, an
uploaded photo and a file that is not an image."""

import pytest
from helpers import CHART_DRAWN
from playwright.sync_api import expect
from test_images import encode, photo

from conftest import screenshot, start_run_from_train_page, wait_for_app

pytestmark = pytest.mark.browser

MAPS = CHART_DRAWN


def train_a_tiny_run(page, app_url) -> None:
    """ResNet-8, one epoch on 1,000 shapes images, through the Train page's form; wait for 'completed'."""
    start_run_from_train_page(page, app_url, epochs=1)
    page.locator("[data-testid='stMarkdown']", has_text="completed").first.wait_for(timeout=240_000)


def wait_for_maps(page, count: int) -> None:
    """Until the page shows `count` plotly charts and the last (the maps) has drawn its image tiles."""
    page.wait_for_function(
        f'() => document.querySelectorAll("{MAPS}").length >= {count} && '
        f"[...document.querySelectorAll(\"{MAPS}\")].at(-1).querySelectorAll('image').length >= 4",
        timeout=120_000,
    )


def test_explain_a_trained_run_an_upload_and_a_bad_file(page, app_url, tmp_path):
    train_a_tiny_run(page, app_url)

    page.goto(f"{app_url}/explain")
    wait_for_app(page)
    assert "ResNet-8" in page.locator("[data-testid='stMarkdown']", has_text="final test error").inner_text()
    wait_for_maps(page, 3)  # input, top-5 bars, maps (this run has no twin)
    assert page.get_by_text("What the net looks at").first.is_visible()
    assert page.get_by_text("Train plain + residual twins").first.is_visible()
    assert page.get_by_role("button", name="Download the figure (PNG)").is_visible()
    screenshot(page, "explain-test-image")

    page.get_by_text("Upload", exact=True).click()
    wait_for_app(page)
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": encode(photo(400, 300), "JPEG")}]
    )
    wait_for_app(page)
    wait_for_maps(page, 3)
    # how like the net's training images the upload is, with the classes the net knows (issue 23.4)
    assert page.get_by_text("knows only the 10 classes of shapes", exact=False).first.is_visible()
    page.get_by_text("all (green raises", exact=False).click()
    wait_for_app(page)
    screenshot(page, "explain-upload")

    page.locator("input[type=file]").set_input_files(
        files=[{"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not an image at all\n" * 10}]
    )
    wait_for_app(page)
    error = page.get_by_test_id("stAlert").filter(has_text="notes.jpg")
    error.wait_for()
    assert "not an image" in error.inner_text()
    # The rerun that shows the error also removes the previous image's charts; wait for it to finish.
    expect(page.locator(MAPS)).to_have_count(0, timeout=60_000)
    screenshot(page, "explain-bad-upload")
