"""`RunAccess`: the runs as one person may see and act on them — what the app's pages call instead of the
runner and the store, so that every action is checked on the server, at the action (store/access.py holds the
rules). A button drawn on a stale page, a link with someone else's run id or a replayed widget event reaches one
of these methods with the session's own identity, and is refused there.

It also keeps the fair queue's cap: a student has at most `queue_cap()` runs waiting or training at once (the
config's default, or what a teacher set in the app: the store's `settings` table). Teachers and the local
administrator have no cap.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..model.spec import NetSpec
from ..store.access import ADMIN, AccessDenied, Actor, can_act, can_see, require_act
from ..store.config import RunConfig
from ..store.run_store import Run
from ..store.status import ACTIVE
from ..store.view import RunView
from ..training.config import TrainConfig
from ..words import WordedError, Words
from .jobs import JobRunner

CAP_SETTING = "queue_cap"  # the store's settings key of the cap a teacher set
DEFAULT_CAP = 6  # runs waiting or training per student: a degradation experiment's three depths × twins


class QueueFull(WordedError, ValueError):
    """A student asked for more runs than their cap allows; the message says how many and what to do (in the
    reader's language on a page: words.py)."""


class NoSuchRun(WordedError, KeyError):
    """No run by this id that the actor may see: deleted meanwhile, no longer shared, or never theirs. One
    message for all three, so that a refusal tells nothing about a run they may not see."""


def configured_cap() -> int:
    """The cap from the environment (RESNET_LAB_QUEUE_CAP), else DEFAULT_CAP."""
    raw = os.environ.get("RESNET_LAB_QUEUE_CAP", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_CAP


class RunAccess:
    """`runner`'s runs as `actor` may see them and act on them. Reads go through `store` (a RunView that hides
    what the actor may not see); actions through the methods below, each checked first."""

    def __init__(self, runner: JobRunner, actor: Actor = ADMIN, default_cap: int | None = None) -> None:
        self.runner, self.actor = runner, actor
        self.default_cap = default_cap if default_cap is not None else configured_cap()
        self.store = RunView(runner.store, visible=None if actor.manages else self.can_see)

    # --- what the page may draw ------------------------------------------------------------------
    @property
    def max_parallel(self) -> int | None:
        return self.runner.max_parallel

    @property
    def root(self):
        return self.runner.store.root

    def can_see(self, run: Run) -> bool:
        return can_see(self.actor, run)

    def can_act(self, run: Run) -> bool:
        return can_act(self.actor, run)

    def mine(self, runs: Sequence[Run]) -> list[Run]:
        """The actor's own runs among `runs` (the administrator's: those without an owner)."""
        return [r for r in runs if r.owner == self.actor.id]

    # --- actions: each one checks, on the run as stored now ------------------------------------
    def _run(self, run_id: str, action: str) -> Run:
        """The run, once the actor may do `action` to it: NoSuchRun (a KeyError) if there is none or they may not
        even see it (nothing about it leaks), AccessDenied if they see it but may not act on it."""
        try:
            run = self.runner.store.get(run_id)
        except KeyError:
            run = None
        if run is None or not self.can_see(run):
            raise NoSuchRun(
                "There is no run {run_id} that you can see: it was deleted, or it is no longer shared.", run_id=run_id
            )
        require_act(self.actor, run, action)
        return run

    def queue_cap(self) -> int:
        stored = self.runner.store.setting(CAP_SETTING)
        return int(stored) if stored is not None and stored.isdigit() else self.default_cap

    def room(self) -> int | None:
        """How many more runs the actor may queue now (None: no cap — a teacher or the administrator)."""
        if self.actor.manages:
            return None
        mine = [r for r in self.runner.store.list(ACTIVE) if r.owner == self.actor.id]
        return max(0, self.queue_cap() - len(mine))

    def check_room(self, runs: int = 1) -> None:
        """QueueFull unless the actor may queue `runs` more runs now."""
        room = self.room()
        if room is not None and runs > room:
            raise QueueFull(
                "You can have at most {cap} runs waiting or training at once, and this needs room for {runs} ({room} "
                "left). Stop one of yours, or wait for one to finish.",
                cap=self.queue_cap(),
                runs=runs,
                room=room,
            )

    def submit(
        self,
        spec: NetSpec,
        config: RunConfig | TrainConfig | dict,
        dataset: str = "shapes",
        name: str | None = None,
    ) -> str:
        """Queue a run owned by the actor (QueueFull past their cap)."""
        self.check_room(1)
        return self.runner.submit(spec, config, dataset=dataset, name=name, owner=self.actor.id)

    def stop(self, run_id: str) -> None:
        self._run(run_id, "stop")
        self.runner.stop(run_id)

    def resume(self, run_id: str) -> None:
        run = self._run(run_id, "resume")
        if run.owner == self.actor.id:  # a teacher resuming a student's run does not spend the teacher's cap
            self.check_room(1)
        self.runner.resume(run_id)

    def rename(self, run_id: str, name: str) -> None:
        self._run(run_id, "rename")
        self.runner.store.rename(run_id, name)

    def share(self, run_id: str, shared: bool) -> None:
        self._run(run_id, "share")
        self.runner.store.set_shared(run_id, shared)

    def delete(self, run_id: str) -> None:
        self._run(run_id, "delete")
        self.runner.store.delete(run_id)

    def checkpoint_bytes(self, run_id: str) -> bytes:
        """The run's newest checkpoint file, read when its download is asked for (empty if it has none)."""
        self._run(run_id, "download")
        found = self.runner.store.latest_checkpoint(run_id)
        return found[2].read_bytes() if found is not None else b""

    def downloadable(self, run_id: str) -> RunView:
        """The store to read a download of `run_id` from (its metrics CSV), once the actor may download it."""
        self._run(run_id, "download")
        return self.store

    # --- the teacher's --------------------------------------------------------------------------
    def _require_teacher(self, refusal: Words) -> None:
        if not self.actor.manages:
            raise AccessDenied(refusal.template, **refusal.params)

    def set_queue_cap(self, cap: int | None) -> None:
        """The students' cap (None: back to the configured default)."""
        self._require_teacher(Words("Only a teacher can set the queue cap."))
        if cap is not None and cap < 1:
            raise ValueError("the cap is at least one run")
        self.runner.store.set_setting(CAP_SETTING, None if cap is None else str(int(cap)))

    def clear_queue(self, owner: str | None) -> list[str]:
        """Stop every queued run of `owner` (their runs training go on); returns the ids stopped."""
        self._require_teacher(Words("Only a teacher can clear a student's queue."))
        stopped = [r.id for r in self.runner.store.list(["queued"]) if r.owner == owner]
        for run_id in stopped:
            self.runner.stop(run_id)
        return stopped

    def queue(self) -> list[Run]:
        """Every queued run in the order it will start (the fair queue); a student sees the others' as places
        only (the page shows names of their own runs alone)."""
        return self.runner.queue_order()


__all__ = ["AccessDenied", "Actor", "NoSuchRun", "QueueFull", "RunAccess"]
