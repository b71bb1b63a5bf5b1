"""How long each page takes to answer a control change, with one training run using the CPU and with none
(the goal: ≤ 3 s at depth 56 on a 2-core CPU; see BENCHMARKS.md, 'Control latency with one training run').
A measuring script for BENCHMARKS.md, not a test.

    .venv/bin/python scripts/bench_controls.py [--training] [--idle] [--pages architecture,gradients,...]

Each condition serves the real app (`streamlit run app.py`, as tests/conftest.py's `serve_app` does) on a fresh
runs folder, with the reference runs it ships (assets/reference/) and a cache folder of its own, so nothing is
computed before the first visit. With `--training`, one ResNet-20 run on the embedded shapes data (5,000
images, many epochs) is queued in the store before the server starts; the server's runner starts it as a real
worker (at the worker's niceness, as for a user) on the first request, and the measurement begins once it has
trained 20 steps. With `--idle`, no run. (Give both to measure both, one after the other.)

On each page (Debian's chromium, headless, one tab, 1400 × 1000) the script changes one control at a time and
times from the change until the page's script has run (Streamlit's `data-test-script-state` went to running
and back to `notRunning`), the content the change affects differs from before (charts, captions, metrics,
headings — not the widget's own label), and no element is still a skeleton. Every change asks for something
not yet shown in this server (a new depth, batch size, image, method, epoch …), so caches of earlier changes
do not hide the work, except where noted ("cached"). The first visit to Architecture at depth 1202 is timed from
navigation to the drawn page. The browser runs on the same machine, as for a user on a laptop.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import resnet_core as rc  # noqa: E402
from conftest import CHROMIUM_FLAGS, serve_app  # noqa: E402
from resnet_core.store.run_store import RunStore  # noqa: E402
from resnet_core.store.status import ACTIVE  # noqa: E402
from resnet_core.studies.reference import DEFAULT_BUNDLE  # noqa: E402

# What a change may alter, per page: charts (their text and images), captions, metrics, headings, alerts.
CONTENT = (
    "[data-testid=stMain] .resnet-lab-chart, [data-testid=stMain] [data-testid=stCaptionContainer], "
    "[data-testid=stMain] [data-testid=stMetricValue], [data-testid=stMain] h3, "
    "[data-testid=stMain] [data-testid=stAlertContainer]"
)
SIGNATURE = """(sel) => [...document.querySelectorAll(sel)].map(e => e.textContent + '|' +
    [...e.querySelectorAll('image')].map(i => {
        const h = i.getAttribute('href') || ''; return h.length + h.slice(-80); }).join(',')).join('\\n')"""
WATCH = """() => {
    const el = document.querySelector('[data-test-script-state]');
    window.__ran = false;
    if (window.__watch) window.__watch.disconnect();
    window.__watch = new MutationObserver(() => { window.__ran = true; });
    window.__watch.observe(el, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
DONE = f"""([sel, before]) => {{
    const el = document.querySelector('[data-test-script-state]');
    if (!window.__ran || el.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelectorAll('[data-testid=stSkeleton]').length) return false;
    return ({SIGNATURE})(sel) !== before;
}}"""


def settle(page) -> None:
    """Until the script is not running and no widget is a skeleton (conftest.wait_for_app, without its assert)."""
    page.wait_for_selector("[data-test-script-state='notRunning']", state="attached")
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-test-script-state='notRunning']", state="attached")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stSkeleton]').length === 0")


