"""The `ray` executor: runs train as Ray tasks on a cluster; this process (the driver) alone writes the store.

    driver (JobRunner, in the app or the CLI)                 a Ray worker on some node
    claim a queued run; read its newest checkpoint file  -->  train_task(payload, control): a streaming
    (bytes) and forget what came after it                     generator task (num_returns="streaming")
                                                              load_dataset (shapes: rendered on the node)
                                                              build the net, load the checkpoint, train()
    pump thread: for each batch the task yields          <--  yields lists of events as plain dicts:
    StoreRecorder -> RunStore (as a local worker would)       steps, epochs, grad norms, responses,
                                                              checkpoints (safetensors bytes), the end
    stop: store.request_stop -> RunControl actor flag    -->  polled every STOP_CHECK_SECONDS; train()
                                                              then ends `stopped` at its next step

The first thing a task yields says where it runs (host, node, pid, device). A task that raises ends the
run `failed` with its message; a task that dies (its worker killed, its node lost, `ray.cancel(force=True)`,
Ray's out-of-memory killer) ends it `interrupted`, and resuming sends the newest checkpoint to a new task.
Tasks are never retried by Ray itself (max_retries=0): the run store, not Ray, decides what runs again.

The nodes need Python, torch and Ray at the driver's versions (`pip install 'resnet-lab[ray]'`); the
driver's own `resnet_core` is shipped to them as a runtime_env py_module, so its code is what runs.
Datasets are never sent through the object store: `shapes` is rendered from its seed on each node, and
CIFAR must already be on every node (its data folder, or RESNET_LAB_DATA there).
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..store.run_store import Run, RunStore
from ..training.train import (
    CheckpointEvent,
    DivergedEvent,
    EndEvent,
    EpochEvent,
    GradNormsEvent,
    PhaseEvent,
    ResponsesEvent,
    StepEvent,
)
from .lifecycle import (
    RESUME_HINT,
    ResumePoint,
    StoreRecorder,
    begin,
    failure,
    record_end,
    resume_point,
    set_up,
    train_run,
)

if TYPE_CHECKING:  # Ray is optional at run time (the `ray` extra); the type check has it (the dev install)
    from ray import ObjectRefGenerator

log = logging.getLogger(__name__)

STOP_CHECK_SECONDS = 0.5  # how often a task asks the control actor whether to stop
CONTROL_ACTOR = "resnet-lab-run-control"  # one per driver process (named in the job's own namespace)
PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)  # resnet_core, shipped to the nodes

EVENT_TYPES = {
    cls.kind: cls
    for cls in (
        StepEvent,
        GradNormsEvent,
        EpochEvent,
        ResponsesEvent,
        CheckpointEvent,
        DivergedEvent,
        EndEvent,
        PhaseEvent,
    )
}
_DONE = object()


class RayUnavailable(ValueError):
    """Ray is not installed, or the cluster cannot be reached (a ValueError: the CLI exits 2 with it)."""


# ------------------------------------------------------------------------------ events over the wire


def encode_event(event) -> dict:
    """A training event as a plain dict; a checkpoint's tensors as safetensors bytes (never pickled)."""
    if event.kind == "checkpoint":
        from ..training.checkpoints import checkpoint_bytes

        data = checkpoint_bytes(event.model_state, event.optimizer_state, {"epoch": event.epoch, "step": event.step})
        return {"kind": "checkpoint", "epoch": event.epoch, "step": event.step, "data": data}
    return event.to_dict()


def decode_event(item: dict):
    """Inverse of `encode_event`: the event train() emitted, for StoreRecorder."""
    kind = item["kind"]
    if kind == "checkpoint":
        from ..training.checkpoints import read_checkpoint_bytes

        model_state, optimizer_state, _ = read_checkpoint_bytes(item["data"])
        assert optimizer_state is not None, "train() checkpoints the optimizer with the net"
        return CheckpointEvent(item["epoch"], item["step"], model_state, optimizer_state)
    return EVENT_TYPES[kind](**{k: v for k, v in item.items() if k != "kind"})


# ------------------------------------------------------------------------------ on the node


class RunControl:
    """A tiny actor: which task attempts were asked to stop (tokens: one per attempt of a run)."""

    def __init__(self) -> None:
        self.stops: set[str] = set()

    def stop(self, token: str) -> None:
        self.stops.add(token)

    def should_stop(self, token: str) -> bool:
        return token in self.stops

    def forget(self, token: str) -> None:
        self.stops.discard(token)


