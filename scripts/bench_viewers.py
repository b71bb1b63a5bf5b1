"""Ten viewers of one training run: how long the last Train tab takes to load, and how fast the run trains
with the tabs open compared with none. A measuring script for BENCHMARKS.md, not a test.

    .venv/bin/python scripts/bench_viewers.py [--tabs 10] [--repeats 3] [--seconds 30]

Each repeat serves the real app (`streamlit run app.py`, as tests/conftest.py's `serve_app` does) on a fresh
runs folder with one queued ResNet-8 run on 5,000 embedded images, which the server's runner starts. Then:
1. no tabs: one tab starts the runner and closes; after a warm-up, the run's training speed over `--seconds`;
2. `--tabs` tabs on /train?runs=ID (one chromium, Debian's, headless), opened one after another, each timed
   from navigation until its two live charts are drawn; then the training speed over `--seconds` with all of
   them open and polling;
3. the tabs closed, the training speed again: the ratio compares 2 with the mean of 1 and 3, so a change in
   the machine's load during the repeat does not count as the tabs' cost.
With `--window` the tabs are real browser tabs in one window, as a person has them: a headful chromium (run
the script under `xvfb-run -a` on a machine without a display) started with the tabs' URLs, so the first is
in front and the others are in the background (`document.visibilityState` "hidden"); the first tab is timed
until its charts are drawn, through the browser's DevTools port. Without it, every tab is a page of one
headless browser, and a headless browser shows every page at once (each is "visible" and draws).
Training speed: the run's own images/s (the median of its "step" rows in the window: training steps only)
and its progress (steps × batch / wall time, which also counts the per-epoch test pass). Medians over
repeats are printed at the end, with every repeat's numbers. The browser runs on the same machine, so its
rendering competes with the server and the worker for the same cores — as for a user on a laptop.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import resnet_core as rc  # noqa: E402
from conftest import CHROMIUM_FLAGS, serve_app  # noqa: E402
from resnet_core.store.run_store import RunStore  # noqa: E402
from resnet_core.store.status import ACTIVE  # noqa: E402

BATCH = 128


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server_port: str, worker_pid: int | None) -> dict[str, float]:
    """CPU seconds used so far (user + system, Linux /proc) by the server, the training worker, chromium's
    processes, and the whole machine — so a window's cost can be split between them."""
    out = {"server": 0.0, "worker": 0.0, "browser": 0.0}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
        if worker_pid is not None and int(proc.name) == worker_pid:
            out["worker"] += used
        elif any(b"streamlit" in a for a in argv) and server_port.encode() in argv:
            out["server"] += used
        elif argv and b"chrom" in argv[0]:
            out["browser"] += used
    busy = Path("/proc/stat").read_text().split("\n")[0].split()[1:]
    out["machine"] = (sum(int(v) for v in busy) - int(busy[3]) - int(busy[4])) / TICK  # all but idle, iowait
    return out


def speed(store: RunStore, run_id: str, seconds: float, port: str = "") -> dict:
    """The run's training speed over the next `seconds`, and the share of the two cores each part used."""
    start, t0 = store.get(run_id).progress.get("step", 0), time.monotonic()
    cpu0 = cpu_seconds(port, store.get(run_id).pid)
    time.sleep(seconds)
    run = store.get(run_id)
    elapsed = time.monotonic() - t0
    cpu1 = cpu_seconds(port, run.pid)
    end = run.progress.get("step", 0)
    rows = store.steps(run_id, since_step=start)
    rates = [r for s, r in zip(rows["step"], rows["images_per_second"]) if s <= end]
    return {
        "steps_images_per_s": round(statistics.median(rates), 1) if rates else None,
        "progress_images_per_s": round((end - start) * BATCH / elapsed, 1),
        "status": run.status,
        # cores in use on average (2.0 = both cores busy all the time)
        "cores": {k: round((cpu1[k] - cpu0[k]) / elapsed, 2) for k in cpu0},
    }


