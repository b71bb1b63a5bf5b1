"""One run lifecycle (execution/lifecycle.py) for the local worker, the Ray task and the Ray driver: where a
run resumes from, its set-up, the message it ends with — the same whoever trains it — and the one "trains
on this CPU" rule (execution/cpu_share.py)."""

import os
import socket
import types

import pytest
import torch
from helpers import tiny_run as tiny

import resnet_core as rc
from resnet_core.execution import lifecycle
from resnet_core.execution.cpu_share import cpu_share, trains_here
from resnet_core.execution.worker import execute_run
from resnet_core.store.config import RunConfig
from resnet_core.store.run_store import RunStore
from resnet_core.training.train import DivergedEvent, EndEvent

SPEC = rc.NetSpec(depth=8, width=4)


def diverging(data_dir) -> RunConfig:
    return tiny(data_dir).replace(train=tiny(data_dir).train.replace(lr=1e6))


def test_the_divergence_message_names_the_loss_the_step_and_what_to_do():
    assert lifecycle.end_message("diverged", {"step": 7, "loss": 123456.789}, 9) == (
        "the training loss became 1.23e+05 at step 7: try a smaller learning rate"
    )
    assert lifecycle.end_message("diverged", None, 9, note="resumed from epoch 2: …").startswith(
        "the training loss became nan at step 9: try a smaller learning rate (resumed from epoch 2"
    )
    assert lifecycle.end_message("completed", None, 9, note="a note") == "a note"
    assert lifecycle.end_message("stopped", None, 9) is None


def test_record_end_stores_what_the_recorder_saw_and_refuses_a_run_that_did_not_end(tmp_path):
    store = RunStore(tmp_path / "runs")
    run_id = store.create(SPEC, {}, status="running")
    recorder = lifecycle.StoreRecorder(store, run_id, total_steps=10)
    with pytest.raises(RuntimeError, match="without reporting how"):
        lifecycle.record_end(store, run_id, recorder)
    recorder(DivergedEvent(3, 0.3, float("inf")))
    recorder(EndEvent("diverged", 0, 4, 1.0))
    assert lifecycle.record_end(store, run_id, recorder) == "diverged"
    run = store.get(run_id)
    assert run.status == "diverged" and run.error == lifecycle.end_message("diverged", {"step": 3, "loss": 1e999}, 4)
    assert run.error == "the training loss became inf at step 3: try a smaller learning rate"


def test_a_resume_point_is_the_newest_checkpoint_with_what_came_after_it_forgotten(tmp_path, shapes_root):
    store = RunStore(tmp_path / "runs")
    run_id = store.create(SPEC, tiny(shapes_root), status="stopped")
    assert lifecycle.resume_point(store, run_id) == lifecycle.ResumePoint()  # none yet: from scratch
    torch.manual_seed(1)
    net = rc.build_net(SPEC)
    store.save_checkpoint(run_id, 1, 4, net.state_dict(), None)
    store.add_steps(run_id, [{"step": s} for s in range(1, 7)])
    store.add_epoch(run_id, {"epoch": 2, "step": 8})
    point = lifecycle.resume_point(store, run_id)
    assert (point.epoch, point.step, point.note) == (1, 4, None)
    assert list(store.steps(run_id)["step"]) == [1, 2, 3, 4] and store.epochs(run_id) == []
    setup = lifecycle.set_up(SPEC, tiny(shapes_root), "shapes", point)
    assert setup.start_epoch == 1 and setup.total_steps == 4  # 200 images in batches of 50, one epoch
    assert torch.equal(setup.net.state_dict()["fc.weight"], net.state_dict()["fc.weight"])


def test_trains_here_is_one_rule_for_threads_and_for_slots():
    host = socket.gethostname()

    def run(executor="local", node=host, device="CPU (2 cores, 2 threads)"):
        return types.SimpleNamespace(executor=executor, node=node, device=device)

    assert trains_here(run()) and trains_here(run(executor=None, node=None, device=None))  # claimed, not placed
    assert not trains_here(run(node="elsewhere")) and not trains_here(run(executor="ray", node=f"{host} (ip)"))
    assert not trains_here(run(device="NVIDIA H200 (CUDA)"))  # not its CPU…
    assert trains_here(run(device="NVIDIA H200 (CUDA)"), cpu=False)  # …but this machine's: a runner's slot
    assert trains_here(run(node="box"), host="box")


def test_the_server_and_the_runs_split_the_cores_by_one_rule(tmp_path):
    store = RunStore(tmp_path / "runs")
    assert cpu_share(store, None, 4) == 4  # nothing trains: the server keeps them all
    first = store.create(SPEC, {}, status="running", device="CPU (4 cores)")
    # A run's share counts the runs (the server's few milliseconds of work do not hold a run back); the
    # server's counts itself as one more party.
    assert (cpu_share(store, first, 4), cpu_share(store, None, 4)) == (4, 2)
    second = store.create(SPEC, {}, status="running", device=None)
    assert [cpu_share(store, i, 5) for i in (first, second, None)] == [3, 2, 1]  # queue order, the server last
    store.create(SPEC, {}, status="running", device="NVIDIA H200 (CUDA)")  # its own device: not counted
    assert cpu_share(store, None, 1) == 1  # never none


@pytest.mark.ray
def test_a_local_and_a_ray_run_end_with_the_same_divergence_message(tmp_path, shapes_root):
    """Both executors record a run's end through lifecycle.record_end: the same words, to the digit."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray = pytest.importorskip("ray")
    from resnet_core.execution.jobs import JobRunner
    from resnet_core.execution.ray_executor import runtime_env

    rc.load_dataset("shapes", shapes_root, test_size=10)  # rendered once, before two processes need it
    store = RunStore(tmp_path / "runs")
    local = store.create(SPEC, diverging(shapes_root), dataset="shapes")
    assert execute_run(store, local) == "diverged"

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, runtime_env=runtime_env())
    runner = JobRunner(tmp_path / "runs", executor="ray", poll_seconds=0.05)
    try:
        remote = runner.submit(SPEC, diverging(shapes_root), dataset="shapes")
        assert runner.wait_idle(timeout=300)
    finally:
        runner.shutdown()
        if started_here:
            ray.shutdown()
    ran_local, ran_remote = store.get(local), store.get(remote)
    assert (ran_local.executor, ran_remote.executor) == ("local", "ray")
    assert ran_local.status == ran_remote.status == "diverged"
    assert ran_local.error == ran_remote.error, (ran_local.error, ran_remote.error)
    assert ran_local.error.startswith("the training loss became ") and "try a smaller learning rate" in ran_local.error
