"""The "why residual nets train" page in a real browser, on trained twins: the lesion study, a loss
landscape computed in the background while the page polls, and the shattered-gradients toy."""

import re

import pytest
from playwright.sync_api import expect

import resnet_core as rc
from conftest import screenshot, wait_for_app
from resnet_core.execution.worker import execute_run
from resnet_core.store.run_store import RunStore

pytestmark = pytest.mark.browser


def test_why_page_on_trained_twins(page, app_url, app_runs_dir, shapes_root):
    store = RunStore(app_runs_dir)
    config = rc.RunConfig(
        rc.TrainConfig(epochs=1, batch_size=50, log_every=2), train_size=300, test_size=100, data_dir=str(shapes_root)
    )
    for skip in (True, False):
        run_id = store.create(rc.NetSpec(depth=8, width=4, skip=skip), config, name="why twins")
        assert execute_run(store, run_id) == "completed"
    page.goto(f"{app_url}/why")
    wait_for_app(page)
    main = page.locator("[data-testid='stMain']")
    expect(main.get_by_text("Test error after deleting one block")).to_be_visible(timeout=120_000)
    expect(main.locator(".js-plotly-plot .scatterlayer path.js-line")).not_to_have_count(0, timeout=60_000)
    expect(main.locator("[data-testid='stAlert']").first).to_be_visible()  # the verdict under the figure
    screenshot(page, "why-lesion")

    # The experiment switch (a segmented control: Streamlit's tabs cannot be set from a link) is in the URL.
    main.locator("[data-testid='stButtonGroup']").get_by_text("Loss landscape", exact=True).click()
    expect(page).to_have_url(re.compile(r"tab=landscape"))
    page.locator("[data-testid='stSlider']:visible", has_text="Grid").get_by_role("slider").press("Home")  # 5 × 5
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"steps=5"))
    page.get_by_role("button", name="Compute the landscapes").click()
    # The worker runs in the background; the polling fragment draws the contours when both are done.
    expect(page.get_by_text("A slice through the centre").first).to_be_visible(timeout=240_000)
    expect(page.locator(".js-plotly-plot .contour:visible")).not_to_have_count(0)
    screenshot(page, "why-landscape")

    main.locator("[data-testid='stButtonGroup']").get_by_text("Shattered gradients", exact=True).click()
    expect(page.get_by_text("Autocorrelation of the gradient").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("d logit / dt along the line").first).to_be_visible(timeout=120_000)
    screenshot(page, "why-shattered")

    # The address is the view: opened cold, it shows the same experiment with the same settings.
    url = page.url
    assert "tab=shattered" in url and "pair=" in url
    page.goto(url)
    wait_for_app(page)
    expect(page.get_by_text("d logit / dt along the line").first).to_be_visible(timeout=120_000)
    expect(page.get_by_text("Test error after deleting one block")).to_have_count(0)
