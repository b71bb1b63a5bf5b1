"""`RunReader`: the one read interface of runs. What the pages, the studies and the presentation read through
— a run, the list of runs, its step and epoch metrics, its probes, its checkpoints — and nothing that
writes.

Three classes serve it: `RunStore` (the database itself), `RunView` (the user's runs and the reference
runs behind one reader, store/view.py) and `LiveReader` (cached, incremental reads of live runs shared by
every session, store/reader.py). A function that only reads is typed against `RunReader`, so it takes any
of the three; one that writes takes a `RunStore`.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .run_store import Run


@runtime_checkable
class RunReader(Protocol):
    @property
    def root(self) -> Path:
        """The runs folder (of the user's runs, for a view)."""
        ...

    def get(self, run_id: str) -> Run:
        """The run (KeyError if there is none)."""
        ...

    def list(self, statuses: Sequence[str] | None = None) -> list[Run]:
        """The runs, in queue order; only those with one of `statuses` if given."""
        ...

    def steps(self, run_id: str, since_step: int = -1) -> dict[str, np.ndarray]:
        """Per-step metrics with step > since_step, as columns (store/schema.py STEP_FIELDS)."""
        ...

    # builtins.list: below `def list`, the bare name means that method
    def epochs(self, run_id: str) -> builtins.list[dict]:
        """One dict per finished epoch (store/schema.py EPOCH_FIELDS)."""
        ...

    def probe(self, run_id: str, kind: str) -> tuple[builtins.list[str], np.ndarray, np.ndarray]:
        """(layer names, positions, values) of the run's probes of one kind ("grad_norms", "responses")."""
        ...

    def runs_with_probe(self, kind: str) -> set[str]:
        """Ids of the runs that recorded a probe of `kind`."""
        ...

    def latest_checkpoint(self, run_id: str) -> tuple[int, int, Path] | None:
        """(epoch, step, path) of the run's newest checkpoint, or None."""
        ...

    def load_checkpoint(self, run_id: str, epoch: int | None = None) -> tuple[dict, Any, dict]:
        """(model state, optimizer state or None, meta) of the newest checkpoint that loads, or epoch's."""
        ...
