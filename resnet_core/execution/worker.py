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
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from ..data.datasets import prepare_dataset
from ..store.run_store import RunStore, runs_dir
from ..training.device import describe_device, pick_device
from .cpu_share import ThreadShare
from .lifecycle import StoreRecorder, begin, failure, record_end, resume_point, set_up, train_run

__all__ = ["StoreRecorder", "ThreadShare", "execute_run", "run_worker", "standby", "warm_up", "worker_log"]

# A worker process runs this much below the server in CPU priority (os.nice): with training using every
# core, a person's clicks on a page come first (BENCHMARKS.md, "Control latency with one training run");
# background analyses sit lower still (studies/analyses.py).
WORKER_NICENESS = 5
STOP_CHECK_SECONDS = 0.5  # how often the hot loop asks the store whether to stop (and how many share the CPU)


def execute_run(store: RunStore, run_id: str, extra_listener: Callable | None = None) -> str:
    """Train a stored run (resuming from its newest checkpoint) and record its final status, through the
    run lifecycle (lifecycle.py) that a Ray task and its driver go through too.

    Returns the final status. Any exception ends the run `failed` with the message stored, and is
    re-raised for the caller's log.
    """
    try:
        run = store.get(run_id)
        device = pick_device(run.config.train.device)
        share = ThreadShare(store, run_id) if device.type == "cpu" else None
        if share is not None:
            share.update()  # before the device's label (it names the threads) and before any torch work
        begin(store, run_id, describe_device(device), "local", socket.gethostname())
        point = resume_point(store, run_id)
        if point.note:
            print(f"run {run_id}: {point.note}", file=sys.stderr)  # the worker's log, or the CLI's terminal
        setup = set_up(run.spec, run.config, run.dataset, point)
        recorder = StoreRecorder(store, run_id, setup.total_steps, extra_listener)
        train_run(setup, recorder, should_stop=_stop_checker(store, run_id, share))
    except KeyboardInterrupt as err:  # Ctrl-C, or a termination signal (see `interrupt_on_signals`)
        store.set_status(run_id, "interrupted", error=f"interrupted ({err or 'Ctrl-C'}) — resume to continue")
        raise
    except BaseException as err:
        store.set_status(run_id, "failed", error=failure(err))
        raise
    return record_end(store, run_id, recorder, point.note)


def interrupt_on_signals(signals=(signal.SIGTERM, signal.SIGHUP), *, ctrl_c: bool = False) -> None:
    """Handle these signals like Ctrl-C: `execute_run` then ends the run `interrupted` (resumable) with the
    signal's name, instead of dying `running` with no one left to say so. Signals set to be ignored
    (nohup) stay ignored; call from the main thread. With `ctrl_c`, Ctrl-C (SIGINT) goes the same way.

    The first signal is the one that counts; the ones after it are ignored. A worker meets two at once when a
    whole process group is signalled (a terminal's Ctrl-C, a time slot's end): its own, then its runner's
    shutdown `terminate()` — and a second KeyboardInterrupt raised while the first was being recorded left the
    run `running` and the worker exiting 1, which the runner then recorded "failed" (seen on a GPU)."""
    handled = [sig for sig in signals if signal.getsignal(sig) is signal.SIG_DFL]
    if ctrl_c and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        handled.append(signal.SIGINT)

    def interrupt(signum, frame):
        for sig in handled:
            signal.signal(sig, signal.SIG_IGN)  # stopping already: the process ends once this is recorded
        raise (
            KeyboardInterrupt()
            if signum == signal.SIGINT
            else KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")
        )

    for sig in handled:
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
    interrupt_on_signals(ctrl_c=True)  # the runner's shutdown, a terminal's Ctrl-C, a `kill` of an orphaned worker
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
