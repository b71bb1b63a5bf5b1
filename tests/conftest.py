"""Shared fixtures. Browser fixtures serve the real app (`streamlit run app.py` on a free port) and drive
it with Playwright in Debian's chromium — never a browser Playwright downloads itself."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from resnet_core.store.processes import children
from resnet_core.store.run_store import RunStore, pid_alive

ROOT = Path(__file__).resolve().parent.parent
# The app shows the reference runs it ships (assets/reference/) beside the user's; tests of empty and of
# the user's own runs must not see them, so they are off unless a test turns them on (test_reference*.py).
os.environ["RESNET_LAB_REFERENCE"] = "off"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _skip_or_fail(reason: str) -> None:
    # Under CI the browser tests must run: a missing browser is a failure, not a skip.
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests must run under CI=true, but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_runs_dir(tmp_path_factory) -> Path:
    """The runs folder of the test server: tests may record runs here for the app to show."""
    return tmp_path_factory.mktemp("app-runs") / "runs"


@contextmanager
def serve_app(
    runs: Path, data: Path, log_path: Path, options: tuple[str, ...] = (), env: dict | None = None, port: int = 0
) -> Iterator[str]:
    """`streamlit run app.py` on a free port (or `port`) until the block ends; yields its URL once healthy.
    `options`: more `--section.option value` arguments (a class's secrets file); `env`: more variables."""
    port = port or _free_port()
    env = dict(os.environ, RESNET_LAB_RUNS=str(runs), RESNET_LAB_DATA=str(data), RESNET_LAB_STANDBY="1", **(env or {}))
    log = open(log_path, "w")  # closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            *options,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        workers = _descendants(proc.pid)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        _end(workers)


def _descendants(pid: int) -> list[int]:
    """The processes below `pid` (Linux /proc): a server's training and analysis workers."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _end(pids: list[int]) -> None:
    """Workers outlive their server by design (a restarted server counts them); a test's must not outlive the
    test (one kept training for minutes after its test, on the cores the next tests measure)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)  # a worker ends `interrupted`
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(pid_alive(pid) for pid in pids):
        time.sleep(0.1)
    for pid in filter(pid_alive, pids):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(pid_alive(pid) for pid in pids):  # SIGKILL takes effect async
        time.sleep(0.05)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, shapes_root, app_runs_dir) -> Iterator[str]:
    """A real Streamlit server for this test session, with its own runs folder."""
    with serve_app(app_runs_dir, shapes_root, tmp_path_factory.mktemp("app") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="session")
def reference_app_url(tmp_path_factory, shapes_root) -> Iterator[str]:
    """A second real server for the session: no runs of the user's, the shipped reference runs on, so its
    pages and lesson steps show figures and verdicts (the lesson's and the Chinese pages' browser tests)."""
    from resnet_core.studies.reference import DEFAULT_BUNDLE

    tmp = tmp_path_factory.mktemp("reference-app")
    with contextlib.ExitStack() as stack:
        with pytest.MonkeyPatch.context() as env:  # only the server's environment: the test process keeps its own
            env.setenv("RESNET_LAB_REFERENCE", str(DEFAULT_BUNDLE))
            env.setenv("XDG_CACHE_HOME", str(tmp / "cache"))
            url = stack.enter_context(serve_app(tmp / "runs", shapes_root, tmp / "streamlit.log"))
        yield url


@pytest.fixture(scope="session")
def browser():
    chromium = _chromium_path()
    if chromium is None:
        _skip_or_fail("Debian's chromium is missing (`apt-get install chromium`, or `make test` as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("playwright for Python is not installed (requirements-dev.txt)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@contextmanager
def browser_page(browser, timeout_ms: int = 60_000, **options) -> Iterator:
    """A page in a new browser context (nothing cached, no cookies) that waits up to `timeout_ms` for what
    it is asked to find; `options` as browser.new_context takes them (a 1400×1000 viewport unless given).
    The context is closed when the block ends."""
    context = browser.new_context(**{"viewport": {"width": 1400, "height": 1000}, **options})
    try:
        page = context.new_page()
        page.set_default_timeout(timeout_ms)
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser, app_url):
    with browser_page(browser) as page:
        yield page


def wait_for_app(page) -> None:
    """Wait until Streamlit has finished running the script (and no exception box is shown)."""
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_selector("[data-test-script-state='notRunning']", state="attached")
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-test-script-state='notRunning']", state="attached")
    # A widget's code loads on its first use in a browser: until then it is drawn as a skeleton, for a
    # second or two after the script has finished (seen on a fresh server's first page).
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stSkeleton]').length === 0")
    assert page.locator("[data-testid='stException']").count() == 0, page.locator(
        "[data-testid='stException']"
    ).first.inner_text()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # Streamlit scrolls inside its main container, so grow the viewport to its height for a whole-page shot.
    viewport = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll("
        "'[data-testid=stMain], [data-testid=stAppViewContainer]')].map(e => e.scrollHeight),"
        " document.body.scrollHeight)"
    )
    page.set_viewport_size({"width": viewport["width"], "height": min(int(height) + 40, 8000)})
    page.wait_for_timeout(400)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(viewport)
    return path