def timed(page, action: Callable[[], None], limit: float) -> float | None:
    """Seconds from `action` (a control change) until the page has answered it (None: not within `limit`)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    before = page.evaluate(SIGNATURE, CONTENT)
    page.evaluate(WATCH)
    t0 = time.monotonic()
    try:
        action()
    except PlaywrightTimeout:  # the control was not found: say so in the table, go on
        return None
    try:
        page.wait_for_function(DONE, arg=[CONTENT, before], timeout=limit * 1000, polling=50)
    except PlaywrightTimeout:
        return None
    seconds = time.monotonic() - t0
    settle(page)  # a rerun that another part of the page started meanwhile
    return seconds


def main_area(page):
    return page.locator("[data-testid='stMain']")


def pick(page, label: str, option: str | int) -> Callable[[], None]:
    """An action: choose `option` (its text, or its position) in the selectbox labelled `label`."""

    def act() -> None:
        main_area(page).get_by_test_id("stSelectbox").filter(has_text=label).first.click()
        options = page.get_by_role("option")
        (options.nth(option) if isinstance(option, int) else options.filter(has_text=option).first).click()

    return act


def key(page, label: str, keys: str) -> Callable[[], None]:
    """An action: press `keys` on the slider labelled `label` (one press: one step along its values)."""

    def act() -> None:
        slider = main_area(page).get_by_test_id("stSlider").filter(has_text=label).first.get_by_role("slider")
        slider.focus()
        slider.press(keys)

    return act


def click_text(page, container: str, label: str, text: str) -> Callable[[], None]:
    def act() -> None:
        main_area(page).get_by_test_id(container).filter(has_text=label).first.get_by_text(text, exact=True).click()

    return act


def click_label(page, text: str) -> Callable[[], None]:
    """An action: click the toggle (or other control) whose label is `text`."""
    return lambda: main_area(page).get_by_text(text, exact=True).first.click()


def choose_method(page, method: str) -> Callable[[], None]:
    def act() -> None:
        box = main_area(page).get_by_test_id("stMultiSelect").filter(has_text="Methods").first
        box.get_by_role("combobox").click()
        page.keyboard.type(method)
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")

    return act


def visit(page, url: str, limit: float) -> float | None:
    """Seconds from navigation to a drawn page (its script done, at least one chart drawn)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.set_default_timeout(limit * 1000)
    t0 = time.monotonic()
    try:
        page.goto(url)
        page.wait_for_selector("[data-testid='stApp']", timeout=limit * 1000)
        page.wait_for_function(
            "() => document.querySelectorAll('.resnet-lab-chart .main-svg').length > 0", timeout=limit * 1000
        )
        settle(page)
    except PlaywrightTimeout:
        return None
    finally:
        page.set_default_timeout(120_000)
    return time.monotonic() - t0


def scenarios(page, url: str) -> list[tuple[str, str, Callable[[], float | None] | None, list]]:
    """(page, control, what to do first (untimed, or timed as a visit: returns its seconds), [actions])."""

    def go(path: str, then: Callable[[], None] | None = None, long: float = 300) -> Callable[[], None]:
        def setup() -> None:
            page.set_default_timeout(long * 1000)
            page.goto(f"{url}{path}")
            settle(page)
            if then is not None:
                then()
                settle(page)
            page.set_default_timeout(120_000)

        return setup

    def to_resnet56() -> None:
        pick(page, "Model", "ResNet-56")()
        page.wait_for_timeout(500)
        settle(page)

    return [
        ("Architecture", "first visit at depth 1202", lambda: visit(page, f"{url}/architecture?depth=1202", 180), []),
        ("Architecture", "depth 1202 → 1196 → …", None, [key(page, "Depth", "ArrowLeft")] * 3),
        ("Architecture", "depth 56 → 62 → …", go("/architecture?depth=56"), [key(page, "Depth", "ArrowRight")] * 4),
        (
            "Architecture",
            "shortcut, skip, pre-activation at depth 56",
            go("/architecture?depth=56"),
            [
                pick(page, "Shortcut", "B ·"),
                pick(page, "Shortcut", "C ·"),
                click_label(page, "Skip connections"),
                click_label(page, "Pre-activation"),
            ],
        ),
        (
            "Gradients",
            "batch size at depth 56",
            go("/gradients"),
            [
                pick(page, "Batch size", "32"),
                pick(page, "Batch size", "16"),
                pick(page, "Batch size", "128"),
                pick(page, "Activation", "tanh"),
            ],
        ),
        ("Gradients", "depth 56 → 62 → …", go("/gradients"), [key(page, "Depth", "ArrowRight")] * 3),
        (
            "Gradients",
            "batch size at depth 110",
            go(
                "/gradients",
                lambda: [key(page, "Depth", "ArrowRight")() or page.wait_for_timeout(150) for _ in range(9)],
            ),
            [pick(page, "Batch size", "32"), pick(page, "Batch size", "16"), pick(page, "Batch size", "128")],
        ),
        (
            "Explain",
            "test image, ResNet-56 + plain-56",
            go("/explain", to_resnet56),
            [pick(page, "Test image", i) for i in (1, 2, 3, 4)],
        ),
        (
            "Explain",
            "add a method, ResNet-56 + plain-56",
            None,
            [choose_method(page, m) for m in ("SmoothGrad", "Occlusion")],
        ),
        ("Responses", "epoch 14 → 13 → …", go("/responses"), [key(page, "Epoch", "ArrowLeft")] * 4),
        ("Why it works", "first visit (lesion study of the 20-layer pair)", lambda: visit(page, f"{url}/why", 400), []),
        (
            "Why it works",
            "toy depth 50 → 20 → …",
            lambda: page.get_by_role("tab", name="Shattered gradients").click() or page.wait_for_timeout(500),
            [key(page, "Depth (layers or blocks)", "ArrowLeft")] * 3,
        ),
        (
            "Why it works",
            "trained / initial weights (cached)",
            None,
            [
                click_text(page, "stRadio", "Weights", "at initialisation"),
                click_text(page, "stRadio", "Weights", "trained"),
            ],
        ),
    ]


