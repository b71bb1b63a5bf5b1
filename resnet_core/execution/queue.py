"""The fair queue: which queued run starts next when a worker is free, and when a queued run should start.

Thirty students share a few workers. Starting runs in the order they were queued lets one student who queues
ten runs hold every worker for an hour; Ray's own advice for a cluster shared by many users' jobs is that the
scheduler above it must provide fairness. So runs start round-robin over their owners: the next run is the
oldest queued run of the owner with the fewest runs training now, and among owners equally placed, of the
one whose last run started longest ago. One person alone gets their runs in the order queued, as before.

`fair_order` gives the whole queue in the order it would start (the runner starts its head; a page shows each
person their place in it); `start_times` turns that order and each run's expected duration into when each one
should start, given how many runs train at once.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Mapping, Sequence

from ..store.run_store import Run


def fair_order(
    queued: Sequence[Run], running: Sequence[Run], last_start: Mapping[str | None, float] | None = None
) -> list[Run]:
    """`queued` (in queue order) in the order they would start: each next pick is the oldest queued run of the
    owner with the fewest runs training (counting the ones picked before it), ties going to the owner whose
    last start (`last_start`: owner -> a time) is oldest, then to the run queued first."""
    training = Counter(r.owner for r in running)
    started = dict(last_start or {})
    waiting: dict[str | None, list[Run]] = {}
    for run in queued:  # already in queue order: each owner's list is oldest first
        waiting.setdefault(run.owner, []).append(run)
    first_seq = {run.id: i for i, run in enumerate(queued)}
    order: list[Run] = []
    clock = max(started.values(), default=0.0)
    while waiting:
        owner = min(
            waiting,
            key=lambda o: (training[o], started.get(o, float("-inf")), first_seq[waiting[o][0].id]),
        )
        run = waiting[owner].pop(0)
        if not waiting[owner]:
            del waiting[owner]
        order.append(run)
        training[owner] += 1
        clock += 1.0
        started[owner] = clock  # as if it started now: the next pick goes round to the others
    return order


def start_times(ahead: Sequence[float], running_left: Sequence[float], slots: int) -> list[float]:
    """Seconds from now until each run of a queue starts, the queue in start order: `ahead` the expected
    duration of each queued run, `running_left` what is left of the runs training now, `slots` how many train
    at once. Each run takes the first slot to come free (list scheduling); a guide, as estimates.py."""
    slots = max(1, slots)
    free = sorted(list(running_left)[:slots]) + [0.0] * max(0, slots - len(running_left))
    heapq.heapify(free)
    for extra in sorted(running_left)[slots:]:  # more running than slots (another runner's): they hold one too
        heapq.heapreplace(free, free[0] + extra)
    starts = []
    for seconds in ahead:
        at = heapq.heappop(free)
        starts.append(at)
        heapq.heappush(free, at + max(0.0, seconds))
    return starts
