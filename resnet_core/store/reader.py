"""`LiveReader`: what live views read — a run, its step and epoch metrics — shared by every session that
watches, read from the store at most once per `ttl` seconds per run, and only what is new ("steps since
step k").

Ten tabs polling a training run every second each read every metric row of the run every second: the server
stopped answering (BENCHMARKS.md, "Ten viewers"). With one reader per store (the app keeps one per server),
a run costs one small query per second however many tabs watch it. The reader is a `RunReader`
(store/protocol.py): get, steps and epochs are cached; the other reads (list, probes, checkpoints) go to the
store as they are, so `presentation.reports.series_for` and every other reader read through it unchanged.
"""

from __future__ import annotations

import builtins
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .run_store import STEP_FIELDS, Run, RunStore


@dataclass
class _Entry:
    run: Run
    steps: dict[str, np.ndarray]  # every step row so far, as columns
    epochs: list[dict]
    read_at: float  # time.monotonic() of the read
    asked_at: float = field(default=0.0)  # of the last request (entries nobody asks for are forgotten)

    @property
    def last_step(self) -> int:
        return int(self.steps["step"][-1]) if len(self.steps["step"]) else -1


class LiveReader:
    """Cached, incremental reads of runs for live views; thread-safe (Streamlit serves sessions in threads)."""

    def __init__(
        self, store: RunStore, ttl: float = 1.0, forget_after: float = 300.0, starting_ttl: float = 0.25
    ) -> None:
        # `starting_ttl`: for a queued or running run with no step yet, whose first point a person waits for
        # right after pressing Train: with the page's poll, a read up to `ttl` old could hold the first point
        # back by most of a second more (BENCHMARKS.md, "Time to first point").
        self.store, self.ttl, self.forget_after, self.starting_ttl = store, ttl, forget_after, starting_ttl
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def get(self, run_id: str) -> Run:
        """The run as read at most `ttl` seconds ago (KeyError if it does not exist)."""
        return self._entry(run_id).run

    def steps(self, run_id: str, since_step: int = -1) -> dict[str, np.ndarray]:
        """As RunStore.steps; the arrays are shared with other sessions: read them, do not change them."""
        steps = self._entry(run_id).steps
        if since_step < 0:
            return steps
        keep = steps["step"] > since_step
        return {name: column[keep] for name, column in steps.items()}

    def epochs(self, run_id: str) -> list[dict]:
        return list(self._entry(run_id).epochs)

    # Not cached: what the live views poll is the run and its metrics.
    @property
    def root(self) -> Path:
        return self.store.root

    def list(self, statuses: Sequence[str] | None = None) -> list[Run]:
        return self.store.list(statuses)

    # builtins.list: below `def list`, the bare name means that method
    def probe(self, run_id: str, kind: str) -> tuple[builtins.list[str], np.ndarray, np.ndarray]:
        return self.store.probe(run_id, kind)

    def runs_with_probe(self, kind: str) -> set[str]:
        return self.store.runs_with_probe(kind)

    def latest_checkpoint(self, run_id: str) -> tuple[int, int, Path] | None:
        return self.store.latest_checkpoint(run_id)

    def load_checkpoint(self, run_id: str, epoch: int | None = None):
        return self.store.load_checkpoint(run_id, epoch)

    def version(self, run_id: str) -> tuple:
        """Changes whenever what a chart of the run shows may change: its status, name, steps or epochs."""
        entry = self._entry(run_id)
        return entry.run.status, entry.run.name, entry.last_step, len(entry.epochs)

    def _entry(self, run_id: str) -> _Entry:
        now = time.monotonic()
        with self._lock:  # one session reads, the others wait a few milliseconds and share what it read
            entry = self._entries.get(run_id)
            ttl = self.starting_ttl if entry is not None and entry.run.active and entry.last_step < 0 else self.ttl
            if entry is None or now - entry.read_at >= ttl:
                entry = self._read(run_id, entry, now)
                self._entries[run_id] = entry
            entry.asked_at = now  # before forgetting: a new entry must not count as asked for at time 0
            for old in [i for i, e in self._entries.items() if now - e.asked_at > self.forget_after]:
                del self._entries[old]
            return entry

    def _read(self, run_id: str, old: _Entry | None, now: float) -> _Entry:
        run = self.store.get(run_id)
        # Only new rows, unless what is held may have been rewritten: a resumed run forgets the steps after
        # its checkpoint and records them again (RunStore.truncate_after).
        resumed = old is not None and run.status == "running" and old.run.status != "running"
        if old is None or resumed or self.store.count_steps(run_id, old.last_step) != len(old.steps["step"]):
            steps = self.store.steps(run_id)
        else:
            new = self.store.steps(run_id, since_step=old.last_step)
            steps = (
                old.steps
                if not len(new["step"])
                else {name: np.concatenate([old.steps[name], new[name]]) for name in STEP_FIELDS}
            )
        return _Entry(run, steps, self.store.epochs(run_id), read_at=now)
