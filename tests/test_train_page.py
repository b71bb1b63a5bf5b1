"""The Train page through AppTest: start twins from the form, see them run and finish, manage runs."""

import time
from pathlib import Path

from helpers import charts
from streamlit.testing.v1 import AppTest

import resnet_core as rc
from resnet_core.store.run_store import RunStore

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "train.py")


def wait_until_idle(store: RunStore, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while store.list(["queued", "running"]):
        assert time.monotonic() < deadline, [(r.status, r.error) for r in store.list()]
        time.sleep(0.2)


def test_empty_page_invites_a_first_run(page_runs):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert "No runs yet" in at.info[0].value


def test_train_twins_from_the_form_and_watch_them_finish(page_runs):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["depth"] = "8"
    at.run()
    # On this CPU the form starts from the tuned CPU recipe; what the user sets is what the run gets.
    assert at.number_input(key="train.lr").value == 0.02 and at.selectbox(key="train.schedule").value == "cosine"
    assert at.checkbox(key="train.augment").value is False
    at.select_slider(key="train.size").set_value(1000)
    at.number_input(key="train.epochs").set_value(1)
    at.selectbox(key="train.schedule").set_value("step")
    at.checkbox(key="train.augment").check()
    at.button(key="train.twins").click().run()
    assert not at.exception
    ids = at.session_state["runs"]
    assert len(ids) == 2
    store = RunStore(page_runs)  # the page's runner works in the background; watch through the store
    assert {store.get(i).spec.skip for i in ids} == {True, False}
    config = store.get(ids[0]).config
    assert (config.schedule, config.augment, config.lr, config.epochs) == ("step", True, 0.02, 1)
    assert config.head_init_scale == 0.1  # the CPU recipe's, shown in the form's caption
    pair = {store.get(i).config.experiment for i in ids}  # created together: one pair id (find_twin)
    assert len(pair) == 1 and pair.pop().startswith("twins-")
    assert any("classifier initialised at 0.1×" in c.value for c in at.caption)
    wait_until_idle(store)
    at.run()
    assert not at.exception
    assert sum("completed" in m.value for m in at.markdown) == 2
    table = at.dataframe[0].value
    assert set(table["status"]) == {"completed"} and table["test error %"].notna().all()
    assert len(charts(at)) == 2

    # Regression: with runs on the page already, a new run joins "Runs shown" (it used to be dropped).
    at.multiselect(key="train.shown").set_value([]).run()
    at.button(key="train.one").click().run()
    assert not at.exception
    newest = max(store.list(), key=lambda r: r.created_at).id
    assert at.multiselect(key="train.shown").value == [newest]
    store.request_stop(newest)
    wait_until_idle(store)
    at.run()

    # Rename, then delete one run.
    target = at.selectbox(key="train.manage").value
    at.text_input(key=f"rename.{target}").set_value("my twin")
    at.button(key="train.rename").click().run()
    assert store.get(target).name == "my twin"
    at.checkbox(key=f"confirm.{target}").check().run()
    at.button(key="train.delete").click().run()
    assert not at.exception
    assert target not in [r.id for r in store.list()]
    assert target not in at.multiselect(key="train.shown").value


def test_the_selection_comes_from_the_link(page_runs):
    store = RunStore(page_runs)
    run_id = store.create(rc.NetSpec(depth=8), {"epochs": 1}, status="stopped")
    time.sleep(0.01)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["runs"] = run_id
    at.run()
    assert not at.exception
    assert at.multiselect(key="train.shown").value == [run_id]
    assert any("stopped" in m.value for m in at.markdown)


def test_without_a_link_the_page_shows_the_active_and_the_latest_runs(page_runs):
    """Issue 15: /train without ?runs= said "Choose runs to show above" while runs trained."""
    import os

    store = RunStore(page_runs)
    old = store.create(rc.NetSpec(depth=8), {"epochs": 1}, status="completed")
    running = store.create(rc.NetSpec(depth=8, skip=False), {"epochs": 1})
    store.set_status(running, "running", pid=os.getpid())  # a live process: not taken for a lost worker
    latest = store.create(rc.NetSpec(depth=14), {"epochs": 1}, status="stopped")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert at.multiselect(key="train.shown").value == [running, latest] and old not in at.query_params["runs"][0]
    assert not any("Choose runs" in i.value for i in at.info)


def test_sidebar_links_active_runs_to_the_train_page_with_names_as_text():
    from ui.sidebar import markdown_text

    def sidebar():
        import resnet_core as rc
        from resnet_core.store.config import RunConfig
        from resnet_core.store.run_store import Run
        from ui.sidebar import active_runs

        run = Run(
            "abc123",
            "**bold** [x](http://e.vil) :red[hi]",
            rc.NetSpec(depth=8),
            RunConfig(),
            "shapes",
            None,
            "running",
            0.0,
            0.0,
        )
        active_runs([run])

    at = AppTest.from_function(sidebar).run()
    assert not at.exception, at.exception
    (link,) = at.get("page_link")
    assert link.proto.page.endswith("train") and "runs=abc123" in link.proto.query_string
    assert link.proto.label == markdown_text("ResNet-8 · **bold** [x](http://e.vil) :red[hi] · running")
    assert markdown_text("a*b_[c]") == "a\\*b\\_\\[c\\]"


def test_rename_updates_the_label_in_the_manage_picker(page_runs):
    """Issue 15: after a rename the rename/delete panel's picker still showed the old name (the browser keeps
    the chosen label until the script sets the selection again)."""
    store = RunStore(page_runs)
    run_id = store.create(rc.NetSpec(depth=8), {"epochs": 1}, status="completed", name="old name")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.text_input(key=f"rename.{run_id}").set_value("new name")
    at.button(key="train.rename").click().run()
    assert not at.exception and store.get(run_id).name == "new name"
    picker = at.selectbox(key="train.manage")
    assert picker.proto.set_value and picker.proto.raw_value == f"new name · {run_id}"
    assert picker.value == run_id


def test_cifar_without_its_files_is_marked_unavailable_with_where_to_put_them(page_runs):
    """Issue 15: CIFAR-10/100 were offered offline without a word (the run then failed in the worker)."""
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    picker = at.selectbox(key="train.dataset")
    assert "CIFAR-10 (not available here)" in picker.options and "shapes (embedded, offline)" in picker.options
    picker.set_value("cifar10").run()
    assert not at.exception
    shown = at.warning[0].value.replace("\\", "")  # the message is escaped Markdown: shown as text
    assert "cifar-10-python.tar.gz" in shown and "RESNET_LAB_DATA" in shown
    assert at.button(key="train.one").disabled and at.button(key="train.twins").disabled


def test_runs_table_shows_a_dash_for_a_run_without_an_epoch(page_runs):
    store = RunStore(page_runs)
    store.create(rc.NetSpec(depth=8), {"epochs": 1}, status="stopped")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    shown = at.dataframe[0].proto.arrow_data.styler.display_values  # what the cells show, as Arrow IPC
    assert "—".encode() in shown and b"None" not in shown


def test_a_status_change_reruns_the_whole_page_from_one_read(page_runs):
    """Issue 26.2: while twins trained, the "All runs" table and the "Runs shown" chips said `queued` (drawn
    by the last full rerun; only the live view polled). A poll that sees a status change reruns the app, and
    a full rerun reads the runs once, from app.py's snapshot when there is one."""

    def script():
        import streamlit as st

        from resnet_core.store.run_store import RunStore
        from ui.runs import follow_statuses, read_runs, take_snapshot

        store = RunStore(st.session_state["root"])
        st.session_state["runs"] = st.session_state.get("runs", 0) + 1
        if st.session_state.pop("poll", False):  # a live view's poll: only the fragment would run
            follow_statuses(store)
        else:  # a full rerun: app.py's snapshot for the sidebar, and the page's runs are that same read
            snapshot = take_snapshot(store)
            runs = read_runs(store)
            st.session_state["same read"] = runs is snapshot
            st.session_state["statuses"] = [r.status for r in runs]

    store = RunStore(page_runs)
    run_id = store.create(rc.NetSpec(depth=8), {"epochs": 1})
    at = AppTest.from_function(script, default_timeout=60)
    at.session_state["root"] = str(page_runs)
    at.run()
    assert at.session_state["statuses"] == ["queued"] and at.session_state["runs"] == 1
    assert at.session_state["same read"]
    at.session_state["poll"] = True
    at.run()  # a poll, nothing changed: no rerun
    assert at.session_state["runs"] == 2
    store.set_status(run_id, "stopped")
    at.session_state["poll"] = True
    at.run()  # a poll that sees the change reruns the whole app, which reads the new status
    assert not at.exception
    assert at.session_state["runs"] == 4 and at.session_state["statuses"] == ["stopped"]


def test_a_stopped_twin_has_resume_on_its_row_and_stays_shown(page_runs):
    """Issue 26.3: a stopped run's row had no Resume (it hid under "Rename, delete or download a run"), and
    without a link "Runs shown" dropped the stopped twin (only the active runs and the newest one)."""
    import os

    store = RunStore(page_runs)
    pair = {"epochs": 1, "experiment": "twins-x"}
    residual = store.create(rc.NetSpec(depth=8), pair, status="stopped")
    plain = store.create(rc.NetSpec(depth=8, skip=False), pair)
    store.set_status(plain, "running", pid=os.getpid())
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert set(at.multiselect(key="train.shown").value) == {residual, plain}
    resume = at.button(key=f"resume.{residual}")
    assert resume.label == "Resume"
    resumed = []
    from ui.runs import _runner_for

    runner = _runner_for(str((page_runs).resolve()))
    runner_resume = runner.resume
    try:
        runner.resume = resumed.append  # nothing trains here: record the press
        resume.click().run()
    finally:
        runner.resume = runner_resume
    assert resumed == [residual] and not at.exception


def test_the_runs_table_shows_its_errors_first(page_runs):
    """Issue 26.7: at 1024 px the "All runs" table's error columns were scrolled out of view, after id,
    net, depth and dataset."""
    store = RunStore(page_runs)
    store.create(rc.NetSpec(depth=8), {"epochs": 1}, status="completed")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    order = list(at.dataframe[0].proto.column_order)
    assert order[:5] == ["name", "status", "epochs", "train error %", "test error %"], order
