"""The class mode's rules on the server (issue 25): who sees and acts on which run (store/access.py, checked
at every action by execution/access.RunAccess and at every read by RunView), the queue cap, the fair queue
(execution/queue.py and JobRunner with real worker processes), and old stores gaining the owner columns.
The browser test with two people logged in through a real OIDC provider is tests/test_browser_class.py."""

import sys
import time
from pathlib import Path

import pytest
from helpers import old_store

import resnet_core as rc
from resnet_core.execution.access import QueueFull, RunAccess
from resnet_core.execution.jobs import JobRunner
from resnet_core.execution.queue import fair_order, start_times
from resnet_core.presentation.i18n import say, set_language
from resnet_core.store.access import ADMIN, AccessDenied, Actor
from resnet_core.store.run_store import Run

SPEC = rc.NetSpec(depth=8, width=4)
FAKE = str(Path(__file__).resolve().parent / "fake_worker.py")
ALICE, BOB, TEACHER = Actor("alice@example.org"), Actor("bob@example.org"), Actor("t@example.org", teacher=True)


def slow_worker(root: str, run_id: str) -> list[str]:
    return [sys.executable, FAKE, "slow", root, run_id]


@pytest.fixture
def runner(tmp_path):
    # A runner whose scheduler never starts anything (no slots): the rules are checked on queued and stopped runs.
    runner = JobRunner(tmp_path / "runs", max_parallel=1, command=slow_worker, poll_seconds=3600)
    runner.max_parallel = 0
    yield runner
    runner.shutdown()


def test_a_private_run_is_its_owners_alone(runner):
    alice, bob, teacher = (RunAccess(runner, who) for who in (ALICE, BOB, TEACHER))
    private = alice.submit(SPEC, {"epochs": 1})
    assert runner.store.get(private).owner == "alice@example.org"
    assert [r.id for r in alice.store.list()] == [private]
    assert bob.store.list() == []  # not listed …
    for read in (bob.store.get, bob.store.epochs, bob.store.steps, bob.store.latest_checkpoint):
        with pytest.raises(KeyError):  # … and no read of it by its id (a crafted `?runs=` link)
            read(private)
    with pytest.raises(KeyError):
        bob.store.probe(private, "grad_norms")
    # Every action by Bob fails as for a run that does not exist: nothing about it leaks.
    for act in (bob.stop, bob.resume, bob.delete, bob.checkpoint_bytes, bob.downloadable):
        with pytest.raises(KeyError):
            act(private)
    with pytest.raises(KeyError):
        bob.rename(private, "mine now")
    assert runner.store.get(private).status == "queued"
    assert [r.id for r in teacher.store.list()] == [private]  # a teacher sees every run


def test_a_shared_run_is_read_only_for_the_class_and_a_teacher_acts_on_it(runner):
    alice, bob, teacher = (RunAccess(runner, who) for who in (ALICE, BOB, TEACHER))
    run_id = alice.submit(SPEC, {"epochs": 1}, name="alice's run")
    with pytest.raises(KeyError):
        bob.share(run_id, True)  # not even seen: only the owner shares it
    alice.share(run_id, True)
    assert [r.id for r in bob.store.list()] == [run_id]
    assert bob.store.get(run_id).name == "alice's run"
    assert not bob.can_act(bob.store.get(run_id))
    for act in (bob.stop, bob.delete, bob.checkpoint_bytes, bob.downloadable):
        with pytest.raises(AccessDenied, match="only its owner or a teacher"):
            act(run_id)
    with pytest.raises(AccessDenied):
        bob.rename(run_id, "bob's run")
    with pytest.raises(AccessDenied):
        bob.share(run_id, False)
    assert runner.store.get(run_id).status == "queued" and runner.store.get(run_id).name == "alice's run"
    teacher.stop(run_id)
    assert runner.store.get(run_id).status == "stopped"
    with pytest.raises(AccessDenied):
        bob.resume(run_id)
    teacher.rename(run_id, "renamed by the teacher")
    assert runner.store.get(run_id).name == "renamed by the teacher"
    assert teacher.checkpoint_bytes(run_id) == b""  # no checkpoint yet, but allowed
    teacher.delete(run_id)
    assert runner.store.list() == []


def test_runs_without_an_owner_are_the_administrators(runner):
    cli_run = runner.submit(SPEC, {"epochs": 1})  # the CLI and the app without a login
    assert runner.store.get(cli_run).owner is None
    assert [r.id for r in RunAccess(runner, ADMIN).store.list()] == [cli_run]
    assert RunAccess(runner, ALICE).store.list() == []
    with pytest.raises(KeyError):
        RunAccess(runner, ALICE).stop(cli_run)
    RunAccess(runner, TEACHER).stop(cli_run)


