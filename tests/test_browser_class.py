"""Two people and a teacher log in to one class server through a real OpenID Connect provider
(oidc-provider-mock, started here on a free port) in three browser contexts (issue 25). Bob cannot see Alice's
private run, nor stop, resume, rename, delete or download her shared ones by any route: the page offers him no
control, a link with the private run's id shows nothing of it, and the server-side actions the page calls
(execution/access.RunAccess) refuse his identity. The teacher sees every run and stops Alice's."""

from __future__ import annotations

import re
import secrets
import socket

import pytest

import resnet_core as rc
from conftest import _free_port, screenshot, serve_app, wait_for_app
from resnet_core.execution.access import RunAccess
from resnet_core.execution.jobs import JobRunner, default_parallel_runs
from resnet_core.store.access import AccessDenied, Actor
from resnet_core.store.run_store import RunStore

pytestmark = pytest.mark.browser

ALICE, BOB, TEACHER = "alice@example.org", "bob@example.org", "teacher@example.org"


@pytest.fixture(scope="module")
def provider():
    """A real OIDC provider on a free port with three predefined people (one click each on its login page)."""
    oidc = pytest.importorskip("oidc_provider_mock", reason="oidc-provider-mock is in requirements-dev.txt")
    users = [
        oidc.User(sub=name, claims={"email": f"{name}@example.org", "name": name.title()})
        for name in ("alice", "bob", "teacher")
    ]
    with socket.socket() as s:  # the provider binds "localhost": one port free there
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    with oidc.run_server_in_thread(port=port, user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def class_app(tmp_path_factory, shapes_root, provider):
    """The app in class mode: a secrets file with [auth] (the provider above) and the teacher, its own runs."""
    root = tmp_path_factory.mktemp("class")
    port = _free_port()
    secrets_file = root / "secrets.toml"
    secrets_file.write_text(
        f"""[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "{secrets.token_hex(16)}"
client_id = "resnet-lab"
client_secret = "resnet-lab-secret"
server_metadata_url = "{provider}/.well-known/openid-configuration"

[resnet_lab]
teachers = ["{TEACHER}"]
"""
    )
    runs = root / "runs"
    with serve_app(
        runs, shapes_root, root / "streamlit.log", options=("--secrets.files", str(secrets_file)), port=port
    ) as url:
        yield url, runs


def log_in(browser, url: str, who: str):
    """A new browser context logged in as `who` (the provider's predefined person), on the app's home page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name=who, exact=True).click()  # the provider's page: one button per person
    page.wait_for_url(re.compile(re.escape(url)))
    wait_for_app(page)
    page.locator("[data-testid='stSidebar']").get_by_text(
        re.compile(rf"^{who.title()}( · teacher)?$")
    ).wait_for()  # who
    return context, page


def labelled(area, label: str) -> int:
    """How many buttons in `area` say `label` (an icon's ligature name comes first in a button's text; a chart's
    toolbar has icon-only buttons whose accessible names could match a role query)."""
    return sum(b.inner_text().split()[-1:] == [label] for b in area.get_by_role("button").all())


def test_two_people_and_a_teacher(browser, class_app, tmp_path):
    url, runs = class_app
    anonymous = browser.new_page()
    anonymous.goto(f"{url}/train")
    wait_for_app(anonymous)
    assert anonymous.get_by_role("button", name="Log in").is_visible()  # nothing but the login
    assert anonymous.get_by_text("Start a run").count() == 0
    assert anonymous.locator("[data-testid='stSidebarNav']").count() == 0  # not even the pages' names
    screenshot(anonymous, "class-login")
    anonymous.goto(f"{url}/train?lang=zh")  # the same screens for a Chinese reader (zh-class-*.png)
    wait_for_app(anonymous)
    assert anonymous.get_by_role("button", name="登录").is_visible()
    screenshot(anonymous, "zh-class-login")
    anonymous.close()

    store = RunStore(runs)
    spec = rc.NetSpec(depth=8)
    private = store.create(spec, {"epochs": 1}, name="alice private run", status="stopped", owner=ALICE)
    # "Running" in this test's own process (alive, so no reader marks it interrupted): a stop request is what a
    # worker would act on; nobody trains here.
    shared_active = store.create(spec, {"epochs": 1}, name="alice shared running", status="running", owner=ALICE)
    shared_stopped = store.create(spec, {"epochs": 1}, name="alice shared stopped", status="stopped", owner=ALICE)
    for run_id in (shared_active, shared_stopped):
        store.set_shared(run_id, True)
    # Every other slot of the server's runner held the same way, so that her next run waits in the queue.
    holding = [
        store.create(spec, {"epochs": 1}, name=f"alice holding {i}", status="running", owner=ALICE)
        for i in range(default_parallel_runs() - 1)
    ]
    waiting = store.create(spec, {"epochs": 1}, name="alice waiting", owner=ALICE)

    alice_context, alice = log_in(browser, url, "alice")
    alice.goto(f"{url}/train?runs={private},{shared_active},{waiting}")
    wait_for_app(alice)
    main = alice.locator("[data-testid='stMain']")
    main.get_by_text("place 1 of 1 in line").wait_for()  # her place in the fair queue
    assert labelled(main, "Stop") == 2  # her running and her waiting run: hers to stop
    assert main.get_by_text("Rename, delete or download a run").is_visible()
    assert alice.locator("[data-testid='stSidebar']").get_by_text("alice shared running").count() == 1
    screenshot(alice, "class-alice-train")
    alice.goto(f"{url}/train?runs={private},{shared_active},{waiting}&lang=zh")
    wait_for_app(alice)
    main = alice.locator("[data-testid='stMain']")
    main.get_by_text("队列中第 1 位，共 1 位").wait_for()
    main.get_by_text("重命名、删除或下载运行").click()  # the share switch is in there
    main.get_by_text("与全班共享（只读）").wait_for()
    screenshot(alice, "zh-class-alice-train")
    alice_context.close()

    bob_context, bob = log_in(browser, url, "bob")
    # The page: her shared runs, read-only; nothing of her private one; no control over hers.
    bob.goto(f"{url}/train?runs={shared_active},{shared_stopped}")
    wait_for_app(bob)
    main = bob.locator("[data-testid='stMain']")
    main.get_by_text("alice shared running").first.wait_for()
    text = main.inner_text().replace("\u2060", "")
    assert "alice shared stopped" in text and "alice private run" not in text
    assert labelled(main, "Stop") == 0
    assert labelled(main, "Resume") == 0
    assert main.get_by_text("Rename, delete or download a run").count() == 0  # no rename, delete, download
    assert text.count(f"shared by {ALICE}") == 2  # (an email is shown with a word joiner: never a link)
    assert bob.locator("[data-testid='stSidebar']").get_by_text("alice shared running").count() == 0  # not his
    screenshot(bob, "class-bob-train")
    bob.goto(f"{url}/train?runs={shared_active},{shared_stopped}&lang=zh")
    wait_for_app(bob)
    bob.locator("[data-testid='stMain']").get_by_text("alice shared running").first.wait_for()
    screenshot(bob, "zh-class-bob-train")
    # A crafted link with her private run's id shows nothing of it (the id is not even echoed as a run).
    for path in (f"/train?runs={private}", f"/gradients?runs={private}", f"/responses?runs={private}"):
        bob.goto(url + path)
        wait_for_app(bob)
        assert "alice private run" not in bob.locator("[data-testid='stMain']").inner_text(), path
    bob_context.close()

    # The server-side actions the page calls, with Bob's identity: refused, whatever the page showed.
    runner = JobRunner(runs, max_parallel=1, poll_seconds=3600, standby=False)
    try:
        runner.max_parallel = 0  # starts nothing: the app's own runner schedules these runs
        as_bob = RunAccess(runner, Actor(BOB))
        for run_id, denied in ((private, KeyError), (shared_active, AccessDenied), (shared_stopped, AccessDenied)):
            for act in (as_bob.stop, as_bob.resume, as_bob.delete, as_bob.checkpoint_bytes, as_bob.downloadable):
                with pytest.raises(denied):
                    act(run_id)
            with pytest.raises(denied):
                as_bob.rename(run_id, "bob's now")
            with pytest.raises(denied):
                as_bob.share(run_id, False)
    finally:
        runner.shutdown()
    assert store.get(shared_active).status == "running" and not store.stop_requested(shared_active)
    assert store.get(shared_stopped).status == "stopped" and store.get(private).name == "alice private run"
    assert {r.id for r in store.list()} == {private, shared_active, shared_stopped, waiting, *holding}

    # The teacher sees every run and stops Alice's through the page.
    teacher_context, teacher = log_in(browser, url, "teacher")
    teacher.goto(f"{url}/train?runs={private},{shared_active}")
    wait_for_app(teacher)
    main = teacher.locator("[data-testid='stMain']")
    assert "alice private run" in main.inner_text()
    assert main.get_by_text("Teacher: the queue, the caps").is_visible()
    assert main.inner_text().replace("\u2060", "").count(f"{ALICE}'s run") == 2  # whose runs the teacher acts on
    main.get_by_role("button").filter(has_text=re.compile(r"Stop$")).click()
    wait_for_app(teacher)
    assert store.stop_requested(shared_active)
    main.get_by_text("Teacher: the queue, the caps").click()  # the whole queue, for the screenshot
    main.get_by_text("Clear their queue").wait_for()
    screenshot(teacher, "class-teacher-train")
    for lang, panel in (("zh", "教师：队列与上限"), ("en", "Teacher: the queue, the caps")):  # in Chinese, and back
        teacher.goto(f"{url}/train?runs={private},{shared_active}&lang={lang}")
        wait_for_app(teacher)
        main = teacher.locator("[data-testid='stMain']")
        main.get_by_text(panel).click()
        main.get_by_text("清空其队列" if lang == "zh" else "Clear their queue").wait_for()
        if lang == "zh":
            screenshot(teacher, "zh-class-teacher-train")
    main.get_by_role("button", name="Clear their queue").click()  # Alice's waiting run, from the teacher's panel
    wait_for_app(teacher)
    assert store.get(waiting).status == "stopped"
    teacher_context.close()
    store.request_stop(waiting)  # (if the panel failed) before a slot frees: the server's runner must not train it
    for run_id in (shared_active, *holding):
        store.set_status(run_id, "stopped")  # as their workers would have; the server's end finds no active run