@pytest.fixture(scope="session")
def shapes_root(tmp_path_factory):
    """One data folder for the session: the embedded dataset is rendered once, then read from its cache."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(autouse=True)
def _no_data_in_home(monkeypatch, shapes_root):
    """Tests never read or write the user's data folder: where a test sets none, RESNET_LAB_DATA is the
    session's (the app's standby worker renders the embedded set into it ahead of a first run)."""
    if not os.environ.get("RESNET_LAB_DATA"):
        monkeypatch.setenv("RESNET_LAB_DATA", str(shapes_root))


@pytest.fixture(autouse=True)
def _no_runs_in_the_checkout(monkeypatch, tmp_path_factory):
    """Nor the checkout's own runs folder (`./runs`, the app's default): where a test sets no
    RESNET_LAB_RUNS, an in-process page (the Architecture page counts the runs training) gets an empty one."""
    if not os.environ.get("RESNET_LAB_RUNS"):
        monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path_factory.mktemp("runs") / "runs"))


@pytest.fixture(autouse=True)
def _no_standby_workers_in_process(monkeypatch):
    """Runners made in the test process keep no standby worker unless a test asks for one: the app's pages
    run in-process (AppTest) keep their runner for the rest of the session, and each one's standby held
    ~900 MB of resident memory until pytest ended. A served app (`serve_app`) keeps its one standby."""
    monkeypatch.setenv("RESNET_LAB_STANDBY", "0")


@pytest.fixture(autouse=True)
def _torch_threads_restored():
    """An in-process page takes the server's share of the CPU (ui/threads.py) and keeps it: the next test
    gets the process's threads as they were."""
    import torch

    before = torch.get_num_threads()
    yield
    if torch.get_num_threads() != before:
        torch.set_num_threads(before)


def start_run_from_train_page(page, app_url: str, epochs: int) -> None:
    """Start ResNet-8 on 1,000 embedded images for `epochs` epochs through the Train page's form, as a user."""
    page.goto(f"{app_url}/train?depth=8")
    wait_for_app(page)
    form = page.locator("[data-testid='stExpander']", has_text="Start a run")
    if not form.get_by_text("Training images", exact=True).is_visible():
        form.locator("summary").first.click()  # collapsed once runs exist
    form.locator("[data-testid='stSlider']", has_text="Training images").get_by_role("slider").press("Home")
    wait_for_app(page)
    field = form.get_by_label("Epochs")
    field.fill(str(epochs))
    field.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Train", exact=True).click()


@contextmanager
def run_from_train_page(page, app_url: str, runs_dir: Path, epochs: int) -> Iterator[str]:
    """Start a run through the Train page (start_run_from_train_page) and give its id; whatever the test
    does, the run is not left training for the rest of the suite (the shared app keeps its worker)."""
    store = RunStore(runs_dir)
    earlier = {r.id for r in store.list()}  # the shared app may hold earlier tests' runs
    start_run_from_train_page(page, app_url, epochs)
    deadline = time.monotonic() + 60
    while not (new := [r.id for r in store.list() if r.id not in earlier]):
        assert time.monotonic() < deadline, "pressing Train made no run"
        time.sleep(0.25)
    (run_id,) = new
    try:
        yield run_id
    finally:
        if store.get(run_id).active:
            store.request_stop(run_id)


@pytest.fixture
def page_runs(tmp_path, shapes_root, monkeypatch) -> Iterator[Path]:
    """A fresh runs folder, `tmp_path / "runs"`, and the session's data folder for the app's pages run
    in-process (AppTest). The job runner the pages keep for the folder (ui/runs.py caches one per folder, for
    the server's life) is shut down after the test and forgotten, with its live reader."""
    runs = tmp_path / "runs"
    monkeypatch.setenv("RESNET_LAB_RUNS", str(runs))
    monkeypatch.setenv("RESNET_LAB_DATA", str(shapes_root))
    yield runs
    from ui.runs import release_runner

    release_runner(str(runs.resolve()))


@pytest.fixture
def runner_factory(tmp_path):
    """Makes JobRunners on `tmp_path / "runs"` that look at their workers every 50 ms (keyword arguments as
    JobRunner takes them); each is shut down after the test."""
    from resnet_core.execution.jobs import JobRunner

    runners = []

    def make(**kwargs):
        runner = JobRunner(tmp_path / "runs", poll_seconds=0.05, **kwargs)
        runners.append(runner)
        return runner

    yield make
    for r in runners:
        r.shutdown()


def pytest_sessionfinish(session, exitstatus):
    """End the training workers this process started and left running (a page run in-process keeps its
    shared runner for the session; a run it queued would otherwise be trained by a worker outliving pytest,
    on the CPU the next session's tests need)."""
    for pid, argv in children():
        if "resnet_core.execution.worker" in argv:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


@pytest.fixture(scope="session")
def fashion_files():
    """Debian's Fashion-MNIST files (dataset-fashion-mnist), which the shipped reference runs trained on: a
    test that needs them skips without them, and fails under CI=true (`make test` as root installs them)."""
    from resnet_core.data import idx

    folder = idx.SYSTEM_FOLDERS["fashion-mnist"][0]
    files = idx.find_files([folder])
    if files is None:
        _skip_or_fail(f"Debian's dataset-fashion-mnist is not installed ({folder}; `make test` as root installs it)")
    return files
