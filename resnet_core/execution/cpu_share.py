"""Which runs train on this machine, and how the CPU's threads are split between them.

One rule, `trains_here`, for everyone who counts the runs beside them: a worker's thread share
(`ThreadShare`), the job runner's free slots (jobs.JobRunner) and the app server's own torch threads
(ui/threads.py, through `cpu_share` as one more party).
"""

from __future__ import annotations

import socket
import sqlite3

from ..store.protocol import RunReader
from ..store.run_store import Run, RunStore


def trains_here(run: Run, host: str | None = None, *, cpu: bool = True) -> bool:
    """Whether `run` trains on this machine — a local worker on host `host` (default: this one), or one
    about to be: claimed, its worker not placed yet — and, with `cpu`, on its CPU (the device a CPU, or not
    known yet). A Ray task uses its own node's cores even on this host: Ray gave it its CPUs."""
    here = run.executor in (None, "local") and run.node in (None, host or socket.gethostname())
    return here and (not cpu or run.device is None or run.device.startswith("CPU"))


def cpu_share(store: RunReader, me: str | None, threads: int, host: str | None = None) -> int:
    """The torch threads of one party among the runs training on this CPU now, out of `threads`: `me` is a
    run's id (ranked in queue order; counted, last, while it is not marked running) or None for a party that
    is no run (the app server). Each gets `threads // n`, the first `threads % n` one more, at least one."""
    ids: list[str | None] = [r.id for r in store.list(["running"]) if r.id == me or trains_here(r, host)]
    if me is None or me not in ids:
        ids.append(me)
    n, rank = len(ids), ids.index(me)
    return max(1, threads // n + (rank < threads % n))


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

    def share(self) -> int:
        return cpu_share(self.store, self.run_id, self.threads, self.host)

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
