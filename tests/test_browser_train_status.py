"""Issue 26.2, 26.3 and 26.7 in a real browser: while a run trains, the sidebar's "Active runs", the "Runs
shown" chips and the live row say it is running (they said `queued` and the sidebar was empty); after Stop
they say stopped and the row offers Resume, which queues the run again; a reload keeps the stopped run shown;
at 1024 px the "All runs" table's error columns are in view (the screenshot)."""

import time

import pytest
from playwright.sync_api import expect

from conftest import run_from_train_page, screenshot, wait_for_app
from resnet_core.store.run_store import RunStore

pytestmark = pytest.mark.browser

CHIPS = "[data-testid=stMultiSelect] [data-tag]:visible"


def test_statuses_follow_the_run_and_a_stopped_run_resumes_from_its_row(page, app_url, app_runs_dir):
    page.set_default_timeout(180_000)  # a run's start waits for its worker: minutes on a loaded 2-core machine
    # 400 epochs: long enough that Stop, not the end, ends it (40 completed in 45 s on a quiet machine).
    with run_from_train_page(page, app_url, app_runs_dir, epochs=400) as run_id:
        follow_stop_and_resume(page, RunStore(app_runs_dir), run_id)


def wait_for_status(store: RunStore, run_id: str, status: str) -> None:
    deadline = time.monotonic() + 60
    while store.get(run_id).status != status:
        assert time.monotonic() < deadline, f"the run is {store.get(run_id).status}, not {status}, after a minute"
        time.sleep(0.25)


def follow_stop_and_resume(page, store: RunStore, run_id: str) -> None:
    page.get_by_text("images/s").first.wait_for(timeout=300_000)
    sidebar = page.locator("[data-testid=stSidebar]")
    # The statuses were read when the run was queued: the poll that sees it running reruns the whole app.
    sidebar.get_by_text("· running", exact=False).first.wait_for(timeout=30_000)
    page.locator(CHIPS, has_text="· running").first.wait_for(timeout=30_000)
    screenshot(page, "train-status-running")

    # Our run's own buttons: the shared app may show earlier tests' runs beside it.
    page.locator(f".st-key-stop-{run_id} button").click()
    wait_for_status(store, run_id, "stopped")
    page.locator(CHIPS, has_text="· stopped").first.wait_for(timeout=60_000)
    wait_for_app(page)
    # Nothing active: no stale entry. Waited for, not read at once: the chip seen stopped may be an earlier
    # test's run, and the rerun that shows this one stopped comes with the app's next poll.
    expect(sidebar.get_by_text("· running", exact=False)).to_have_count(0, timeout=30_000)
    resume = page.locator(f".st-key-resume-{run_id} button")
    assert resume.count() == 1  # on the run's own row, not only in the manage panel

    page.reload()  # the stopped run stays shown
    wait_for_app(page)
    page.locator(CHIPS, has_text="· stopped").first.wait_for(timeout=30_000)

    page.set_viewport_size({"width": 1024, "height": 900})
    wait_for_app(page)
    # The grid draws its headers on a canvas: the column order is checked in test_train_page.py
    # (test_the_runs_table_shows_its_errors_first); here the screenshot shows them in view.
    page.locator("[data-testid=stDataFrame]").first.scroll_into_view_if_needed()
    screenshot(page, "train-status-stopped-1024")

    page.locator(f".st-key-resume-{run_id} button").click()
    deadline = time.monotonic() + 60
    while store.get(run_id).status == "stopped":  # queued again, then running
        assert time.monotonic() < deadline, "Resume did not queue the run again"
        time.sleep(0.25)
    wait_for_app(page)
    page.locator(f".st-key-stop-{run_id} button").click()  # leave nothing training
    wait_for_status(store, run_id, "stopped")
