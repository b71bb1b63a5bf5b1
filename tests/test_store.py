"""The run store: round trips, concurrent writers, atomic checkpoints, interrupted runs."""

import multiprocessing as mp
import os
import sys
import types

import numpy as np
import pytest
import torch

import resnet_core as rc
from resnet_core.atomic import write_atomically
from resnet_core.store.run_store import RunStore, runs_dir
from resnet_core.training.checkpoints import load_checkpoint, save_checkpoint

SPEC = rc.NetSpec(depth=8, width=4)
CONFIG = {"epochs": 2, "batch_size": 32, "lr": 0.1}


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "runs")


def test_runs_round_trip(store):
    run_id = store.create(SPEC, CONFIG, dataset="shapes", device="cpu")
    run = store.get(run_id)
    assert (run.spec, run.config, run.dataset, run.status) == (SPEC, rc.RunConfig.of(CONFIG), "shapes", "queued")
    assert run.name == "ResNet-8 · shapes"
    assert store.find(run_id[:-2]).id == run_id
    store.set_status(run_id, "running", pid=os.getpid())
    store.set_progress(run_id, epoch=1, step=10, total_steps=100)
    store.rename(run_id, "my first run")
    run = store.get(run_id)
    assert (run.status, run.pid, run.progress["step"], run.name) == ("running", os.getpid(), 10, "my first run")
    store.set_status(run_id, "failed", error="CUDA out of memory")
    assert store.get(run_id).error == "CUDA out of memory"
    with pytest.raises(ValueError, match="queued, running, completed"):
        store.set_status(run_id, "done")
    with pytest.raises(ValueError):
        store.rename(run_id, "  ")
    # A second store on the same folder (another tab, process, or a restarted server) sees it all.
    assert RunStore(store.root).get(run_id).name == "my first run"


def test_queue_order_and_claim(store):
    ids = [store.create(SPEC, CONFIG) for _ in range(3)]
    assert [r.id for r in store.list(["queued"])] == ids
    assert store.claim(ids[0], pid=os.getpid())  # a live process: a dead one would be settled as interrupted
    assert not store.claim(ids[0], pid=456)  # already taken
    store.request_stop(ids[1])  # a queued run is stopped at once
    assert store.get(ids[1]).status == "stopped"
    store.request_stop(ids[0])
    assert store.stop_requested(ids[0]) and store.get(ids[0]).status == "running"


def test_metrics_and_probes_round_trip(store):
    run_id = store.create(SPEC, CONFIG)
    store.add_steps(
        run_id,
        [
            {"step": s, "epoch": s / 10, "loss": 2.0 - s / 100, "error": 0.5, "lr": 0.1, "images_per_second": 1000.0}
            for s in range(1, 21)
        ],
    )
    new = store.steps(run_id, since_step=15)
    assert list(new["step"]) == [16, 17, 18, 19, 20]
    assert new["loss"][0] == pytest.approx(1.84)
    store.add_epoch(
        run_id,
        {
            "epoch": 1,
            "step": 10,
            "train_loss": 1.5,
            "train_error": 0.4,
            "test_loss": 1.6,
            "test_error": 0.45,
            "seconds": 3.0,
            "images_per_second": 900.0,
        },
    )
    assert store.epochs(run_id)[0]["test_error"] == 0.45
    for step in (10, 20):
        store.add_probe(run_id, "grad_norms", step, {"stem.conv": 0.1 * step, "fc": 2.0})
    names, positions, values = store.probe(run_id, "grad_norms")
    assert names == ["stem.conv", "fc"] and list(positions) == [10, 20]
    assert store.runs_with_probe("grad_norms") == {run_id} and store.runs_with_probe("responses") == set()
    np.testing.assert_allclose(values, [[1.0, 2.0], [2.0, 2.0]])
    store.truncate_after(run_id, step=10, epoch=0)
    assert store.steps(run_id)["step"].max() == 10 and store.epochs(run_id) == []
    assert list(store.probe(run_id, "grad_norms")[1]) == [10]


def test_live_reads_use_the_primary_key(store):
    """'Metrics since step k' must stay fast with 100 runs × 10,000 steps: an index range scan."""
    plan = (
        store._connect()
        .execute("EXPLAIN QUERY PLAN SELECT * FROM steps WHERE run_id = ? AND step > ? ORDER BY step", ("x", 5))
        .fetchall()
    )
    detail = " ".join(str(row[-1]) for row in plan)
    assert "PRIMARY KEY" in detail and "SCAN" not in detail.replace("SEARCH", "")


