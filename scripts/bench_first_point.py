"""Time from pressing Train (the page's defaults: ResNet-20 on 5,000 embedded images, the
CPU recipe) to the first training point in the browser's chart. A measuring script for BENCHMARKS.md, not a
test (tests/test_browser_train.py checks that the points come): the times are printed and written to
test-artifacts/first-point.json.

    .venv/bin/python scripts/bench_first_point.py
 Its own
server, runs folder and data folder: the first press is a fresh install's (the embedded dataset is rendered
then), the second one reads the rendered images from their cache. Each run is stopped and deleted before the
next press, so the chart shows one run. Third: a new server on the same (now rendered) data folder, pressed at
once — a fresh install through `make run`, which renders the dataset when it installs. Also recorded: whether
the run trained in the server's standby worker (jobs.JobRunner: a worker process started before the click,
torch already imported) or in one started for it, and the load average before each press (the machine is
shared)."""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import CHROMIUM_FLAGS, _chromium_path, screenshot, serve_app, wait_for_app  # noqa: E402
from resnet_core.store.run_store import RunStore, process_start  # noqa: E402

# The chart's data as plotly.js holds it once drawn (`gd._fullData`: `gd.data` keeps Streamlit's base64
# arrays), not its drawing: a single point of a line trace draws nothing.
TRAIN_POINTS = """(least) => [...document.querySelectorAll('.js-plotly-plot')].some(gd => (gd._fullData || []).some(
    t => (t.name || '').endsWith(' train') && t.x && t.x.length >= least))"""


def press_train(page, url: str) -> float:
    """Open the Train page with its defaults and press Train; the monotonic time of the click."""
    page.goto(f"{url}/train")
    wait_for_app(page)
    form = page.locator("[data-testid='stExpander']", has_text="Start a run")
    if not form.get_by_text("Training images", exact=True).is_visible():
        form.locator("summary").first.click()  # collapsed once runs exist
    button = page.get_by_role("button", name="Train", exact=True)
    button.wait_for()
    clicked = time.monotonic()
    button.click()
    return clicked


def seconds_since_boot() -> float:
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


class StoreWatch(threading.Thread):
    """When, after the click, the store first showed: the run (queued), its worker at work (the worker has
    imported torch and written the device), its first step; and whether its worker process started before
    the click (the standby worker)."""

    def __init__(self, runs, clicked: float) -> None:
        super().__init__(daemon=True)
        self.store, self.clicked = RunStore(runs), clicked
        self.clicked_since_boot = seconds_since_boot() - (time.monotonic() - clicked)
        self.marks: dict[str, float] = {}
        self.worker: str | None = None
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set() and len(self.marks) < 3:
            new = self.store.list()
            now = time.monotonic() - self.clicked
            if new:
                self.marks.setdefault("run stored", now)
                if new[0].device is not None:
                    self.marks.setdefault("worker started", now)
                # Once the worker wrote its device it has set its own pid (a claimed run has the server's).
                if new[0].device is not None and new[0].pid is not None and self.worker is None:
                    started = process_start(new[0].pid)  # clock ticks since boot
                    if started is not None:
                        before = started / os.sysconf("SC_CLK_TCK") < self.clicked_since_boot
                        self.worker = "standby (started before the click)" if before else "started for the run"
                if len(self.store.steps(new[0].id)["step"]):
                    self.marks.setdefault("first step stored", now)
            time.sleep(0.05)


def measure_press(page, url: str, runs, press: str) -> dict:
    """Press Train, time the first point, then stop and delete the run (the next chart shows its run alone)."""
    load = os.getloadavg()
    clicked = press_train(page, url)
    watch = StoreWatch(runs, clicked)
    watch.start()
    page.wait_for_function(TRAIN_POINTS, arg=1, polling=50, timeout=180_000)
    first = time.monotonic() - clicked
    page.wait_for_function(TRAIN_POINTS, arg=2, polling=50, timeout=180_000)
    line = time.monotonic() - clicked
    watch.done.set()
    watch.join()
    times = {
        **{k: round(v, 2) for k, v in watch.marks.items()},
        "first point in the chart": round(first, 2),
        "a visible line": round(line, 2),
        "worker": watch.worker,
        "load average": [round(x, 2) for x in load],
    }
    print(f"\n{press}, seconds after the click: " + ", ".join(f"{k} {v}" for k, v in times.items()))
    if press == "fresh install":
        screenshot(page, "train-first-point")
    store = RunStore(runs)
    (run,) = store.list()
    store.request_stop(run.id)
    deadline = time.monotonic() + 60
    while store.get(run.id).status == "running":
        assert time.monotonic() < deadline, "the run did not stop"
        time.sleep(0.2)
    assert store.get(run.id).status == "stopped", store.get(run.id).error
    store.delete(run.id)
    return times


def measure(browser, tmp_path: Path) -> dict:
    runs, data = tmp_path / "runs", tmp_path / "data"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    times = {}
    try:
        with serve_app(runs, data, tmp_path / "streamlit.log") as url:
            for press in ("fresh install", "second run"):
                times[press] = measure_press(page, url, runs, press)
        # A fresh server whose data folder is ready — `make run` renders the embedded dataset when it installs —
        # pressed at once: the standby worker may still be importing torch.
        with serve_app(tmp_path / "runs-2", data, tmp_path / "streamlit-2.log") as url:
            press = "fresh server, dataset rendered at install"
            times[press] = measure_press(page, url, tmp_path / "runs-2", press)
    finally:
        context.close()
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    times["commit"] = commit.stdout.strip() or None
    (artifacts / "first-point.json").write_text(json.dumps(times, indent=2))
    return times


def main() -> None:
    from playwright.sync_api import sync_playwright

    chromium = _chromium_path()
    if chromium is None:
        sys.exit("Debian's chromium is needed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        try:
            measure(browser, Path(tmp))
        finally:
            browser.close()


if __name__ == "__main__":
    main()
