"""A damaged newest checkpoint (torn, truncated, or bytes changed) is detected by its checksum or its format,
and the run resumes from the newest checkpoint that loads, saying so — not `failed` and stuck."""

import pytest
import torch

import resnet_core as rc
from resnet_core.execution import worker
from resnet_core.execution.worker import execute_run
from resnet_core.store.run_store import RunStore
from resnet_core.training.checkpoints import CheckpointCorrupt, load_checkpoint, save_checkpoint

SPEC = rc.NetSpec(depth=8, width=4)


def state(value: float) -> dict[str, torch.Tensor]:
    return {"w": torch.full((64, 64), value), "b": torch.arange(5, dtype=torch.bfloat16), "n": torch.tensor(3)}


def flip_a_tensor_byte(path) -> None:
    data = bytearray(path.read_bytes())
    data[-7] ^= 0x40  # inside the last tensor's bytes: the file still parses
    path.write_bytes(bytes(data))


def test_changed_tensor_bytes_fail_the_checksum(tmp_path):
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, state(1.0), meta={"epoch": 1})
    model, _, meta = load_checkpoint(path)
    assert torch.equal(model["w"], state(1.0)["w"]) and meta == {"epoch": 1}
    flip_a_tensor_byte(path)
    with pytest.raises(CheckpointCorrupt, match="checksum"):
        load_checkpoint(path)
    path.write_bytes(path.read_bytes()[:-100])  # truncated
    with pytest.raises(CheckpointCorrupt, match=str(path.name)):
        load_checkpoint(path)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_the_store_falls_back_to_the_newest_checkpoint_that_loads(tmp_path, damage):
    store = RunStore(tmp_path / "runs")
    run_id = store.create(SPEC, {}, status="stopped")
    store.save_checkpoint(run_id, 1, 10, state(1.0))
    newest = store.save_checkpoint(run_id, 2, 20, state(2.0))
    if damage == "truncate":
        newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    else:
        flip_a_tensor_byte(newest)
    model, _, meta = store.load_checkpoint(run_id)
    assert meta["epoch"] == 1 and torch.equal(model["w"], state(1.0)["w"])


def test_a_run_resumes_past_a_truncated_newest_checkpoint(tmp_path, shapes_root, monkeypatch):
    # The worker asks the store about stops at most every STOP_CHECK_SECONDS; on a fast machine epoch 3 of this
    # tiny run ends inside that window (CI saw 'completed'), so ask at every step here.
    monkeypatch.setattr(worker, "STOP_CHECK_SECONDS", 0.0)
    store = RunStore(tmp_path / "runs")
    config = {
        "epochs": 3,
        "batch_size": 50,
        "lr": 0.05,
        "train_size": 200,
        "test_size": 100,
        "log_every": 2,
        "grad_norm_every": 0,
        "probe_batch_size": 0,
        "data_dir": str(shapes_root),
    }
    run_id = store.create(SPEC, config)

    def stop_after_epoch_2(event) -> None:
        if event.kind == "checkpoint" and event.epoch == 2:
            store.request_stop(run_id)

    assert execute_run(store, run_id, extra_listener=stop_after_epoch_2) == "stopped"
    epoch, _, path = store.latest_checkpoint(run_id)
    assert epoch == 2
    path.write_bytes(path.read_bytes()[:1000])  # a torn copy, a full disk, a crash of an older version
    assert execute_run(store, run_id) == "completed"
    run = store.get(run_id)
    assert run.status == "completed"
    assert "epoch 2" in run.error and "epoch 1" in run.error  # says what it skipped and where it resumed
    assert [e["epoch"] for e in store.epochs(run_id)] == [1, 2, 3]
    kept = list(path.parent.glob("*.corrupt"))
    assert len(kept) == 1 and kept[0].stat().st_size == 1000  # the damaged file is kept for a look, not loaded


def test_when_no_checkpoint_loads_the_store_says_so(tmp_path):
    store = RunStore(tmp_path / "runs")
    run_id = store.create(SPEC, {}, status="stopped")
    for epoch in (1, 2):
        path = store.save_checkpoint(run_id, epoch, 10 * epoch, state(float(epoch)))
        path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(CheckpointCorrupt, match="no checkpoint loads.*epoch 2.*epoch 1"):
        store.newest_good_checkpoint(run_id)