def test_the_queue_cap_says_what_to_do_and_a_teacher_sets_it(runner):
    alice, bob, teacher = (RunAccess(runner, who) for who in (ALICE, BOB, TEACHER))
    with pytest.raises(AccessDenied):
        alice.set_queue_cap(100)
    teacher.set_queue_cap(2)
    alice.submit(SPEC, {"epochs": 1})
    alice.submit(SPEC, {"epochs": 1})
    with pytest.raises(QueueFull, match="at most 2 runs waiting or training"):
        alice.submit(SPEC, {"epochs": 1})
    bob.submit(SPEC, {"epochs": 1})  # the cap is per person
    with pytest.raises(QueueFull):
        bob.check_room(2)  # twins need two places
    for _ in range(3):
        teacher.submit(SPEC, {"epochs": 1})  # no cap for teachers
    with pytest.raises(AccessDenied):
        bob.clear_queue("alice@example.org")
    assert len(teacher.clear_queue("alice@example.org")) == 2
    assert alice.room() == 2
    teacher.set_queue_cap(None)
    assert alice.queue_cap() == RunAccess(runner, ALICE).default_cap


def test_a_chinese_page_says_the_cap_and_a_refusal_in_chinese(runner):
    alice, bob, teacher = (RunAccess(runner, who) for who in (ALICE, BOB, TEACHER))
    teacher.set_queue_cap(1)
    run_id = alice.submit(SPEC, {"epochs": 1})
    alice.share(run_id, True)
    errors = []
    for act in (lambda: alice.check_room(2), lambda: bob.delete(run_id), lambda: bob.set_queue_cap(3)):
        with pytest.raises((QueueFull, AccessDenied)) as info:
            act()
        errors.append(info.value)
    assert [str(e) for e in errors] == [  # the English, as the command line and the logs read it
        "You can have at most 1 runs waiting or training at once, and this needs room for 2 (0 left). Stop one of "
        "yours, or wait for one to finish.",
        "You cannot delete another person's run: only its owner or a teacher can.",
        "Only a teacher can set the queue cap.",
    ]
    try:
        set_language("zh")  # as the Train page does for a Chinese session (ui/views/classroom.py says them)
        said = [say(e) for e in errors]
    finally:
        set_language("en")
    assert said == [
        "你同时最多可有 1 个排队或训练中的运行，而这需要 2 个名额（还剩 0 个）。"
        "请停止你的一个运行，或等待一个运行结束。",
        "你不能删除别人的运行：只有它的所有者或教师可以。",
        "只有教师可以设置队列上限。",
    ]


def _run(owner, n):
    return Run(f"{owner}{n}", "x", SPEC, rc.RunConfig(), "shapes", None, "queued", 0.0, 0.0, owner=owner)


def test_fair_order_goes_round_the_owners():
    a = [_run("a", i) for i in range(5)]
    b = [_run("b", 0)]
    order = [r.id for r in fair_order(a + b, running=[])]
    assert order == ["a0", "b0", "a1", "a2", "a3", "a4"]
    # A has two training: B's run goes first, then A's in the order queued.
    order = [r.id for r in fair_order(a[2:] + b, running=a[:2])]
    assert order[0] == "b0" and order[1:] == ["a2", "a3", "a4"]
    # Alone, a person's runs keep the order they were queued in.
    assert [r.id for r in fair_order(a, running=[])] == [r.id for r in a]
    # Equally placed, the owner whose last run started longest ago goes first.
    c = [_run("c", 0)]
    assert [r.id for r in fair_order(b + c, running=[], last_start={"b": 10.0, "c": 5.0})] == ["c0", "b0"]


def test_start_times_fill_the_first_free_slot():
    assert start_times([60, 60, 60], running_left=[30, 90], slots=2) == [30, 90, 90]
    assert start_times([10], running_left=[], slots=2) == [0.0]


