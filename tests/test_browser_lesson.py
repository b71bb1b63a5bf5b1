"""The lesson in a real browser: every step's link opened cold shows the question, and after the learner
commits to an answer, the verdict on it, the step's figures and their verdicts; previous / next links walk
the steps; `present=1` shows the evidence at once without controls; Home leads into the lesson."""

import pytest
from helpers import CHART_DRAWN, FIGURES_DRAWN
from playwright.sync_api import expect

from conftest import browser_page, screenshot, wait_for_app
from resnet_core.presentation import lesson
from resnet_core.presentation.i18n import _, set_language

pytestmark = pytest.mark.browser


@pytest.fixture
def app_url(reference_app_url):
    """The session's server with no runs of the user's and the shipped reference runs on (conftest.py),
    shared with the Chinese pages' test."""
    return reference_app_url


CHARTS = f"{CHART_DRAWN}, .drawing svg"  # Playwright's CSS reaches shadow roots
ALERTS = "[data-testid='stAlert']"


@pytest.mark.parametrize("number", range(1, lesson.step_count() + 1))
def test_every_step_link_opened_cold_asks_first_then_shows_figure_and_verdict(browser, app_url, number):
    step = lesson.step(number)
    with browser_page(browser, 90_000) as page:
        page.goto(f"{app_url}/lesson?step={number}")
        wait_for_app(page)
        assert page.get_by_role("heading", name=step.title).is_visible()
        if step.question is not None:
            assert page.locator(CHARTS).count() == 0  # predict first: no evidence yet
            commit = page.get_by_role("button", name=lesson.UI["commit"])
            expect(commit).to_be_disabled()
            wrong = next(c for c in step.question.choices if c.value != step.question.answer)
            page.get_by_text(wrong.label, exact=True).click()
            wait_for_app(page)
            expect(commit).to_be_enabled()
            commit.click()
            wait_for_app(page)
            expect(page.locator(ALERTS).filter(has_text="Not what the paper found")).to_be_visible()
        # a view may add a companion figure
        page.wait_for_function(f"n => ({FIGURES_DRAWN})() >= n", arg=len(step.evidence), timeout=90_000)
        alerts = page.locator(ALERTS).all_inner_texts()
        judged = 1 if step.question is not None else 0
        assert len(alerts) > judged, alerts  # the views' own verdicts, beside the judgement of the answer
        assert page.get_by_text(
            lesson.UI["open_in_tool"].format(label=step.evidence[0].tool.label), exact=True
        ).is_visible()
        screenshot(page, f"lesson-step-{number}")


def test_next_and_previous_links_walk_the_steps_and_keep_the_language(page, app_url):
    set_language("zh")  # the words the page shows, in Chinese: ?lang=zh
    try:
        nxt, prev = lesson.UI["next"], lesson.UI["previous"]
        titles = {n: _(lesson.step(n).title) for n in (1, 2)}
    finally:
        set_language("en")
    page.goto(f"{app_url}/lesson?step=1&lang=zh")
    wait_for_app(page)
    page.get_by_text(nxt.format(title=titles[2])).click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name=titles[2])).to_be_visible()
    page.wait_for_url("**/lesson?*step=2*", timeout=10_000)
    assert "lang=zh" in page.url
    page.get_by_text(prev.format(title=titles[1])).click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name=titles[1])).to_be_visible()
    page.wait_for_url("**/lesson?*step=1*", timeout=10_000)


def test_presenting_shows_claim_figure_and_verdict_without_controls(page, app_url):
    page.goto(f"{app_url}/lesson?step=8&present=1")
    wait_for_app(page)
    expect(page.locator(CHARTS)).to_have_count(1, timeout=90_000)
    assert page.get_by_text(lesson.step(8).claim).is_visible()
    assert page.get_by_role("button", name=lesson.UI["commit"]).count() == 0
    assert page.locator("[data-testid=stMain]").get_by_role("radiogroup").count() == 0  # the sidebar: the language
    assert page.locator(ALERTS).count() >= 2  # "ask the room", and the view's verdict
    screenshot(page, "lesson-step-8-present")


def test_home_leads_into_the_lesson(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_text("Start the lesson").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name=lesson.step(1).title)).to_be_visible()
    assert "/lesson" in page.url
