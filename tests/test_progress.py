"""Issue 15.12: a run's progress says what it does — starting (data, net), training, evaluating on the test
set — with its step counts right from the start, from train()'s "phase" events through the store to the page."""

import os
from pathlib import Path

from helpers import random_data
from streamlit.testing.v1 import AppTest
from test_train import FAST, TINY

import resnet_core as rc
from resnet_core.execution.worker import execute_run
from resnet_core.presentation.reports import planned_steps, progress_line
from resnet_core.store.run_store import RunStore
from resnet_core.training.train import TrainConfig, train

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "train.py")


def test_train_says_starting_then_training_and_evaluating_around_each_test_pass():
    events = []
    train(TINY, random_data(n_train=48), TrainConfig(epochs=2, batch_size=16, **FAST), events.append)
    phases = [(e.phase, e.step) for e in events if e.kind == "phase"]
    assert phases == [("starting", 0), ("training", 0), ("evaluating", 3), ("training", 3), ("evaluating", 6)]
    kinds = [e.kind for e in events]
    for i in (i for i, e in enumerate(events) if e.kind == "epoch"):
        assert events[i - 1].kind == "phase" and events[i - 1].phase == "evaluating"  # just before the test pass
    assert kinds.index("phase") == 0  # before the net is built


def test_a_resumed_run_starts_at_its_checkpoints_step():
    events = []
    data, config = random_data(n_train=48), TrainConfig(epochs=3, batch_size=16, **FAST)
    first = train(TINY, data, config.replace(epochs=1))
    train(TINY, data, config, events.append, net=first.net, start_epoch=1, optimizer_state=first.optimizer_state)
    starting = events[0]
    assert (starting.kind, starting.phase, starting.step, starting.epoch) == ("phase", "starting", 3, 1.0)


def test_the_store_shows_each_phase_as_it_happens(tmp_path, shapes_root):
    store = RunStore(tmp_path / "runs")
    config = TrainConfig(
        epochs=2, batch_size=50, device="cpu", log_every=50, grad_norm_every=0, probe_batch_size=0, checkpoint_every=0
    ).to_dict()
    config.update(train_size=100, test_size=50, data_dir=str(shapes_root))
    run_id = store.create(rc.NetSpec(depth=8, width=4), config, dataset="shapes")
    assert planned_steps(store.get(run_id)) == 4  # 2 batches of 50 × 2 epochs, before anything ran
    seen = []

    def look(event):  # the recorder has handled the event when it calls this: what would a page read now?
        if event.kind == "phase":
            seen.append((event.phase, store.get(run_id).progress))

    assert store.claim(run_id, pid=os.getpid())
    assert store.get(run_id).progress == {"phase": "starting"}
    assert execute_run(store, run_id, extra_listener=look) == "completed"
    assert [phase for phase, _ in seen] == ["starting", "training", "evaluating", "training", "evaluating"]
    for phase, progress in seen:
        assert progress["phase"] == phase and progress["total_steps"] == 4
    assert [p["step"] for _, p in seen] == [0, 0, 2, 2, 4]


def test_claiming_a_resumed_run_says_starting_and_forgets_its_old_speed(tmp_path):
    store = RunStore(tmp_path / "runs")
    run_id = store.create(rc.NetSpec(depth=8), {"epochs": 2}, status="interrupted")
    store.set_progress(run_id, phase="training", step=30, epoch=1.5, total_steps=40, images_per_second=900.0)
    store.set_status(run_id, "queued")
    assert store.claim(run_id, pid=os.getpid())
    assert store.get(run_id).progress == {"phase": "starting", "step": 30, "epoch": 1.5, "total_steps": 40}
    assert not store.claim(run_id, pid=os.getpid())  # no longer queued


def test_progress_line_in_each_phase(tmp_path):
    store = RunStore(tmp_path / "runs")
    run_id = store.create(rc.NetSpec(depth=8), {"epochs": 5, "batch_size": 100, "train_size": 1000})
    store.claim(run_id, pid=os.getpid())
    done, text = progress_line(store.get(run_id))  # nothing written by a worker yet
    assert done == 0 and text == "starting (rendering data / building the net) · step 0/50"
    store.set_progress(run_id, phase="training", step=25, epoch=2.5, total_steps=50, images_per_second=100.0)
    done, text = progress_line(store.get(run_id))
    assert done == 0.5 and text == "epoch 2.5/5 · step 25/50 · 100 images/s · about 0.4 min left"
    store.set_progress(run_id, phase="evaluating", step=30, epoch=3.0, total_steps=50, images_per_second=100.0)
    assert progress_line(store.get(run_id))[1] == "epoch 3/5 done · evaluating on the test set · step 30/50"
    store.set_progress(run_id, step=40, epoch=4.0, total_steps=50, images_per_second=100.0)  # an older version's
    assert progress_line(store.get(run_id))[1].startswith("epoch 4.0/5 · step 40/50")
    cifar = store.create(rc.NetSpec(depth=8), {"epochs": 2, "batch_size": 128}, dataset="cifar10")
    store.claim(cifar, pid=os.getpid())
    assert progress_line(store.get(cifar))[1] == "starting (loading data / building the net) · step 0/782"


def test_the_train_page_says_a_run_is_starting_or_evaluating(tmp_path, shapes_root, monkeypatch):
    """Before: "epoch 0.0/5 · step 0/1 · 0 images/s" while a run started, and no word during test passes."""
    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("RESNET_LAB_DATA", str(shapes_root))
    store = RunStore(tmp_path / "runs")
    starting = store.create(rc.NetSpec(depth=8), {"epochs": 5, "batch_size": 100, "train_size": 1000})
    evaluating = store.create(rc.NetSpec(depth=8, skip=False), {"epochs": 5, "batch_size": 100, "train_size": 1000})
    for run_id in (starting, evaluating):
        store.set_status(run_id, "running", pid=os.getpid())  # a live process: not taken for a lost worker
    store.set_progress(evaluating, phase="evaluating", step=10, epoch=1.0, total_steps=50, images_per_second=80.0)
    try:
        at = AppTest.from_file(PAGE, default_timeout=60)
        at.query_params["runs"] = f"{starting},{evaluating}"
        at.run()
        assert not at.exception
        texts = [p.proto.text for p in at.get("progress")]
        assert "starting (rendering data / building the net) · step 0/50" in texts
        assert "epoch 1/5 done · evaluating on the test set · step 10/50" in texts
        assert not any("step 0/1" in t or " 0 images/s" in t for t in texts)
    finally:
        from ui.runs import release_runner

        release_runner(str((tmp_path / "runs").resolve()))