def test_checkpoints_keep_the_newest_and_round_trip(store):
    run_id = store.create(SPEC, CONFIG)
    net = rc.build_net(SPEC)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(torch.randn(2, 3, 32, 32)).sum().backward()
    opt.step()
    for epoch in (1, 2, 3):
        store.save_checkpoint(run_id, epoch, epoch * 10, net.state_dict(), opt.state_dict())
    files = sorted(p.name for p in store.run_dir(run_id).iterdir())
    assert files == ["epoch-0002.safetensors", "epoch-0003.safetensors"]
    model, optimizer, meta = store.load_checkpoint(run_id)
    assert meta == {"run_id": run_id, "epoch": 3, "step": 30}
    fresh = rc.build_net(SPEC)
    fresh.load_state_dict(model)
    assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), net.state_dict().values()))
    opt2 = torch.optim.SGD(fresh.parameters(), lr=0.1, momentum=0.9)
    opt2.load_state_dict(optimizer)
    first = next(iter(opt.state_dict()["state"].values()))["momentum_buffer"]
    assert torch.equal(opt2.state_dict()["state"][0]["momentum_buffer"], first)
    with pytest.raises(ValueError, match="is queued: stop it before deleting it"):
        store.delete(run_id)  # its worker would go on writing for a run that no longer exists
    assert store.run_dir(run_id).exists()
    store.set_status(run_id, "stopped")
    store.delete(run_id)
    assert not store.run_dir(run_id).exists()
    with pytest.raises(KeyError):
        store.get(run_id)


def test_a_torn_write_never_replaces_a_good_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, {"w": torch.ones(3)}, meta={"epoch": 1})
    good = path.read_bytes()

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"w": torch.zeros(3)}, meta={"epoch": 2})
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind
    model, _, meta = load_checkpoint(path)
    assert torch.equal(model["w"], torch.ones(3)) and meta["epoch"] == 1
    write_atomically(path, b"x")
    assert path.read_bytes() == b"x"


def _writer(root, run_id, offset, count):
    store = RunStore(root)
    for start in range(offset, offset + count, 10):
        store.add_steps(run_id, [{"step": s, "loss": float(s)} for s in range(start, start + 10)])
        store.set_progress(run_id, step=start)


def test_two_processes_writing_at_once_lose_nothing(store, monkeypatch):
    run_id = store.create(SPEC, CONFIG)
    other = store.create(SPEC, CONFIG)
    # A spawned child re-runs the parent's __main__ file; after an AppTest that is the last page script
    # run in this process (it crashed the child when it was the Gradients page). Give it nothing to re-run.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    ctx = mp.get_context("spawn")
    procs = [
        ctx.Process(target=_writer, args=(store.root, rid, off, 400))
        for rid, off in ((run_id, 0), (run_id, 400), (other, 0))
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert list(store.steps(run_id)["step"]) == list(range(800))
    assert len(store.steps(other)["step"]) == 400


def test_runs_of_dead_processes_become_interrupted(store):
    alive, dead = store.create(SPEC, CONFIG), store.create(SPEC, CONFIG)
    store.set_status(alive, "running", pid=os.getpid())
    ctx = mp.get_context("spawn")
    proc = ctx.Process(target=int)
    proc.start()
    proc.join()
    store.set_status(dead, "running", pid=proc.pid)
    assert store.mark_interrupted() == [dead]
    assert store.get(dead).status == "interrupted" and store.get(alive).status == "running"


def test_runs_dir_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "elsewhere"))
    assert runs_dir() == tmp_path / "elsewhere"
    assert runs_dir(tmp_path / "given") == tmp_path / "given"


def test_run_config_round_trips_and_reads_rows_of_earlier_versions(store):
    config = rc.RunConfig(rc.TrainConfig(epochs=3, lr=0.05), train_size=500, experiment="degradation-x")
    assert rc.RunConfig.from_dict(config.to_dict()) == config
    assert config.epochs == 3 and config.replace(epochs=4, test_size=100).train.epochs == 4
    # A row written before RunConfig existed: a flat dict, some TrainConfig fields missing.
    old = {"epochs": 2, "batch_size": 64, "lr": 0.02, "schedule": "cosine", "train_size": 1000, "test_size": 200}
    run = store.get(store.create(SPEC, old))
    assert (run.config.train.epochs, run.config.train.schedule, run.config.train_size) == (2, "cosine", 1000)
    assert run.config.train.momentum == 0.9 and run.config.experiment is None
    assert run.config.data_options() == {"train_size": 1000, "test_size": 200, "seed": 0}
    with pytest.raises(ValueError, match="train_size"):
        rc.RunConfig(train_size=0)