def load_tab(context, url: str, limit: float) -> tuple[object, float | None]:
    """A new tab on `url` and the seconds until its two live charts are drawn (None: not within `limit`)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = context.new_page()
    page.set_default_timeout(limit * 1000)
    t0 = time.monotonic()
    try:
        page.goto(url)
        page.wait_for_function("() => document.querySelectorAll('.resnet-lab-chart .main-svg').length >= 2")
    except PlaywrightTimeout:
        return page, None
    return page, time.monotonic() - t0


class WindowOfTabs:
    """`tabs` tabs of `url` in one window of a headful chromium (Debian's, on the X display in $DISPLAY): the
    first in front, the rest in the background. Driven through its DevTools port, not Playwright, which
    keeps every page it drives "visible"."""

    def __init__(self, url: str, tabs: int) -> None:
        import socket
        import subprocess

        if not os.environ.get("DISPLAY"):
            raise SystemExit("--window needs an X display: run the script under `xvfb-run -a`")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.profile = tempfile.mkdtemp(prefix="bench-viewers-chromium-")
        self.proc = subprocess.Popen(
            [
                shutil.which("chromium"),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.profile}",
                f"--remote-debugging-port={self.port}",
                "--window-size=1400,1000",
                *([url] * tabs),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def pages(self) -> list[dict]:
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json", timeout=10) as reply:
            return [t for t in json.load(reply) if t["type"] == "page"]

    @staticmethod
    def evaluate(page: dict, expression: str):
        from websockets.sync.client import connect

        with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10) as ws:
            ws.send(json.dumps({"id": 1, "method": "Runtime.evaluate", "params": {"expression": expression}}))
            return json.loads(ws.recv(timeout=10))["result"]["result"].get("value")

    def wait_loaded(self, limit: float) -> float | None:
        """Seconds until the tab in front has drawn its two charts (None: not within `limit`)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit:
            try:
                for page in self.pages():
                    if (
                        self.evaluate(page, "document.visibilityState") == "visible"
                        and self.evaluate(page, "document.querySelectorAll('.resnet-lab-chart .main-svg').length") >= 2
                    ):
                        return time.monotonic() - t0
            except OSError:  # the DevTools port not open yet
                pass
            time.sleep(0.5)
        return None

    def visibility(self) -> list[str]:
        return [self.evaluate(page, "document.visibilityState") for page in self.pages()]

    def close(self) -> None:
        """Idempotent: the repeat closes it before its last window, and again on the way out."""
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.profile, ignore_errors=True)


