"""Issue 26.2, 26.3 and 26.7 in a real browser: while a run trains, the sidebar's "Active runs", the "Runs
shown" chips and the live row say it is running (they said `queued` and the sidebar was empty); after Stop
they say stopped and the row offers Resume, which queues the run again; a reload keeps the stopped run shown;
at 1024 px the "All runs" table's error columns are in view."""

import pytest

from conftest import screenshot, start_run_from_train_page, wait_for_app

pytestmark = pytest.mark.browser

CHIPS = "[data-testid=stMultiSelect] [data-baseweb=tag]"


def test_statuses_follow_the_run_and_a_stopped_run_resumes_from_its_row(page, app_url):
    page.set_default_timeout(180_000)  # a run's start waits for its worker: minutes on a loaded 2-core machine
    start_run_from_train_page(page, app_url, epochs=40)
    page.get_by_text("images/s").first.wait_for(timeout=300_000)
    sidebar = page.locator("[data-testid=stSidebar]")
    # The statuses were read when the run was queued: the poll that sees it running reruns the whole app.
    sidebar.get_by_text("· running", exact=False).first.wait_for(timeout=30_000)
    page.locator(CHIPS, has_text="· running").first.wait_for(timeout=30_000)
    screenshot(page, "train-status-running")

    page.get_by_role("button", name="Stop").first.click()
    page.locator(CHIPS, has_text="· stopped").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert sidebar.get_by_text("· running", exact=False).count() == 0  # nothing active: no stale entry
    resume = page.get_by_role("button", name="Resume")
    assert resume.count() >= 1  # on the run's own row, not only in the manage panel

    page.reload()  # the stopped run stays shown
    wait_for_app(page)
    page.locator(CHIPS, has_text="· stopped").first.wait_for(timeout=30_000)

    page.set_viewport_size({"width": 1024, "height": 900})
    wait_for_app(page)
    table = page.locator("[data-testid=stDataFrame]").first
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    headers = page.locator("[data-testid=stDataFrame] [role=columnheader]")
    visible = [
        h.inner_text()
        for h in headers.all()
        if (b := h.bounding_box()) and b["x"] >= box["x"] - 1 and b["x"] + b["width"] <= box["x"] + box["width"] + 1
    ]
    assert "train error %" in visible and "test error %" in visible, visible
    screenshot(page, "train-status-stopped-1024")

    page.get_by_role("button", name="Resume").first.click()
    page.locator(CHIPS, has_text="· stopped").first.wait_for(state="detached", timeout=60_000)
    wait_for_app(page)
    page.get_by_role("button", name="Stop").first.click()  # leave nothing training
    page.locator(CHIPS, has_text="· stopped").first.wait_for(timeout=60_000)
