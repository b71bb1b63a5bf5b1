"""The statuses of a run (and of a background analysis) and the moves between them: one table.

    queued ──claim──▶ running ──▶ completed | diverged | failed     (ended: nothing follows)
      │                 │ ▲
      │ stop            │ └── running (a new pid, device or note)
      ▼                 ▼
    stopped, interrupted ──resume──▶ queued   (or straight to running: the CLI's `resume`)

A queued run also ends `failed` or `interrupted` when its worker fails or is interrupted before it ran;
an interrupted run becomes `failed` when its worker's exit code says it crashed (the job runner learns
that after a reader marked the run interrupted). `RunStore` raises on any other move, so a bug that would
"un-finish" a run shows at once. A new run may be created in any status (the CLI creates it running;
tests create finished runs).
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    STOPPED = "stopped"
    DIVERGED = "diverged"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


_ = RunStatus
STATUSES: tuple[str, ...] = tuple(s.value for s in RunStatus)
# Waiting for or holding a worker: such a run is neither deleted nor resumed.
ACTIVE: tuple[str, ...] = (_.QUEUED.value, _.RUNNING.value)
# Ended early, with what they trained kept: they can go on from their last checkpoint.
RESUMABLE: tuple[str, ...] = (_.STOPPED.value, _.INTERRUPTED.value)
# How train() itself ends a run (TrainResult.status).
ENDINGS: tuple[str, ...] = (_.COMPLETED.value, _.STOPPED.value, _.DIVERGED.value)
# Nothing follows.
FINAL: tuple[str, ...] = (_.COMPLETED.value, _.DIVERGED.value, _.FAILED.value)

# status -> the statuses it may become
TRANSITIONS: dict[str, frozenset[str]] = {
    _.QUEUED: frozenset({_.RUNNING, _.STOPPED, _.FAILED, _.INTERRUPTED}),
    _.RUNNING: frozenset({_.RUNNING, _.COMPLETED, _.STOPPED, _.DIVERGED, _.FAILED, _.INTERRUPTED}),
    _.STOPPED: frozenset({_.QUEUED, _.RUNNING, _.FAILED, _.INTERRUPTED}),
    _.INTERRUPTED: frozenset({_.QUEUED, _.RUNNING, _.FAILED, _.INTERRUPTED}),
    _.COMPLETED: frozenset(),
    _.DIVERGED: frozenset(),
    _.FAILED: frozenset(),
}


def check_status(status: str, among: tuple[str, ...] = STATUSES) -> None:
    """ValueError unless `status` is one of `among`."""
    if status not in among:
        raise ValueError(f"status {status!r} is not valid; choose one of: {', '.join(among)}")


def check_transition(old: str, new: str, what: str = "a run") -> None:
    """ValueError unless `what` (a run, an analysis) that is `old` may become `new` (TRANSITIONS)."""
    check_status(new)
    if new not in TRANSITIONS.get(old, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(old, ()))) or "nothing: it has ended"
        raise ValueError(f"{what} that is {old} cannot become {new} (it can become {allowed})")
