"""The ray executor on a local Ray cluster this module starts (2 CPUs, a few seconds): a sweep of tiny runs
completes into the store, stop, a killed or cancelled task and its resume, `sweep --executor ray` and
`runs --json`. Select with `-m ray`; skipped where Ray is not installed (`pip install 'resnet-lab[ray]'`)."""

import json
import os
import signal

import pytest

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # before Ray is imported: no usage reports from tests
ray = pytest.importorskip("ray")

import helpers  # noqa: E402
from helpers import tiny_cli, tiny_run  # noqa: E402

import resnet_core as rc  # noqa: E402
from resnet_core.cli.main import main  # noqa: E402
from resnet_core.execution.jobs import JobRunner  # noqa: E402
from resnet_core.execution.ray_executor import RayExecutor, runtime_env  # noqa: E402
from resnet_core.store.config import RunConfig  # noqa: E402
from resnet_core.studies.sweeps import plan_sweep, sweep_runs, sweep_table  # noqa: E402

pytestmark = pytest.mark.ray

SPEC = rc.NetSpec(depth=8, width=4)


def tiny(data_dir, **changes) -> RunConfig:
    """ResNet-8 sized work (helpers.tiny_run: 200 images, batches of 50, 4 steps an epoch), two epochs, every
    probe on."""
    return tiny_run(data_dir, epochs=2, log_every=2, grad_norm_every=3, probe_batch_size=16).replace(**changes)


@pytest.fixture(scope="module")
def cluster(shapes_root):
    """A local Ray cluster for this module (the executor finds it initialised and uses it). The embedded
    dataset is rendered here once, not by two tasks at the same time (each node renders its own copy)."""
    rc.load_dataset("shapes", shapes_root, test_size=10)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env=runtime_env())
    yield
    ray.shutdown()


@pytest.fixture
def runner(cluster, tmp_path):
    runner = JobRunner(tmp_path / "runs", executor="ray", poll_seconds=0.05)
    yield runner
    runner.shutdown()


def wait_for(predicate, timeout=180.0, what="the condition"):
    helpers.wait_for(predicate, timeout, what)


def assert_recorded_once(store, run_id, epochs, steps_per_epoch=4):
    assert [e["epoch"] for e in store.epochs(run_id)] == list(range(1, epochs + 1))
    steps = list(store.steps(run_id)["step"])
    assert steps == sorted(set(steps)) and steps[-1] == epochs * steps_per_epoch
    assert list(store.probe(run_id, "responses")[1]) == list(range(1, epochs + 1))
    assert store.latest_checkpoint(run_id)[0] == epochs


def test_a_sweep_of_tiny_runs_completes_into_the_store(runner, shapes_root):
    sweep, plan = plan_sweep([8], tiny(shapes_root), seeds=2, twins=True, base=SPEC)
    ids = [runner.submit(spec, config, name=name) for spec, config, name in plan]
    assert runner.wait_idle(timeout=300)
    store = runner.store
    assert [r.id for r in sweep_runs(store, sweep)] == ids
    for run_id in ids:
        run = store.get(run_id)
        assert run.status == "completed", run.error
        assert run.executor == "ray" and run.node and run.device.startswith("CPU")
        assert_recorded_once(store, run_id, epochs=2)
        names, _, values = store.probe(run_id, "grad_norms")
        assert names[0] == "stem.conv" and values.shape[1] == len(names)
    (row,) = sweep_table(store, [store.get(i) for i in ids])
    assert len(row.plain_train.values) == len(row.residual_test.values) == 2
    # Two seeds are two different runs, and the weights came back through the checkpoints.
    first, second = (store.load_checkpoint(i)[0]["fc.weight"] for i in ids[:2])
    assert first.shape == (10, 16) and not first.equal(second)


def test_stop_mid_run_ends_stopped_and_resumable(runner, shapes_root):
    run_id = runner.submit(SPEC, tiny(shapes_root, epochs=500))
    store = runner.store
    wait_for(lambda: store.latest_checkpoint(run_id) is not None, what="a first checkpoint")
    assert store.get(run_id).pid == os.getpid()  # this process (the driver) records it; no remote one opens the store
    runner.stop(run_id)
    wait_for(lambda: store.get(run_id).status != "running", timeout=60, what="the stop")
    run = store.get(run_id)
    assert run.status == "stopped", run.error
    assert run.resumable and not run.stop_requested
    assert len(store.epochs(run_id)) < 500 and store.latest_checkpoint(run_id)[0] >= 1


def test_a_killed_or_cancelled_task_is_interrupted_and_resumes_from_its_checkpoint(runner, shapes_root):
    # Enough epochs that the task is still training when it is killed: with 24, a fast moment finished the
    # run between seeing its first checkpoint and the kill (it was recorded "completed").
    epochs = 120
    run_id = runner.submit(SPEC, tiny(shapes_root, epochs=epochs))
    store = runner.store

    def interrupt(how):
        wait_for(
            lambda: (
                store.get(run_id).status == "running"
                and runner.remote.info(run_id)
                and (store.latest_checkpoint(run_id) or (0,))[0] >= 1
            ),
            what="a checkpoint",
        )
        if how == "kill":  # the task's worker process dies (out of memory, a lost node, kill -9)
            os.kill(runner.remote.info(run_id)["pid"], signal.SIGKILL)
        else:
            runner.remote.cancel(run_id)  # ray.cancel(force=True)
        wait_for(lambda: store.get(run_id).status != "running", timeout=60, what="the task's end")
        run = store.get(run_id)
        assert run.status == "interrupted" and "Ray task was lost" in run.error, (run.status, run.error)
        assert store.latest_checkpoint(run_id)[0] < epochs
        runner.resume(run_id)
        wait_for(lambda: store.get(run_id).status != "queued", timeout=60, what="the resume to start")

    interrupt("kill")
    interrupt("cancel")
    assert runner.wait_idle(timeout=300)
    run = store.get(run_id)
    assert run.status == "completed", run.error
    assert_recorded_once(store, run_id, epochs)


def test_a_run_that_raises_fails_with_its_message(runner, tmp_path):
    run_id = runner.submit(SPEC, tiny(tmp_path / "no-data"), dataset="cifar10")
    assert runner.wait_idle(timeout=120)
    run = runner.store.get(run_id)
    assert run.status == "failed" and "DatasetUnavailable" in run.error, run.error


def test_the_sweep_command_on_ray_and_runs_json(cluster, tmp_path, shapes_root, capsys):
    runs = str(tmp_path / "runs")
    code = main(tiny_cli("sweep", shapes_root, runs, "--twins", executor="ray", depths=8, seeds=1, width=4))
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "ray executor" in out.out and "depth  plain train %" in out.out
    assert main(["runs", "--json", "--runs-dir", runs]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 2
    assert {(r["status"], r["executor"]) for r in listed} == {("completed", "ray")}
    assert all(r["node"] and len(r["epochs"]) == 1 for r in listed)


def test_an_executor_object_takes_the_resources_per_run(cluster, tmp_path, shapes_root):
    executor = RayExecutor(cpus_per_run=2)
    runner = JobRunner(tmp_path / "runs", executor=executor, poll_seconds=0.05)
    try:
        assert runner.executor == "ray" and executor.capacity() == 1  # two CPUs, two per run
        run_id = runner.submit(SPEC, tiny(shapes_root, epochs=1))
        assert runner.wait_idle(timeout=120)
        run = runner.store.get(run_id)
        assert run.status == "completed" and "2 threads" in run.device, run.device
    finally:
        runner.shutdown()