def test_a_later_persons_run_starts_before_the_first_persons_third(tmp_path):
    # Real worker processes (tests/fake_worker.py: each run ~2 s), two slots: A queues five, then B one.
    # The runner is held (no slot) while they queue: on a loaded machine Alice's five submissions once took
    # longer than her first run, whose end then started her third before Bob had queued at all. In the order
    # runs were queued (the old pick) Bob's would start sixth; round-robin starts it in the first pass. Once, in
    # a whole suite, the scheduler had read the queue (Alice's five) just before Bob's and the slots came: it
    # started Alice's first two. It reads the queue only when a slot is free now (jobs._start_queued).
    runner = JobRunner(tmp_path / "runs", max_parallel=2, command=slow_worker, poll_seconds=0.05)
    runner.max_parallel = 0
    try:
        alice, bob = RunAccess(runner, ALICE), RunAccess(runner, BOB)
        a = [alice.submit(SPEC, {"epochs": 1}) for _ in range(5)]
        b = bob.submit(SPEC, {"epochs": 1})
        runner.max_parallel = 2
        # Bob's place in line: at most second (first once one of Alice's trains), however many Alice has.
        order = [r.id for r in runner.queue_order()]
        assert b not in order or order.index(b) <= 1, order
        deadline = time.monotonic() + 60
        while runner.store.get(b).status == "queued":
            assert time.monotonic() < deadline, "Bob's run never started"
            assert runner.store.get(a[2]).status == "queued", "Alice's third run started before Bob's"
            time.sleep(0.01)
        assert runner.wait_idle(timeout=120)
        # When each started: when the runner opened its worker log (fake workers write nothing to it). Bob's
        # starts in the first pass, Alice's third a run (~2 s) later — a file's time is only as fine as the
        # kernel's clock tick, so two runs started in one pass may show the same time.
        started = {i: (Path(runner.root) / i / "worker.log").stat().st_mtime_ns for i in a + [b]}
        assert started[b] < started[a[2]], started
    finally:
        runner.shutdown()


def test_an_old_store_gains_the_owner_columns(tmp_path):
    # The runs table before the class mode: no owner, no shared.
    create_table = """CREATE TABLE runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL, spec TEXT NOT NULL, config TEXT NOT NULL, dataset TEXT NOT NULL, device TEXT,
        status TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL, error TEXT, pid INTEGER,
        pid_started INTEGER, progress TEXT, stop_requested INTEGER NOT NULL DEFAULT 0, executor TEXT, node TEXT)"""
    store = old_store(tmp_path / "runs", create_table, SPEC)
    (old,) = store.list()
    assert (old.owner, old.shared) == (None, False)  # the administrator's, private: as it was
    store.set_shared("old-run", True)
    assert store.get("old-run").shared
    new = store.create(SPEC, {"epochs": 1}, owner="alice@example.org")
    assert store.get(new).owner == "alice@example.org"


def test_each_person_sees_their_place_in_line_and_when_it_starts(runner):
    from ui.views.classroom import place_words, queue_places

    alice, bob = RunAccess(runner, ALICE), RunAccess(runner, BOB)
    a = [alice.submit(SPEC, {"epochs": 1, "train_size": 1280, "batch_size": 128}) for _ in range(3)]
    b = bob.submit(SPEC, {"epochs": 1, "train_size": 1280, "batch_size": 128})
    # (The fixture's runner starts nothing: max_parallel 0, which the estimate counts as one slot.)
    # No measured speed here yet: places without an estimate.
    places = queue_places(alice, [], lambda spec: 1000)
    assert [places[i][0] for i in (a[0], b, a[1], a[2])] == [1, 2, 3, 4]
    assert place_words(places[b], len(places)) == "place 2 of 4 in line"
    # 1,000 multiply-adds per image at 10,000 a second: 1,280 images take 128 s; one slot, nothing training.
    places = queue_places(bob, [(1000, 10_000.0)], lambda spec: 1000)
    assert places[b] == (2, pytest.approx(128.0))
    assert place_words(places[a[2]], len(places)) == "place 4 of 4 in line · starts in about 6 min"


def test_a_run_gone_or_still_active_is_said_in_chinese_and_the_cli_keeps_its_english(runner):
    from resnet_core.execution.access import NoSuchRun
    from resnet_core.presentation.reports import owner_label
    from resnet_core.store.run_store import RunActive

    alice, bob = RunAccess(runner, ALICE), RunAccess(runner, BOB)
    run_id = alice.submit(SPEC, {"epochs": 1})
    with pytest.raises(RunActive) as active:
        alice.delete(run_id)  # queued: its worker would go on writing
    with pytest.raises(NoSuchRun) as hidden:
        bob.stop(run_id)  # private: as for a run that does not exist
    assert isinstance(active.value, ValueError) and isinstance(hidden.value, KeyError)  # as the callers catch them
    assert str(active.value) == f"run {run_id} is queued: stop it before deleting it"  # the CLI's words
    gone = f"There is no run {run_id} that you can see: it was deleted, or it is no longer shared."
    assert str(hidden.value) == gone  # not quoted, as KeyError's own str() would
    assert owner_label(runner.store.get(run_id)) == "alice@example.org"
    cli_run = runner.submit(SPEC, {"epochs": 1})
    try:
        set_language("zh")
        said = [say(active.value), say(hidden.value), owner_label(runner.store.get(cli_run))]
    finally:
        set_language("en")
    assert said == [
        f"运行 {run_id} 正在排队：请先停止它，再删除。",
        f"没有你能看到的运行 {run_id}：它已被删除，或已不再共享。",
        "管理员（命令行）",
    ]
    assert owner_label(runner.store.get(cli_run)) == "the administrator (command line)"
