"""Run one stored run to its end: load its data, resume from its checkpoint, train, record every event.

`execute_run` is shared by the background worker process (`run_worker`, started by the JobRunner) and
the command line's `train`/`resume`, so a run made anywhere looks the same everywhere.

A worker process starts in one of two ways (jobs.JobRunner):
    python -m resnet_core.execution.worker ROOT RUN_ID      started for that run
    python -m resnet_core.execution.worker ROOT --standby   started before its run (`standby`): it imports torch and
                                                       warms up, then reads the run's id from stdin
A standby worker is what makes a press of Train show its first point within seconds on a CPU: a fresh
interpreter spends seconds importing torch and, at the optimizer's first use, torch._dynamo (BENCHMARKS.md,
"Time to first point").
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from ..data.datasets import load_dataset, prepare_dataset
from ..data.loader import batches_per_epoch
from ..model.net import build_net
from ..store.run_store import RunStore, runs_dir
from ..training.device import describe_device, pick_device
from ..training.train import train

FLUSH_SECONDS = 0.5  # write buffered step metrics at most this often (short write transactions)
# A worker process runs this much below the server in CPU priority (os.nice): with training using every
# core, a person's clicks on a page come first (BENCHMARKS.md, "Control latency with one training run");
# background analyses sit lower still (studies/analyses.py).
WORKER_NICENESS = 5
STOP_CHECK_SECONDS = 0.5  # how often the hot loop asks the store whether to stop (and how many share the CPU)


class ThreadShare:
    """This run's share of the CPU's threads while several runs train on it at once (twins, experiments).

    Each CPU run of this machine gets `threads // n` torch threads (the first `threads % n` runs, in queue
    order, one more), so side-by-side runs use the cores without oversubscribing them: two processes with
    all the cores each were measured slower than one after another (BENCHMARKS.md, "Twins side by side —
    CPU"). `update()` recounts the runs and resizes this process's thread pool — the run's own thread
    calls it from the training loop — so when one twin ends, the other takes all the cores within a
    stop-check interval. `threads`: the pool to split; by default torch's own at start (the physical
    cores, or OMP_NUM_THREADS where set).
    """

    def __init__(self, store: RunStore, run_id: str, threads: int | None = None) -> None:
        import torch

        self.store, self.run_id = store, run_id
        self.threads = threads or torch.get_num_threads()
        self.host = socket.gethostname()
        self.current: int | None = None

    def _shares_this_cpu(self, run) -> bool:
        """Trains here on the CPU (or is about to: claimed, its worker not yet placed)."""
        return (
            run.executor in (None, "local")
            and run.node in (None, self.host)
            and (run.device is None or run.device.startswith("CPU"))
        )

    def share(self) -> int:
        ids = [r.id for r in self.store.list(["running"]) if r.id == self.run_id or self._shares_this_cpu(r)]
        if self.run_id not in ids:  # not marked running (yet, or any more): count it anyway
            ids.append(self.run_id)
        n, rank = len(ids), ids.index(self.run_id)
        return max(1, self.threads // n + (rank < self.threads % n))

    def update(self) -> int:
        """Set this process's torch threads to its share now; returns it."""
        import torch

        try:
            threads = self.share()
        except sqlite3.Error:  # a busy or locked store: keep the share for now, recount at the next check
            return self.current or torch.get_num_threads()
        if threads != self.current:
            torch.set_num_threads(threads)
            self.current = threads
        return threads


class StoreRecorder:
    """`on_event` for train(): events -> the store, step rows buffered into short transactions."""

    def __init__(self, store: RunStore, run_id: str, total_steps: int, extra: Callable | None = None) -> None:
        self.store, self.run_id, self.total_steps, self.extra = store, run_id, total_steps, extra
        self.pending: list[dict] = []
        self.last_flush = time.monotonic()
        self.progress: dict = {"epoch": 0, "step": 0, "total_steps": total_steps}
        self.diverged: dict | None = None
        self.stepped = False  # a step event has been written

    def __call__(self, event) -> None:
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
            self.flush()
        if self.extra is not None:
            self.extra(event)

    def flush(self) -> None:
        if self.pending:
            self.store.add_steps(self.run_id, self.pending)
            self.pending = []
        self.store.set_progress(self.run_id, **self.progress)
        self.last_flush = time.monotonic()


