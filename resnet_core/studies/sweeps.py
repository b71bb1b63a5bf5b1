"""Sweeps: a grid of runs — depths × (plain and residual twins) × seeds — queued together and summarised as
the paper's Table 6 / Fig. 6: the mean ± std over seeds of each net's final training and test error.

A sweep's runs carry its id in `RunConfig.experiment`, as the degradation experiment's do, so the app's
Degradation page lists a sweep too. `python -m resnet_core sweep` (cli/sweep.py) plans one with
`plan_sweep`, lets a JobRunner train it on either executor, and prints `sweep_table`.
"""

from __future__ import annotations

import math
import secrets
import statistics
import time
from dataclasses import dataclass

from ..model.spec import NetSpec
from ..store.config import RunConfig
from ..store.protocol import RunReader
from ..store.run_store import Run


def new_sweep_id() -> str:
    return "sweep-" + time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def plan_sweep(
    depths,
    config: RunConfig,
    seeds: int = 1,
    twins: bool = False,
    base: NetSpec | None = None,
) -> tuple[str, list[tuple[NetSpec, RunConfig, str]]]:
    """A new sweep id and its runs as (spec, config, name): every depth (the plain twin first when `twins`),
    every seed 0…seeds-1 (TrainConfig.seed: weights, batch order, augmentation; the data stay the same).
    ValueError, before anything is stored, for an invalid depth or seed count."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    depths = sorted(dict.fromkeys(depths))
    if not depths:
        raise ValueError("give at least one depth, like 20,56")
    base = base or NetSpec()
    specs = [base.replace(depth=d, skip=skip) for d in depths for skip in ((False, True) if twins else (True,))]
    sweep = new_sweep_id()
    config = config.replace(experiment=sweep)
    return sweep, [
        (spec, config.replace(seed=seed), f"{spec.name} · seed {seed} · {sweep}")
        for spec in specs
        for seed in range(seeds)
    ]


def sweep_runs(store: RunReader, sweep: str) -> list[Run]:
    return [r for r in store.list() if r.config.experiment == sweep]


@dataclass(frozen=True)
class Stat:
    """Final errors (fractions) of the finished seeds of one net."""

    values: tuple[float, ...]

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation over seeds (None for fewer than two)."""
        return statistics.stdev(self.values) if len(self.values) > 1 else None


# The four errors of a depth's row, in the order of SweepRow's fields: (skip, key).
ERROR_COLUMNS = ((False, "train_error"), (False, "test_error"), (True, "train_error"), (True, "test_error"))


@dataclass(frozen=True)
class SweepRow:
    depth: int
    plain_train: Stat
    plain_test: Stat
    residual_train: Stat
    residual_test: Stat


def sweep_table(store: RunReader, runs: list[Run]) -> list[SweepRow]:
    """Per depth: the final (last epoch's) train and test errors of the plain and residual nets over seeds.
    Only `completed` runs count (a stopped or failed run's last epoch is not its final one)."""
    final: dict[tuple[int, bool], list[dict]] = {}
    for run in runs:
        epochs = store.epochs(run.id) if run.status == "completed" else []
        if epochs and all(math.isfinite(epochs[-1][k]) for k in ("train_error", "test_error")):
            final.setdefault((run.spec.depth, run.spec.skip), []).append(epochs[-1])

    def stat(depth: int, skip: bool, key: str) -> Stat:
        return Stat(tuple(e[key] for e in final.get((depth, skip), [])))

    return [
        SweepRow(d, *(stat(d, skip, key) for skip, key in ERROR_COLUMNS)) for d in sorted({r.spec.depth for r in runs})
    ]
