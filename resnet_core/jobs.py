"""`JobRunner`: runs train in worker processes (spawn), at most N at once, the rest queued in order.

Workers talk to the rest of the world only through the `RunStore`. The runner is a thin scheduler: it
starts queued runs when a slot is free, reaps finished workers, and records how each one ended when the
worker itself could not (a process killed by a signal cannot write its own obituary). The app keeps
one runner for all sessions (st.cache_resource); the CLI trains in its own process instead.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable

import torch

from .spec import NetSpec
from .store import RESUMABLE, RunStore

# Signals that mean "someone stopped this process" rather than "it crashed": the run can resume.
KILL_SIGNALS = {signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


def default_parallel_runs() -> int:
    """One run at a time on a CPU (two cores are already busy with one), four on a CUDA GPU."""
    return 4 if torch.cuda.is_available() else 1


def _default_target(root: str, run_id: str) -> None:
    from .worker import run_worker  # imported in the child: keeps the runner light

    run_worker(root, run_id)


class JobRunner:
    """Background training for one runs folder. Thread-safe; call `shutdown()` when done (tests)."""

    def __init__(self, root, max_parallel: int | None = None, target: Callable[[str, str], None] | None = None,
                 poll_seconds: float = 0.5) -> None:
        self.store = RunStore(root)
        self.root = str(self.store.root)
        self.max_parallel = max_parallel or default_parallel_runs()
        self._target = target or _default_target
        self._poll = poll_seconds
        self._ctx = mp.get_context("spawn")  # fork is unsafe with threads and CUDA
        self._workers: dict[str, mp.Process] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self.store.mark_interrupted()  # runs left `running` by a process that no longer exists
        self._thread = threading.Thread(target=self._loop, name="resnet-lab-jobs", daemon=True)
        self._thread.start()

    # --- what pages and the CLI call -------------------------------------------------------------
    def submit(self, spec: NetSpec, config: dict, dataset: str = "shapes", name: str | None = None) -> str:
        run_id = self.store.create(spec, config, dataset=dataset, name=name)
        self._wake.set()
        return run_id

    def stop(self, run_id: str) -> None:
        """The worker checkpoints and ends `stopped` at its next step; a queued run stops at once."""
        self.store.request_stop(run_id)
        self._wake.set()

    def resume(self, run_id: str) -> None:
        run = self.store.get(run_id)
        if run.status not in RESUMABLE:
            raise ValueError(f"run {run_id} is {run.status}; only {' or '.join(RESUMABLE)} runs can resume")
        self.store.set_status(run_id, "queued")
        self._wake.set()

    def running(self) -> list[str]:
        with self._lock:
            return [rid for rid, p in self._workers.items() if p.is_alive()]

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or running (for tests and scripts)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.store.list(["queued", "running"]) or self.running():
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def shutdown(self, kill_workers: bool = True) -> None:
        self._closed.set()
        self._wake.set()
        self._thread.join(timeout=5)
        if kill_workers:
            with self._lock:
                for p in self._workers.values():
                    if p.is_alive():
                        p.terminate()
                for p in self._workers.values():
                    p.join(timeout=10)
            self._reap()

    # --- the scheduler thread --------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._closed.is_set():
            try:
                self._reap()
                self._start_queued()
            except Exception:  # a locked database or a full disk must not kill the scheduler
                pass
            self._wake.wait(self._poll)
            self._wake.clear()

    def _start_queued(self) -> None:
        with self._lock:
            free = self.max_parallel - sum(p.is_alive() for p in self._workers.values())
            for run in self.store.list(["queued"])[: max(free, 0)]:
                if not self.store.claim(run.id, pid=os.getpid()):
                    continue  # another runner took it
                proc = self._ctx.Process(target=self._target, args=(self.root, run.id), daemon=True,
                                         name=f"resnet-lab-run-{run.id}")
                proc.start()
                self.store.set_status(run.id, "running", pid=proc.pid)
                self._workers[run.id] = proc

    def _reap(self) -> None:
        with self._lock:
            for run_id, proc in list(self._workers.items()):
                if proc.is_alive():
                    continue
                proc.join()
                del self._workers[run_id]
                if self.store.get(run_id).status == "running":  # the worker could not say how it ended
                    self._record_death(run_id, proc.exitcode)

    def _record_death(self, run_id: str, exitcode: int | None) -> None:
        if exitcode is not None and exitcode < 0 and -exitcode in KILL_SIGNALS:
            name = signal.Signals(-exitcode).name
            self.store.set_status(run_id, "interrupted", error=f"the worker was killed ({name}; out of memory?)"
                                  " — resume to continue from the last checkpoint")
        elif exitcode is not None and exitcode < 0:
            self.store.set_status(run_id, "failed", error=f"the worker crashed ({signal.Signals(-exitcode).name})")
        else:
            self.store.set_status(run_id, "failed", error=f"the worker exited with code {exitcode}")
