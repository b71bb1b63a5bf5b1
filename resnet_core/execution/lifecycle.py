"""One run's life, whoever trains it: where it starts from, how it is set up, trained and recorded, and the
message it ends with. The local worker (worker.execute_run), the Ray task (ray_executor.train_task) and the
Ray driver (RayExecutor.start and its pump) are each a few lines around these steps:

    resume_point   (the side with the store)   the newest checkpoint that loads, a damaged newer one set
                                               aside and named in the run's message; what was recorded
                                               after it forgotten
    begin          (the side with the store)   the run is `running`: its process, device and placement
    set_up         (the side that trains)      its dataset (the exact subset), the net with the
                                               checkpoint's weights, the steps it will take
    train_run      (the side that trains)      train(), its events going to a StoreRecorder (locally, or
                                               on the driver when they come back from a Ray task)
    record_end     (the side with the store)   the status train() ended with, and its message
    failure        (either)                    the message of a run that raised
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

# Imported here, not where they are used: a standby worker (worker.standby) has them loaded before its run.
from ..data.datasets import ImageDataset, load_dataset
from ..data.loader import batches_per_epoch
from ..model.net import build_net
from ..model.spec import NetSpec
from ..store.config import RunConfig
from ..store.run_store import RunStore
from ..store.status import RunStatus
from ..training.train import EndEvent, TrainConfig, TrainResult, train

FLUSH_SECONDS = 0.5  # write buffered step metrics at most this often (short write transactions)
RESUME_HINT = "resume to continue from the last checkpoint"


# ------------------------------------------------------------------------------ where it starts from


@dataclass(frozen=True)
class ResumePoint:
    """Where a run (re)starts: the weights and optimizer state of a checkpoint at `epoch` / `step`, or
    nothing (epoch 0: from scratch). `note`: which newer checkpoints could not be used, for its message."""

    model_state: dict | None = None
    optimizer_state: dict | None = None
    epoch: int = 0
    step: int = 0
    note: str | None = None


def resume_point(store: RunStore, run_id: str) -> ResumePoint:
    """The run's newest checkpoint that loads (a damaged newer one is renamed `.corrupt` and named in the
    run's message at once, not fatal), with the steps, epochs and probes recorded after it forgotten (a
    partial epoch is trained again)."""
    point = ResumePoint()
    if store.latest_checkpoint(run_id) is not None:
        model_state, optimizer_state, meta, skipped = store.newest_good_checkpoint(run_id, set_aside=True)
        note = f"resumed from epoch {meta['epoch']}: " + "; ".join(skipped) if skipped else None
        point = ResumePoint(model_state, optimizer_state, meta["epoch"], meta["step"], note)
        if note:
            store.set_status(run_id, RunStatus.RUNNING, error=note, pid=os.getpid())
    store.truncate_after(run_id, step=point.step, epoch=point.epoch)
    return point


def begin(
    store: RunStore,
    run_id: str,
    device: str | None,
    executor: str,
    node: str | None,
    note: str | None = None,
) -> None:
    """Record that the run trains now: `running` for this process (which records its events), on `device`
    (its label), with `executor` ("local", "ray") on `node`; `note` stays its message."""
    store.set_status(run_id, RunStatus.RUNNING, error=note, pid=os.getpid(), device=device)
    store.set_placement(run_id, executor, node)


# ------------------------------------------------------------------------------ where it trains


@dataclass
class Setup:
    """What train() needs for one run, made where it trains."""

    spec: NetSpec
    config: TrainConfig
    data: ImageDataset
    net: nn.Module | None  # with the checkpoint's weights; None: a new one
    start_epoch: int
    optimizer_state: dict | None
    total_steps: int  # of the whole run, the epochs before `start_epoch` included


def set_up(spec: NetSpec, config: RunConfig, dataset: str, point: ResumePoint) -> Setup:
    """The run's dataset (with its exact subset, so the same mean and std), its net with the checkpoint's
    weights, and its step count."""
    data = load_dataset(dataset, **config.data_options())
    net = None
    if point.model_state is not None:
        net = build_net(spec)
        net.load_state_dict(point.model_state)
    train = config.train
    total_steps = batches_per_epoch(len(data.train_labels), train.batch_size) * train.epochs
    return Setup(spec, train, data, net, point.epoch, point.optimizer_state, total_steps)


def train_run(setup: Setup, on_event: Callable, should_stop: Callable[[], bool]) -> TrainResult:
    return train(
        setup.spec,
        setup.data,
        setup.config,
        on_event,
        net=setup.net,
        start_epoch=setup.start_epoch,
        optimizer_state=setup.optimizer_state,
        should_stop=should_stop,
    )


# ------------------------------------------------------------------------------ what is recorded


class StoreRecorder:
    """`on_event` for train(): events -> the store, step rows buffered into short transactions."""

    def __init__(self, store: RunStore, run_id: str, total_steps: int, extra: Callable | None = None) -> None:
        self.store, self.run_id, self.total_steps, self.extra = store, run_id, total_steps, extra
        self.pending: list[dict] = []
        self.last_flush = time.monotonic()
        self.progress: dict = {"epoch": 0, "step": 0, "total_steps": total_steps}
        self.diverged: dict | None = None
        self.end: EndEvent | None = None  # how train() ended, once it did
        self.stepped = False  # a step event has been written

    def __call__(self, event: Any) -> None:
        kind = event.kind
        if kind == "step":
            self.pending.append(
                {
                    "step": event.step,
                    "epoch": event.epoch,
                    "loss": event.loss,
                    "error": event.error,
                    "lr": event.lr,
                    "images_per_second": event.images_per_second,
                }
            )
            self.progress.update(step=event.step, epoch=event.epoch, images_per_second=event.images_per_second)
            # This worker's first step is written at once: the "training" phase event flushed just before
            # it, so waiting FLUSH_SECONDS would hold a new run's first point back (BENCHMARKS.md, "Time to
            # first point").
            if not self.stepped or time.monotonic() - self.last_flush >= FLUSH_SECONDS:
                self.stepped = True
                self.flush()
        elif kind == "grad_norms":
            self.store.add_probe(self.run_id, "grad_norms", event.step, event.norms)
        elif kind == "epoch":
            self.flush()
            self.store.add_epoch(self.run_id, event.to_dict())
        elif kind == "responses":
            self.store.add_probe(self.run_id, "responses", event.epoch, event.responses)
        elif kind == "checkpoint":
            self.store.save_checkpoint(self.run_id, event.epoch, event.step, event.model_state, event.optimizer_state)
        elif kind == "diverged":
            self.diverged = {"step": event.step, "loss": event.loss}
        elif kind == "phase":  # starting, training, evaluating: written at once, as pages show it
            self.progress.update(phase=event.phase, step=event.step, epoch=event.epoch)
            self.flush()
        elif kind == "end":
            self.end = event
            self.flush()
        if self.extra is not None:
            self.extra(event)

    def flush(self) -> None:
        if self.pending:
            self.store.add_steps(self.run_id, self.pending)
            self.pending = []
        self.store.set_progress(self.run_id, **self.progress)
        self.last_flush = time.monotonic()


def end_message(status: str, diverged: dict | None, step: int, note: str | None = None) -> str | None:
    """The stored message of a run train() ended with `status`: for a diverged run, the loss and the step
    where it became infinite or NaN (`diverged`: the DivergedEvent's, else `step`) and what to do; else the
    run's `note` (a skipped checkpoint), if any."""
    if status != RunStatus.DIVERGED:
        return note
    d = diverged or {"step": step, "loss": float("nan")}
    return f"the training loss became {d['loss']:.3g} at step {d['step']}: try a smaller learning rate" + (
        f" ({note})" if note else ""
    )


def record_end(store: RunStore, run_id: str, recorder: StoreRecorder, note: str | None = None) -> str:
    """Store how train() ended the run (the end event the recorder saw) with its message; returns the status."""
    end = recorder.end
    if end is None:
        raise RuntimeError("the training ended without reporting how")
    store.set_status(run_id, end.status, error=end_message(end.status, recorder.diverged, end.step, note))
    return end.status


def failure(err: BaseException) -> str:
    """The stored message of a run whose training raised `err`."""
    return f"{type(err).__name__}: {err}"[:2000]
