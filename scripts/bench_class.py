"""A class on one server (issue 25): thirty people logged in at once while runs train. Each page's load time,
the training speed with the sessions open against the speed with none, and the memory of the server per
session and of each training worker. A measuring script for BENCHMARKS.md, not a test.

    .venv/bin/python scripts/bench_class.py [--sessions 30] [--seconds 40]

It serves the real app in class mode (`streamlit run app.py` with a secrets file whose [auth] is a real OIDC
provider, oidc-provider-mock, started here with one person per session) on a fresh runs folder holding two
queued ResNet-8 runs of two students (5,000 embedded images, 500 epochs: they train throughout), which the
server's runner starts on its two slots. Then:
0. one session opens every page once (the server's first imports of each page's libraries, timed apart);
1. no sessions: the runs' training speed over `--seconds` (images per second from the steps they stored);
2. `--sessions` browser contexts (Debian's chromium, headless) log in one after another, each as its own
   person through the provider's page; each then opens one page — the pages in turn, the Train page showing
   a training run for every second session — timed from navigation until the script has finished
   (ui `wait_for_app`), and stays open (the Train pages keep polling their live view);
3. with all of them open: the training speed again, the server's resident memory, the workers';
4. all closed: the training speed once more. The ratio compares 3 with the mean of 1 and 4.
Memory per session: (server RSS with the sessions open − before they opened) / sessions. The browser runs on
the same machine (its CPU time is reported apart), as thirty students' browsers would not.
"""

from __future__ import annotations

import argparse
import json
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "scripts")]

from bench_viewers import cpu_seconds  # noqa: E402

import resnet_core as rc  # noqa: E402
from conftest import CHROMIUM_FLAGS, _chromium_path, _free_port, serve_app, wait_for_app  # noqa: E402
from resnet_core.store.run_store import RunStore  # noqa: E402

BATCH = 128
PAGES = ["train", "", "architecture", "gradients", "responses", "degradation", "lesson", "explain", "why"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def server_pid(port: int) -> int:
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"streamlit" in a for a in argv) and str(port).encode() in argv:
            return int(proc.name)
    raise RuntimeError("no streamlit process found")


def steps_now(store: RunStore, runs: list[str]) -> dict[str, int]:
    return {r: int(store.get(r).progress.get("step", 0)) for r in runs}


def training_speed(store: RunStore, runs: list[str], seconds: float, port: int) -> dict:
    """Each run's images per second over the next `seconds` (steps × batch / wall time, the test pass included)
    and the cores each part of the machine used meanwhile."""
    before, t0, cpu0 = steps_now(store, runs), time.monotonic(), cpu_seconds(str(port), None)
    time.sleep(seconds)
    after, elapsed, cpu1 = steps_now(store, runs), time.monotonic() - t0, cpu_seconds(str(port), None)
    return {
        "images_per_s": {r[-6:]: round((after[r] - before[r]) * BATCH / elapsed, 1) for r in runs},
        "total_images_per_s": round(sum(after[r] - before[r] for r in runs) * BATCH / elapsed, 1),
        "cores": {k: round((cpu1[k] - cpu0[k]) / elapsed, 2) for k in ("server", "browser", "machine")},
    }