def execute_run(store: RunStore, run_id: str, extra_listener: Callable | None = None) -> str:
    """Train a stored run (resuming from its newest checkpoint) and record its final status.

    Returns the final status. Any exception ends the run `failed` with the message stored, and is
    re-raised for the caller's log.
    """
    try:
        run = store.get(run_id)
        config = run.config.train
        device = pick_device(config.device)
        share = ThreadShare(store, run_id) if device.type == "cpu" else None
        if share is not None:
            share.update()  # before the device's label (it names the threads) and before any torch work
        store.set_status(run_id, "running", pid=os.getpid(), device=describe_device(device))
        store.set_placement(run_id, "local", socket.gethostname())
        data = load_dataset(run.dataset, **run.config.data_options())
        net, start_epoch, optimizer_state, start_step = None, 0, None, 0
        note = None  # what the run's message says besides how it ended
        if store.latest_checkpoint(run_id) is not None:
            # The newest checkpoint that loads: a damaged newer one is set aside and named, not fatal.
            model_state, optimizer_state, meta, skipped = store.newest_good_checkpoint(run_id, set_aside=True)
            net = build_net(run.spec)
            net.load_state_dict(model_state)
            start_epoch, start_step = meta["epoch"], meta["step"]
            if skipped:
                note = f"resumed from epoch {start_epoch}: " + "; ".join(skipped)
                print(f"run {run_id}: {note}", file=sys.stderr)  # the worker's log, or the CLI's terminal
                store.set_status(run_id, "running", error=note, pid=os.getpid())
        store.truncate_after(run_id, step=start_step, epoch=start_epoch)  # forget a partial epoch
        total_steps = batches_per_epoch(len(data.train_labels), config.batch_size) * config.epochs
        recorder = StoreRecorder(store, run_id, total_steps, extra_listener)
        result = train(
            run.spec,
            data,
            config,
            recorder,
            net=net,
            start_epoch=start_epoch,
            optimizer_state=optimizer_state,
            should_stop=_stop_checker(store, run_id, share),
        )
    except KeyboardInterrupt as err:  # Ctrl-C, or a termination signal (see `interrupt_on_signals`)
        store.set_status(run_id, "interrupted", error=f"interrupted ({err or 'Ctrl-C'}) — resume to continue")
        raise
    except BaseException as err:
        message = f"{type(err).__name__}: {err}"
        store.set_status(run_id, "failed", error=message[:2000])
        raise
    error = note
    if result.status == "diverged":
        d = recorder.diverged or {"step": result.diverged_step, "loss": float("nan")}
        error = f"the training loss became {d['loss']:.3g} at step {d['step']}: try a smaller learning rate" + (
            f" ({note})" if note else ""
        )
    store.set_status(run_id, result.status, error=error)
    return result.status


def interrupt_on_signals(signals=(signal.SIGTERM, signal.SIGHUP)) -> None:
    """Handle these signals like Ctrl-C: `execute_run` then ends the run `interrupted` (resumable) with the
    signal's name, instead of dying `running` with no one left to say so. Signals set to be ignored
    (nohup) stay ignored; call from the main thread."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")

    for sig in signals:
        if signal.getsignal(sig) is signal.SIG_DFL:
            signal.signal(sig, interrupt)


def run_worker(root: str, run_id: str) -> None:
    """Entry point of a worker process started for its run (see jobs.JobRunner)."""
    os.nice(WORKER_NICENESS)
    _work(RunStore(root), run_id)


def standby(root: str, prepare: str | None = None) -> None:
    """Entry point of a worker process started before its run (jobs.JobRunner keeps one ready): lower its
    priority, import and warm up (`warm_up`), then wait for one line on stdin — the id of the run to train —
    and train it as `run_worker` would, its output going to the run's worker.log. An empty line or the end
    of stdin (the runner shut down, or its process is gone) ends the process without a run."""
    os.nice(WORKER_NICENESS)  # the warm-up is background work too: a page's script comes first
    warm_up()
    if prepare:
        # On a fresh install the first run would render the embedded set first (BENCHMARKS.md, "Time to first
        # point"): done now, while the person reads the app. A run handed over meanwhile waits in stdin until
        # it is done.
        try:
            prepare_dataset(prepare)
        except Exception as err:  # the run that needs the data reports it properly
            print(f"could not prepare {prepare}: {err}", file=sys.stderr)
    run_id = sys.stdin.readline().strip()
    if not run_id:
        return
    # The runner stops reading this process's stderr once it has handed over the run: the output goes to the
    # run's worker.log before anything that can fail (a damaged store, say), so its traceback is kept there.
    log = os.open(worker_log(root, run_id), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log, 1)  # what a worker started for the run writes there too (jobs.JobRunner)
    os.dup2(log, 2)
    os.close(log)
    _work(RunStore(root), run_id)


def warm_up() -> None:
    """Do now what the start of every run would otherwise wait for: torch's optimizers import torch._dynamo
    at their first use (torch._compile._disable_dynamo), as long as building the net, the first steps and
    loading the data together on a small CPU (BENCHMARKS.md, "Time to first point").
    A throwaway SGD on one tensor does it, whichever lazy imports a torch version has there."""
    import torch

    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


def worker_log(root: str | os.PathLike, run_id: str) -> Path:
    """Where a worker's output (a traceback, a resumed run's note) goes: the run's folder (RunStore.run_dir) in
    the runs folder `root`, made here — without opening the store, which may be what fails."""
    path = runs_dir(root) / run_id / "worker.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _work(store: RunStore, run_id: str) -> None:
    interrupt_on_signals()  # the runner's shutdown, or a `kill` of an orphaned worker
    try:
        execute_run(store, run_id)
    except BaseException:
        traceback.print_exc()  # the message is in the store; the traceback goes to the server's log
        raise SystemExit(1) from None


def _stop_checker(store: RunStore, run_id: str, share: ThreadShare | None = None) -> Callable[[], bool]:
    """should_stop() for train(): asks the store at most every STOP_CHECK_SECONDS (it runs every step)
    whether to stop, and resizes the run's thread share (`share`) as runs start and end beside it."""
    checked, stop = 0.0, False

    def should_stop() -> bool:
        nonlocal checked, stop
        now = time.monotonic()
        if not stop and now - checked >= STOP_CHECK_SECONDS:
            checked = now
            stop = store.stop_requested(run_id)
            if share is not None and not stop:
                share.update()
        return stop

    return should_stop


if __name__ == "__main__":  # see jobs.worker_command and jobs.standby_command
    if sys.argv[2] == "--standby":  # python -m resnet_core.execution.worker RUNS_ROOT --standby [--prepare NAME]
        standby(sys.argv[1], sys.argv[4] if sys.argv[3:4] == ["--prepare"] else None)
    else:  # python -m resnet_core.execution.worker RUNS_ROOT RUN_ID
        run_worker(sys.argv[1], sys.argv[2])
