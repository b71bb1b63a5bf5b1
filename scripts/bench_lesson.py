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
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import CHROMIUM_FLAGS, _chromium_path, serve_app, wait_for_app  # noqa: E402
from resnet_core.data.datasets import load_dataset  # noqa: E402
from resnet_core.presentation import lesson  # noqa: E402
from resnet_core.studies.reference import DEFAULT_BUNDLE  # noqa: E402


def drawn(page, charts: int) -> None:
    """Wait until the script is done and `charts` plotly figures have been drawn."""
    wait_for_app(page)
    count = "document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot').length"
    page.wait_for_function(f"() => {count} >= {charts}")


def expected_charts(number: int) -> int:
    return len(lesson.step(number).evidence)


def time_present(browser, url: str, number: int) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        start = time.perf_counter()
        page.goto(f"{url}/lesson?step={number}&present=1")
        drawn(page, expected_charts(number))
        return time.perf_counter() - start
    finally:
        context.close()


def time_commit(browser, url: str, number: int) -> float | None:
    """From the click on "Check my answer" until the evidence is drawn; None for a step without a question."""
    step = lesson.step(number)
    if step.question is None:
        return None
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(f"{url}/lesson?step={number}")
        wait_for_app(page)
        page.get_by_text(step.question.choice(step.question.answer).label, exact=True).click()
        wait_for_app(page)
        start = time.perf_counter()
        page.get_by_role("button", name=lesson.UI["commit"]).click()
        drawn(page, expected_charts(number))
        return time.perf_counter() - start
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fresh-server", action="store_true", help="a new server for each step")
    parser.add_argument("--learner", action="store_true", help="time the learner's path: the click to the evidence")
    parser.add_argument("--repeats", type=int, default=1, help="whole passes over the steps (median reported)")
    parser.add_argument("--steps", default="", help="comma-separated step numbers (default: all)")
    args = parser.parse_args()
    steps = [int(n) for n in args.steps.split(",") if n] or list(range(1, lesson.step_count() + 1))
    from playwright.sync_api import sync_playwright

    chromium = _chromium_path()
    if chromium is None:
        sys.exit("Debian's chromium is needed (apt-get install chromium)")
    measure = time_commit if args.learner else time_present
    results: dict[int, list[float]] = {}
    os.environ["RESNET_LAB_REFERENCE"] = str(DEFAULT_BUNDLE)  # conftest turns it off for tests
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")  # the bundle copied fresh, as on a new install
        data = Path(tmp) / "data"
        load_dataset("shapes", root=data)  # rendered once, as at install (make run)
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        for repeat in range(args.repeats):
            with ExitStack() as shared:
                url = None
                for number in steps:
                    with ExitStack() as own:
                        if url is None:
                            stack = own if args.fresh_server else shared
                            name = f"{repeat}-{number}"
                            url = stack.enter_context(serve_app(Path(tmp) / f"runs-{name}", data, Path(tmp) / name))
                            warm = browser.new_page()
                            warm.goto(url)
                            wait_for_app(warm)
                            warm.close()
                        seconds = measure(browser, url, number)
                        if args.fresh_server:
                            url = None
                    if seconds is not None:
                        results.setdefault(number, []).append(seconds)
                        print(f"step {number}: evidence drawn in {seconds:.2f} s", flush=True)
        browser.close()
    print("\nmedians (s):")
    for number, values in results.items():
        print(f"  step {number}: {statistics.median(values):.2f}  ({', '.join(f'{v:.2f}' for v in values)})")


if __name__ == "__main__":
    main()
