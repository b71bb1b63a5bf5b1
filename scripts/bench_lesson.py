"""How long each lesson step takes to show its evidence on first open, from the shipped reference bundle.
A measuring script for BENCHMARKS.md, not a test (the target: ≤ 3 s on a 2-core CPU).

    .venv/bin/python scripts/bench_lesson.py [--fresh-server] [--repeats 1]

Serves the real app (`streamlit run app.py`, as tests/conftest.py's `serve_app` does) on an empty runs folder,
so the evidence is the reference runs', and opens it once at Home (the server's own start-up and the app's
imports are not a step's cost). Then, for each step, a new browser context (nothing cached in the browser)
opens `/lesson?step=N&present=1` — the presentation view, which shows the evidence without waiting for an
answer — and the clock stops when the script has finished and every figure of the step is drawn. Each step
is the first open of that step on this server, so what an earlier step computed and kept (the dataset, a
loaded net) is reused, as when a class walks the lesson in order. With --fresh-server each step gets a server
of its own, started and opened at Home first: the cost of a step opened cold from a shared link.
With --learner, the learner's path instead: open `/lesson?step=N` (the question), choose the answer, and time
from the click on "Check my answer" until the evidence is drawn.
With --settle S, S seconds on that first page (Home) before the first measured open: a visitor reading it
while the server imports the other pages' libraries in the background (ui/warm.py).
With --warm-browser, one browser context for every step, as when a learner walks the lesson in one tab: the
app's JavaScript (Streamlit's and plotly.js, several MB) is in the browser's cache after the first step.
With --pages, every page's first open (no query: the page's informative default) instead of the steps.
With --locale zh-CN, a browser that asks for Chinese (the app opens in it: the Chinese words, fonts and plotly.js's
Chinese locale file).
With --navigate, the way a learner moves inside the app: one tab, and each step (or page) opened by clicking
its link — the previous step's "next" link, or the page's entry in the sidebar — which Streamlit answers
without reloading the page (the frontend and plotly.js are already running); timed from the click until the
figures are drawn. The first step (or Home) is opened as a new tab and not counted.
The browser runs on the same two cores as the server, so every time here includes its drawing too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from helpers import FIGURES_DRAWN  # noqa: E402

from conftest import CHROMIUM_FLAGS, _chromium_path, serve_app, wait_for_app  # noqa: E402
from resnet_core.data.datasets import load_dataset  # noqa: E402
from resnet_core.presentation import lesson  # noqa: E402
from resnet_core.studies.reference import DEFAULT_BUNDLE  # noqa: E402

# Done: the script ran and finished (its state is "notRunning" once a run has drawn something), the figures are
# drawn, and no widget is still a skeleton (its code loads on first use). Polled, with no fixed wait.
DONE = f"""(charts) => document.querySelector("[data-test-script-state='notRunning']") !== null
  && document.querySelector("[data-testid='stMain'] [data-testid='stHeading'], [data-testid='stMain'] h1") !== null
  && ({FIGURES_DRAWN})() >= charts
  && document.querySelectorAll('[data-testid=stSkeleton]').length === 0"""


def drawn(page, charts: int) -> None:
    """Wait until the script is done and `charts` figures have been drawn (plotly charts and inline drawings)."""
    page.wait_for_function(DONE, arg=charts, polling=50)
    assert page.locator("[data-testid='stException']").count() == 0


def expected_charts(number: int) -> int:
    return len(lesson.step(number).evidence)


VIEWPORT = {"width": 1400, "height": 1000}
# Every browser context's options: the viewport, and with --locale the browser's language (the app opens in it).
CONTEXT: dict = {"viewport": VIEWPORT}
# Each page's figures on first open from the reference bundle alone (its informative default).
PAGES = {
    "": 0,
    "architecture": 2,
    "train": 0,
    "degradation": 3,
    "gradients": 1,
    "responses": 1,
    "explain": 4,
    "why": 2,
    "lesson": 0,
}


@contextmanager
def tab(browser, context=None) -> Iterator:
    """A new page in `context` (kept) or in a new context of its own (nothing cached); closed after the block,
    with the context it made."""
    own = context is None
    if own:
        context = browser.new_context(**CONTEXT)
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        yield page
    finally:
        page.close()
        if own:
            context.close()


def time_open(browser, url: str, path: str, charts: int, context=None) -> float:
    """Seconds from `goto(url/path)` until its `charts` figures are drawn; in `context` (kept) or a new one."""
    with tab(browser, context) as page:
        start = time.perf_counter()
        page.goto(f"{url}/{path}")
        drawn(page, charts)
        return time.perf_counter() - start


# Counts the script's runs that ended (its state turning "notRunning"), so a click's own run can be told apart
# from the one before it.
COUNT_RUNS = """(() => { window.__runs = 0; let last = null;
  new MutationObserver(() => {
    const state = document.querySelector('[data-test-script-state]')?.getAttribute('data-test-script-state');
    if (state !== last && state === 'notRunning') window.__runs++;
    last = state;
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state'], childList: true});
})()"""


def time_click(page, link, charts: int) -> float:
    """Seconds from a click on `link` (answered without reloading the page) until its run ended and
    `charts` figures are drawn."""
    before = page.evaluate("window.__runs")
    start = time.perf_counter()
    link.click()
    page.wait_for_function(f"(charts) => window.__runs > {before} && ({DONE})(charts)", arg=charts, polling=50)
    assert page.locator("[data-testid='stException']").count() == 0
    return time.perf_counter() - start


def navigate(browser, url: str, targets: list, pages: bool, settle: float) -> dict:
    """Open the first target in a new tab, wait `settle` seconds (a learner reading it), then open each next
    one by its link; {target: seconds}."""
    context = browser.new_context(**CONTEXT)
    context.add_init_script(COUNT_RUNS)
    page = context.new_page()
    page.set_default_timeout(120_000)
    times = {}
    try:
        first = "" if pages else f"lesson?step={targets[0]}&present=1"
        page.goto(f"{url}/{first}")
        drawn(page, 0 if pages else expected_charts(targets[0]))
        time.sleep(settle)
        for target in targets[1:]:
            if pages:
                link = page.locator(f"[data-testid=stSidebarNav] a[href$='/{target}']")
                charts = PAGES[target]
            else:
                link = page.locator(
                    f"[data-testid=stMain] a[href*='step={target}&'], [data-testid=stMain] a[href$='step={target}']"
                ).first
                charts = expected_charts(target)
            times[target] = time_click(page, link, charts)
            print(f"{'page' if pages else 'step'} {target}: drawn {times[target]:.2f} s after the click", flush=True)
    finally:
        context.close()
    return times


def time_page(browser, url: str, name: str, context=None) -> float:
    return time_open(browser, url, name, PAGES[name], context)


def time_present(browser, url: str, number: int, context=None) -> float:
    return time_open(browser, url, f"lesson?step={number}&present=1", expected_charts(number), context)


def time_commit(browser, url: str, number: int, context=None) -> float | None:
    """From the click on "Check my answer" until the evidence is drawn; None for a step without a question."""
    step = lesson.step(number)
    if step.question is None:
        return None
    with tab(browser, context) as page:
        page.goto(f"{url}/lesson?step={number}")
        wait_for_app(page)
        page.get_by_text(step.question.choice(step.question.answer).label, exact=True).click()
        wait_for_app(page)
        start = time.perf_counter()
        page.get_by_role("button", name=lesson.UI["commit"]).click()
        drawn(page, expected_charts(number))
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fresh-server", action="store_true", help="a new server for each step")
    parser.add_argument("--learner", action="store_true", help="time the learner's path: the click to the evidence")
    parser.add_argument("--repeats", type=int, default=1, help="whole passes over the steps (median reported)")
    parser.add_argument(
        "--steps", default="", help="comma-separated step numbers, or page names with --pages (default: all)"
    )
    parser.add_argument("--warm-browser", action="store_true", help="one browser context (its cache) for all")
    parser.add_argument("--pages", action="store_true", help="every page's first open instead of the steps")
    parser.add_argument(
        "--settle", type=float, default=0.0, help="seconds on the first page before the clock starts (reading it)"
    )
    parser.add_argument("--navigate", action="store_true", help="open each by clicking its link in one tab")
    parser.add_argument("--locale", default="", help="the browser's language, e.g. zh-CN (the app speaks it)")
    args = parser.parse_args()
    if args.locale:
        CONTEXT["locale"] = args.locale
    steps: list = [int(n) for n in args.steps.split(",") if n and not args.pages] or list(
        range(1, lesson.step_count() + 1)
    )
    if args.pages:  # Home first (navigation starts there), then the named pages in their order, or all
        steps = [""] + ([n for n in args.steps.split(",") if n] or [n for n in PAGES if n])
    from playwright.sync_api import sync_playwright

    chromium = _chromium_path()
    if chromium is None:
        sys.exit("Debian's chromium is needed (apt-get install chromium)")
    if args.pages:
        measure = time_page
    else:
        measure = time_commit if args.learner else time_present
    results: dict = {}
    os.environ["RESNET_LAB_REFERENCE"] = str(DEFAULT_BUNDLE)  # conftest turns it off for tests
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")  # the bundle copied fresh, as on a new install
        data = Path(tmp) / "data"
        load_dataset("shapes", root=data)  # rendered once, as at install (make run)
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        for repeat in range(args.repeats if args.navigate else 0):
            with serve_app(Path(tmp) / f"runs-n{repeat}", data, Path(tmp) / f"n{repeat}") as url:
                for target, seconds in navigate(browser, url, steps, args.pages, args.settle).items():
                    results.setdefault(target, []).append(seconds)
        for repeat in range(0 if args.navigate else args.repeats):
            with ExitStack() as shared:
                url, tab = None, None
                for number in steps:
                    with ExitStack() as own:
                        if url is None:
                            stack = own if args.fresh_server else shared
                            name = f"{repeat}-{number}"
                            url = stack.enter_context(serve_app(Path(tmp) / f"runs-{name}", data, Path(tmp) / name))
                            if args.warm_browser:
                                tab = stack.enter_context(closing(browser.new_context(**CONTEXT)))
                            warm = tab.new_page() if tab else browser.new_page(**CONTEXT)
                            warm.goto(url)
                            wait_for_app(warm)
                            warm.close()
                            time.sleep(args.settle)
                        seconds = measure(browser, url, number, tab)
                        if args.fresh_server:
                            url = None
                    if seconds is not None:
                        results.setdefault(number, []).append(seconds)
                        print(
                            f"{'page' if args.pages else 'step'} {number or 'home'}: drawn in {seconds:.2f} s",
                            flush=True,
                        )
        browser.close()
    print("\nmedians (s):")
    for number, values in results.items():
        print(f"  {number or 'home'}: {statistics.median(values):.2f}  ({', '.join(f'{v:.2f}' for v in values)})")


if __name__ == "__main__":
    main()