def measure(browser, data: Path, training: bool, only: set[str] | None, limit: float, log) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-controls-"))
    os.environ["RESNET_LAB_REFERENCE"] = str(DEFAULT_BUNDLE)  # conftest turns them off for the tests
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")  # the bundle copied afresh, as on a new install
    store = RunStore(work / "runs")
    run_id = None
    if training:
        config = {
            "epochs": 500,
            "batch_size": 128,
            "lr": 0.1,
            "train_size": 5000,
            "test_size": 1000,
            "data_dir": str(data),
            "device": "cpu",
        }
        run_id = store.create(rc.NetSpec(depth=20), config, dataset="shapes", name="bench controls")
    rows = []
    try:
        with serve_app(work / "runs", data, work / "streamlit.log") as url:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(120_000)
            page.goto(f"{url}/home")  # the first request starts the server's runner
            settle(page)
            if run_id is not None:
                deadline = time.monotonic() + 300
                while store.get(run_id).progress.get("step", 0) < 20:
                    assert time.monotonic() < deadline and store.get(run_id).status in ACTIVE
                    time.sleep(1)
                log(f"  training: run {run_id} at step {store.get(run_id).progress.get('step')}")
            for name, control, setup, actions in scenarios(page, url):
                if only and name.lower().split()[0] not in only:
                    continue
                first = setup() if setup is not None else None
                seconds = [first] if isinstance(first, float) or (setup is not None and not actions) else []
                for action in actions:
                    seconds.append(timed(page, action, limit))
                shown = [None if s is None else round(s, 2) for s in seconds]
                done = [s for s in seconds if s is not None]
                row = {
                    "page": name,
                    "control": control,
                    "seconds": shown,
                    "median": round(statistics.median(done), 2) if done else None,
                    "load_average": [round(v, 2) for v in os.getloadavg()],
                }
                if run_id is not None:
                    row["run_status"] = store.get(run_id).status
                rows.append(row)
                log(f"  {name} · {control}: {shown} (median {row['median']}; load {row['load_average'][0]})")
                log("  row: " + json.dumps(row))  # kept in the log should a later page not finish
            context.close()
        result = {"training": training, "rows": rows}
        if run_id is not None:
            run = store.get(run_id)
            result["run"] = {"status": run.status, "step": run.progress.get("step")}
        return result
    finally:
        if run_id is not None:
            pid = RunStore(work / "runs").get(run_id).pid  # serve_app ends its server's workers; in case not
            if pid:
                try:
                    os.kill(pid, signal.SIGTERM)
                    time.sleep(3)
                except ProcessLookupError:
                    pass
        shutil.rmtree(work, ignore_errors=True)


def table(results: list[dict]) -> str:
    by_condition = {r["training"]: {(row["page"], row["control"]): row for row in r["rows"]} for r in results}
    keys = list(dict.fromkeys(k for r in results for k in ((row["page"], row["control"]) for row in r["rows"])))
    lines = ["| page | control | one training run: median (each), s | idle: median (each), s |", "|---|---|---:|---:|"]
    for k in keys:
        cells = []
        for condition in (True, False):
            row = by_condition.get(condition, {}).get(k)
            cells.append(
                "—"
                if row is None
                else f"{row['median']} ({', '.join('–' if s is None else str(s) for s in row['seconds'])})"
            )
        lines.append(f"| {k[0]} | {k[1]} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--training", action="store_true", help="measure with one training run going")
    parser.add_argument("--idle", action="store_true", help="measure with no run")
    parser.add_argument("--pages", default="", help="comma-separated first words of page names (default: all)")
    parser.add_argument("--limit", type=float, default=90.0, help="give up on a change after this many seconds")
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "resnet-lab-bench-data"))
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    conditions = [c for c, on in ((True, args.training), (False, args.idle)) if on] or [True, False]
    only = {p.strip().lower() for p in args.pages.split(",") if p.strip()} or None
    from playwright.sync_api import sync_playwright

    data = Path(args.data_dir)
    rc.load_dataset("shapes", root=data)  # render the embedded dataset once, before any timing
    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_FLAGS)
        for training in conditions:
            print("one training run" if training else "idle", flush=True)
            results.append(measure(browser, data, training, only, args.limit, lambda s: print(s, flush=True)))
        browser.close()
    print(table(results))
    summary = {"cpus": os.cpu_count(), "torch_threads": __import__("torch").get_num_threads(), "results": results}
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