def log_in(browser, url: str, who: str, limit: float):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(limit * 1000)
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name=who, exact=True).click()
    page.wait_for_url(url + "/")
    wait_for_app(page)
    return context, page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--limit", type=float, default=120.0, help="seconds a page may take before it counts as failed")
    args = parser.parse_args()
    import oidc_provider_mock as oidc
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-class-"))
    data = Path(tempfile.mkdtemp(prefix="bench-class-data-"))
    names = [f"s{i:02d}" for i in range(1, args.sessions + 1)]
    users = [oidc.User(sub=n, claims={"email": f"{n}@example.org", "name": n}) for n in names]
    store = RunStore(work / "runs")
    config = {"epochs": 500, "batch_size": BATCH, "lr": 0.02, "train_size": 5000, "test_size": 1000, "device": "cpu"}
    runs = [
        store.create(rc.NetSpec(depth=8), config, name=f"bench {who}", owner=f"{who}@example.org") for who in names[:2]
    ]
    with socket.socket() as s:
        s.bind(("localhost", 0))
        oidc_port = s.getsockname()[1]
    port = _free_port()
    result: dict = {
        "machine": subprocess.run(["lscpu"], capture_output=True, text=True)
        .stdout.split("Model name:")[1]
        .splitlines()[0]
        .strip(),
        "cores": len(__import__("os").sched_getaffinity(0)),
        "python": platform.python_version(),
        "sessions": args.sessions,
    }
    with (
        oidc.run_server_in_thread(port=oidc_port, user_claims=users),
        sync_playwright() as p,
    ):
        secrets_file = work / "secrets.toml"
        secrets_file.write_text(
            f'[auth]\nredirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(16)}"\n'
            f'client_id = "resnet-lab"\nclient_secret = "x"\n'
            f'server_metadata_url = "http://localhost:{oidc_port}/.well-known/openid-configuration"\n'
        )
        browser = p.chromium.launch(executable_path=_chromium_path(), headless=True, args=CHROMIUM_FLAGS)
        with serve_app(
            work / "runs", data, work / "streamlit.log", options=("--secrets.files", str(secrets_file)), port=port
        ) as url:
            pid = server_pid(port)
            # The first visit starts the runner; it opens every page once, as a teacher trying the app before the
            # class would, so that the timed loads are not the server's first imports of each page's libraries.
            context, page = log_in(browser, url, names[0], args.limit)
            warm = {}
            for path in PAGES:
                t0 = time.monotonic()
                page.goto(f"{url}/{path}")
                wait_for_app(page)
                warm[path or "home"] = round(time.monotonic() - t0, 2)
            result["first_loads_s"] = warm
            print(json.dumps(warm), flush=True)
            context.close()
            deadline = time.monotonic() + 600
            while min(steps_now(store, runs).values()) < 50:  # both training (the data rendered, warmed up)
                assert time.monotonic() < deadline, "the runs did not start"
                time.sleep(1)
            time.sleep(5)
            result["server_rss_mb_no_sessions"] = round(rss_mb(pid), 1)
            result["alone"] = training_speed(store, runs, args.seconds, port)
            print(json.dumps(result["alone"]), flush=True)
            sessions, loads = [], []
            for i, who in enumerate(names):
                context, page = log_in(browser, url, who, args.limit)
                path = PAGES[i % len(PAGES)]
                target = f"{url}/{path}" + (f"?runs={runs[0]}" if path == "train" else "")
                t0 = time.monotonic()
                page.goto(target)
                wait_for_app(page)
                loads.append({"page": path or "home", "seconds": round(time.monotonic() - t0, 2)})
                print(f"session {i + 1}: /{path} in {loads[-1]['seconds']} s", flush=True)
                sessions.append(context)
            result["page_loads"] = loads
            result["page_load_max_s"] = max(x["seconds"] for x in loads)
            result["page_load_median_s"] = statistics.median(x["seconds"] for x in loads)
            time.sleep(5)
            result["with_sessions"] = training_speed(store, runs, args.seconds, port)
            rss = rss_mb(pid)
            result["server_rss_mb_with_sessions"] = round(rss, 1)
            result["server_mb_per_session"] = round((rss - result["server_rss_mb_no_sessions"]) / args.sessions, 1)
            workers = [store.get(r).pid for r in runs]
            result["worker_rss_mb"] = [round(rss_mb(w), 1) for w in workers if w]
            for context in sessions:
                context.close()
            time.sleep(5)
            result["after"] = training_speed(store, runs, args.seconds, port)
            for run_id in runs:
                store.request_stop(run_id)
        browser.close()
    baseline = (result["alone"]["total_images_per_s"] + result["after"]["total_images_per_s"]) / 2
    result["speed_ratio"] = round(result["with_sessions"]["total_images_per_s"] / baseline, 2) if baseline else None
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