def train_task(payload: dict, control) -> Iterator[list[dict]]:
    """The Ray task (a streaming generator): train one run, yielding its events in batches.

    `payload`: run_id, token, spec and config (their stored dicts), dataset, checkpoint (bytes or None).
    """
    import ray
    import torch

    from ..model.spec import NetSpec
    from ..store.config import RunConfig
    from ..training.checkpoints import read_checkpoint_bytes
    from ..training.device import describe_device, pick_device

    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
    if cpus:
        torch.set_num_threads(max(1, int(cpus)))  # what Ray gave this task, not the node's every core
    spec = NetSpec.from_dict(payload["spec"])
    config = RunConfig.from_dict(payload["config"])
    device = pick_device(config.train.device)
    point = ResumePoint()
    if payload["checkpoint"] is not None:  # the driver's resume_point, as safetensors bytes
        model_state, optimizer_state, meta = read_checkpoint_bytes(payload["checkpoint"])
        point = ResumePoint(model_state, optimizer_state, meta["epoch"], meta["step"])
    setup = set_up(spec, config, payload["dataset"], point)
    yield [
        {
            "kind": "started",
            "host": socket.gethostname(),
            "ip": ray.util.get_node_ip_address(),
            "pid": os.getpid(),
            "node_id": ray.get_runtime_context().get_node_id(),
            "device": describe_device(device),
            "total_steps": setup.total_steps,
        }
    ]

    events: queue.Queue = queue.Queue()
    stop = threading.Event()
    outcome: dict = {}

    def work() -> None:  # train() reports through a callback; the generator yields from this thread's queue
        try:
            train_run(setup, lambda event: events.put(encode_event(event)), should_stop=stop.is_set)
        except BaseException as err:  # re-raised below, in the task's own thread
            outcome["error"] = err
        finally:
            events.put(_DONE)

    thread = threading.Thread(target=work, name="resnet-lab-train", daemon=True)
    thread.start()
    done = False
    while not done:
        batch = []
        try:
            item = events.get(timeout=STOP_CHECK_SECONDS)
            while True:
                if item is _DONE:
                    done = True
                    break
                batch.append(item)
                item = events.get_nowait()
        except queue.Empty:
            pass
        if batch:
            yield batch
        if not done and not stop.is_set() and _asked_to_stop(control, payload["token"]):
            stop.set()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]


def _asked_to_stop(control, token: str) -> bool:
    import ray

    try:
        return bool(ray.get(control.should_stop.remote(token), timeout=10))
    except Exception:  # the driver (and its actor) is gone, or slow: keep training; Ray ends orphaned tasks
        return False


# ------------------------------------------------------------------------------ the driver


@dataclass
class _Remote:
    token: str
    generator: ObjectRefGenerator
    thread: threading.Thread
    info: dict = field(default_factory=dict)  # what the task said when it started: host, ip, pid, device
    stop_sent: bool = False
    note: str | None = None  # what the run's message says besides how it ended (a skipped checkpoint)


def runtime_env() -> dict:
    """The job's runtime_env: this `resnet_core` shipped to every node (a job-level option of `ray.init`;
    a driver that calls `ray.init` itself passes it too, or installs resnet-lab on the nodes)."""
    return {"py_modules": [PACKAGE_DIR], "excludes": ["__pycache__"], "env_vars": {"RAY_USAGE_STATS_ENABLED": "0"}}


def import_ray():
    """`ray`, or RayUnavailable saying how to install it."""
    try:
        import ray
    except ImportError:
        raise RayUnavailable(
            "the ray executor needs Ray: pip install 'resnet-lab[ray]' (or `pip install ray`)"
        ) from None
    return ray


