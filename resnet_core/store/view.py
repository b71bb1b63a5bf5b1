"""`RunView`: the user's runs and the reference runs (studies/reference.py: the bundle shipped with the app)
behind one `RunReader`. Reference run ids start with `ref-` (ids made by RunStore.create start with a date):
that prefix is the one marker, and the view routes every read of a run to the store that holds it."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .run_store import Run, RunStore

PREFIX = "ref-"  # every reference run id starts with it; ids made by RunStore.create start with a date


def is_reference(run: Run | str) -> bool:
    return (run if isinstance(run, str) else run.id).startswith(PREFIX)


class RunView:
    """What the pages read: the user's runs and, unless hidden, the reference runs, behind the read
    methods of a RunStore (store/protocol.RunReader). Each call about one run goes to the store that holds
    it, so `series_for`, `depth_table`, `find_twin`, `classifier_from_run`, … work on it unchanged. Writes
    (new runs, stops, analyses) go to a real store: `user`, or `store_of(run)`.

    `visible` (the class mode: store/access.can_see for the person viewing): the user's runs it rejects are
    not listed, and every read of one raises KeyError as for a run that does not exist — a link with its id
    (`?runs=…`) shows nothing of it and says nothing more than "no such run"."""

    def __init__(
        self, user: RunStore, reference: RunStore | None = None, visible: Callable[[Run], bool] | None = None
    ) -> None:
        self.user, self.reference, self.visible = user, reference, visible

    @property
    def root(self) -> Path:
        return self.user.root

    def store_of(self, run: Run | str) -> RunStore:
        return self.reference if self.reference is not None and is_reference(run) else self.user

    def _open(self, run_id: str) -> RunStore:
        """The store holding `run_id`, once the viewer may see it (KeyError otherwise, as for no such run)."""
        store = self.store_of(run_id)
        if self.visible is not None and store is self.user and not self.visible(self.user.get(run_id)):
            raise KeyError(f"no run {run_id!r}")
        return store

    def list(self, statuses: Sequence[str] | None = None) -> list[Run]:
        """The reference runs first (they were made before any of the user's), then the user's in queue order."""
        ref = self.reference.list(statuses) if self.reference is not None else []
        return ref + [r for r in self.user.list(statuses) if self.visible is None or self.visible(r)]

    def runs_with_probe(self, kind: str) -> set[str]:
        ref = self.reference.runs_with_probe(kind) if self.reference is not None else set()
        mine = self.user.runs_with_probe(kind)
        if self.visible is not None:
            mine &= {r.id for r in self.list()}
        return ref | mine

    def get(self, run_id: str) -> Run:
        return self._open(run_id).get(run_id)

    # builtins.list: below `def list`, the bare name means that method
    def epochs(self, run_id: str) -> builtins.list[dict]:
        return self._open(run_id).epochs(run_id)

    def steps(self, run_id: str, since_step: int = -1) -> dict[str, np.ndarray]:
        return self._open(run_id).steps(run_id, since_step)

    def probe(self, run_id: str, kind: str) -> tuple[builtins.list[str], np.ndarray, np.ndarray]:
        return self._open(run_id).probe(run_id, kind)

    def latest_checkpoint(self, run_id: str) -> tuple[int, int, Path] | None:
        return self._open(run_id).latest_checkpoint(run_id)

    def load_checkpoint(self, run_id: str, epoch: int | None = None):
        return self._open(run_id).load_checkpoint(run_id, epoch)