def one_repeat(
    browser, data: Path, tabs: int, seconds: float, limit: float, log, frozen: bool = False, window: bool = False
) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-viewers-"))
    tabs_window = None
    try:
        store = RunStore(work / "runs")
        config = {
            "epochs": 500,
            "batch_size": BATCH,
            "lr": 0.02,
            "train_size": 5000,
            "test_size": 1000,
            "data_dir": str(data),
            "device": "cpu",
        }
        run_id = store.create(rc.NetSpec(depth=8), config, dataset="shapes", name="bench viewers")
        with serve_app(work / "runs", data, work / "streamlit.log") as url:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(180_000)
            page.goto(f"{url}/train?runs={run_id}")  # the first request starts the server's runner
            deadline = time.monotonic() + 300
            while store.get(run_id).progress.get("step", 0) < 40:  # past start-up and the first epoch
                assert time.monotonic() < deadline and store.get(run_id).status in ACTIVE
                time.sleep(1)
            page.close()
            time.sleep(10)  # warm: nothing polls
            port = url.rsplit(":", 1)[1]
            alone = speed(store, run_id, seconds, port)
            log(f"  no tabs: {alone}")
            pages, loads = [], []
            if window:
                tabs_window = WindowOfTabs(f"{url}/train?runs={run_id}", tabs)
                loaded = tabs_window.wait_loaded(limit)
                loads.append(None if loaded is None else round(loaded, 2))
                time.sleep(30)  # the tabs behind it load too (seconds of CPU): not counted as polling
                log(
                    f"  {tabs} tabs in one window, the front one loaded in {loaded} s; visibility: "
                    f"{tabs_window.visibility()}"
                )
            for i in range(0 if window else tabs):
                page, seconds_to_load = load_tab(context, f"{url}/train?runs={run_id}", limit)
                pages.append(page)
                loads.append(None if seconds_to_load is None else round(seconds_to_load, 2))
                log(
                    f"  tab {i + 1}: "
                    + (
                        f"loaded in {seconds_to_load:.1f} s"
                        if seconds_to_load is not None
                        else f"not loaded within {limit:.0f} s"
                    )
                )
            time.sleep(5)
            if frozen:  # the polling's own cost: the run stays "running", its worker paused
                worker = store.get(run_id).pid
                os.kill(worker, signal.SIGSTOP)
                try:
                    watched = speed(store, run_id, seconds, port)
                finally:
                    os.kill(worker, signal.SIGCONT)
            else:
                watched = speed(store, run_id, seconds, port)
            log(f"  {tabs} tabs: {watched}")
            context.close()
            if window:
                tabs_window.close()
            time.sleep(10)
            after = speed(store, run_id, seconds, port)  # again with no tabs: the machine's drift, bracketed
            log(f"  no tabs again: {after}")
        return {
            "tab_load_seconds": loads,
            "alone": alone,
            "watched": watched,
            "alone_after": after,
            "load_average": os.getloadavg(),
        }
    finally:
        if tabs_window is not None:
            tabs_window.close()
        pid = RunStore(work / "runs").get(run_id).pid  # the server is gone; its worker is not
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)  # it ends `interrupted`
                time.sleep(3)
            except ProcessLookupError:
                pass
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tabs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--limit", type=float, default=300.0, help="give up on a tab after this many seconds")
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "resnet-lab-bench-data"))
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument(
        "--frozen",
        action="store_true",
        help="pause the worker (SIGSTOP) while the tabs are watched: what the polling alone costs "
        "the server and the browser, in cores, without training competing for them",
    )
    parser.add_argument(
        "--window",
        action="store_true",
        help="the tabs in one window of a headful chromium (run under `xvfb-run -a`): one in front, "
        "the others in the background, as a person has them",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    data = Path(args.data_dir)
    rc.load_dataset("shapes", root=data)  # render the embedded dataset once, before any timing
    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_FLAGS)
        for r in range(args.repeats):
            print(f"repeat {r + 1}/{args.repeats}", flush=True)
            results.append(
                one_repeat(
                    browser,
                    data,
                    args.tabs,
                    args.seconds,
                    args.limit,
                    lambda s: print(s, flush=True),
                    args.frozen,
                    args.window,
                )
            )
        browser.close()
    last = [r["tab_load_seconds"][-1] or float("inf") for r in results]
    # Watched against the mean of the tab-less windows before and after it (the load of a shared machine drifts).
    ratio = [
        (r["watched"]["steps_images_per_s"] or 0.0)
        / statistics.mean([r["alone"]["steps_images_per_s"], r["alone_after"]["steps_images_per_s"]])
        for r in results
    ]
    progress = [
        r["watched"]["progress_images_per_s"]
        / statistics.mean([r["alone"]["progress_images_per_s"], r["alone_after"]["progress_images_per_s"]])
        for r in results
    ]
    summary = {
        "tabs": args.tabs,
        "window": args.window,
        "repeats": args.repeats,
        "last_tab_load_s_median": statistics.median(last),
        "images_per_s_ratio_median": round(statistics.median(ratio), 3),
        "progress_ratio_median": round(statistics.median(progress), 3),
        "cpus": os.cpu_count(),
        "results": results,
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