class RayExecutor:
    """Runs as Ray tasks; see the module docstring. `address`: a cluster's address (`ray start --head`
    prints it), "auto", or None: env RAY_ADDRESS, else a local cluster started here."""

    name = "ray"

    def __init__(self, address: str | None = None, cpus_per_run: float = 1, gpus_per_run: float = 0) -> None:
        if cpus_per_run <= 0 or gpus_per_run < 0:
            raise ValueError(f"cpus per run must be > 0 and gpus per run >= 0, got {cpus_per_run}, {gpus_per_run}")
        self.address, self.cpus_per_run, self.gpus_per_run = address, cpus_per_run, gpus_per_run
        self.store: RunStore | None = None
        self._runs: dict[str, _Remote] = {}
        self._ended: list[str] = []
        self._lock = threading.Lock()
        self._control: Any = None  # the RunControl actor's handle (Ray builds its methods at run time)
        self._owns_ray = False

    def attach(self, store: RunStore) -> None:
        self.store = store

    # --- connecting ------------------------------------------------------------------------------
    def connect(self) -> None:
        """Join (or start) the cluster once; RayUnavailable if it cannot be reached."""
        if self._control is not None:
            return
        ray = import_ray()
        os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # before ray.init: no usage reports, here or by a new head
        if not ray.is_initialized():
            from . import ray_connect

            address = self.address or os.environ.get("RAY_ADDRESS") or None
            options = {"log_to_driver": False, "runtime_env": runtime_env()}
            if address is None:
                options["include_dashboard"] = False
            try:  # ray_connect: a cluster that cannot be joined is one sentence naming the fix
                ray_connect.connect(lambda **o: _init_ray(ray, **o), address, **options)
            except ray_connect.RayConnectError as err:
                raise RayUnavailable(str(err)) from err
            self._owns_ray = True
        actor = ray.remote(num_cpus=0, max_restarts=0)(RunControl)
        self._control = actor.options(name=CONTROL_ACTOR, get_if_exists=True).remote()

    def _attached_store(self) -> RunStore:
        if self.store is None:
            raise RuntimeError("attach(store) first: the JobRunner attaches its store before it starts runs")
        return self.store

    def capacity(self) -> int:
        """Runs the cluster can train at once with this executor's resources per run (at least one)."""
        self.connect()
        resources = import_ray().cluster_resources()
        fits = resources.get("CPU", 0) // self.cpus_per_run
        if self.gpus_per_run:
            fits = min(fits, resources.get("GPU", 0) // self.gpus_per_run)
        return max(1, int(fits))

    # --- the executor interface (jobs.JobRunner) ------------------------------------------------
    def start(self, run: Run) -> None:
        """Send a claimed run (status `running`, pid = this process) to the cluster."""
        self.connect()
        from ..training.checkpoints import checkpoint_bytes

        store = self._attached_store()
        # As a local worker: the newest checkpoint that loads, sent to the task as safetensors bytes.
        point = resume_point(store, run.id)
        checkpoint = None
        if point.model_state is not None:
            meta = {"epoch": point.epoch, "step": point.step}
            checkpoint = checkpoint_bytes(point.model_state, point.optimizer_state, meta)
        store.set_placement(run.id, self.name, None)
        token = f"{run.id}:{secrets.token_hex(4)}"
        payload = {
            "run_id": run.id,
            "token": token,
            "spec": run.spec.to_dict(),
            "config": run.config.to_dict(),
            "dataset": run.dataset,
            "checkpoint": checkpoint,
        }
        task = _remote_train_task().options(
            num_returns="streaming",
            max_retries=0,
            num_cpus=self.cpus_per_run,
            num_gpus=self.gpus_per_run,
            name=f"resnet-lab {run.spec.name} {run.id}",
        )
        generator = task.remote(payload, self._control)
        thread = threading.Thread(target=self._pump, args=(run.id,), name=f"resnet-lab-ray-{run.id}", daemon=True)
        with self._lock:
            self._runs[run.id] = _Remote(token, generator, thread, note=point.note)
        thread.start()

    def running(self) -> list[str]:
        with self._lock:
            return list(self._runs)

    def info(self, run_id: str) -> dict:
        """What a running task said about itself: host, ip, pid, node_id, device (empty until it starts)."""
        with self._lock:
            remote = self._runs.get(run_id)
            return dict(remote.info) if remote else {}

    def request_stop(self, run_id: str) -> None:
        with self._lock:
            remote = self._runs.get(run_id)
            if remote is None or remote.stop_sent:
                return
            remote.stop_sent = True
        self._control.stop.remote(remote.token)

    def finished(self) -> list[tuple[str, str, str]]:
        """(run id, status, error) for pumps that ended; the runner records them only if a run is still
        `running` (a pump records its run's end itself, so this is the fallback for a pump that crashed)."""
        with self._lock:
            ended, self._ended = self._ended, []
        return [(run_id, "failed", "the driver lost track of its Ray task") for run_id in ended]

    def cancel(self, run_id: str) -> None:
        """Kill a run's task now (`ray.cancel(force=True)`): the run ends `interrupted`, resumable."""
        with self._lock:
            remote = self._runs.get(run_id)
        if remote is not None:
            import_ray().cancel(remote.generator, force=True)

    def shutdown(self, kill: bool = True) -> None:
        """Cancel every task (a Ray task cannot outlive its driver anyway): their runs end `interrupted`; and
        leave a cluster this executor started. With kill=False, nothing: running tasks go on being recorded
        while this process lives, and the executor can serve another runner."""
        if not kill:
            return
        with self._lock:
            remotes = list(self._runs.items())
        for run_id, _ in remotes:
            try:
                self.cancel(run_id)
            except Exception:  # the cluster is gone already
                log.exception("could not cancel the Ray task of run %s", run_id)
        for _, remote in remotes:
            remote.thread.join(timeout=30)
        if self._owns_ray:
            import_ray().shutdown()
            self._owns_ray = False
        self._control = None

    # --- the pump: a task's events -> the store -------------------------------------------------
    def _pump(self, run_id: str) -> None:
        ray = import_ray()
        store = self._attached_store()
        with self._lock:
            remote = self._runs[run_id]
        recorder: StoreRecorder | None = None
        outcome: tuple[str, str] | None = None  # (status, message) of a task that did not end by itself
        try:
            try:
                for ref in remote.generator:
                    for item in ray.get(ref):
                        if item["kind"] == "started":
                            remote.info = {k: v for k, v in item.items() if k != "kind"}
                            node = f"{item['host']} ({item['ip']})"
                            begin(store, run_id, item["device"], self.name, node, remote.note)
                            recorder = StoreRecorder(store, run_id, item["total_steps"])
                            continue
                        if recorder is None:
                            raise RuntimeError("the Ray task sent events before it said it had started")
                        recorder(decode_event(item))
                if recorder is None or recorder.end is None:
                    raise RuntimeError("the Ray task ended without reporting how")
            except ray.exceptions.RayTaskError as err:  # the training itself raised: as a local worker would
                outcome = "failed", failure(getattr(err, "cause", None) or err)
            except ray.exceptions.RayError as err:  # the task died: worker killed, node lost, cancelled, OOM
                if recorder is not None:
                    recorder.flush()
                outcome = "interrupted", f"the Ray task was lost ({type(err).__name__}) — {RESUME_HINT}"
            except Exception as err:  # the store could not take an event: end the task, say why
                log.exception("recording run %s from its Ray task failed", run_id)
                ray.cancel(remote.generator, force=True)
                outcome = "failed", f"the driver could not record the run: {failure(err)}"[:2000]
            try:
                if outcome is not None:
                    store.set_status(run_id, outcome[0], error=outcome[1])
                elif recorder is not None:  # train() ended it: recorded as a local worker records it
                    record_end(store, run_id, recorder, remote.note)
            except KeyError:  # deleted meanwhile
                pass
        except BaseException:
            with self._lock:
                self._ended.append(run_id)
            raise
        finally:
            with self._lock:
                self._runs.pop(run_id, None)
            try:
                self._control.forget.remote(remote.token)
            except Exception:  # shut down meanwhile
                pass


_REMOTE: dict = {}


def _remote_train_task():
    """`train_task` as a Ray remote function, made once per process (each one is registered with the cluster)."""
    if "train" not in _REMOTE:
        _REMOTE["train"] = import_ray().remote(train_task)
    return _REMOTE["train"]


def _init_ray(ray, **options) -> None:
    """`ray.init`, from a thread that lives as long as this process when not called from the main one.

    A local cluster's processes (GCS, raylet) are started with PR_SET_PDEATHSIG, which fires when the
    *thread* that started them ends: started from a JobRunner's or a Streamlit script's thread, they would
    die with it."""
    if threading.current_thread() is threading.main_thread():
        ray.init(**options)
        return
    started, failure = threading.Event(), []

    def keeper() -> None:
        try:
            ray.init(**options)
        except BaseException as err:  # handed to the caller
            failure.append(err)
        finally:
            started.set()
        threading.Event().wait()  # never returns: the cluster's processes die with this thread

    threading.Thread(target=keeper, name="resnet-lab-ray", daemon=True).start()
    started.wait()
    if failure:
        raise failure[0]
