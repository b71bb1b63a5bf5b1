"""Background analyses of stored runs — the loss landscape (Li et al. 2018), the lesion study (Veit et al.
2016) — kept in the run store.

A landscape is hundreds of evaluations of the whole net: about a minute for ResNet-20 on a laptop CPU,
longer for deeper nets. So, like training, it runs in a worker process and talks to the pages only
through the run store's database: a row per analysis (its run, kind, parameters, status, progress, and
the result as JSON once done). A page starts it, shows its progress, can stop it, and finds the result
again on the next visit (the same run and parameters are never computed twice).

    analyses = Analyses(store)
    ids = [analyses.create(run.id, "landscape", {"steps": 11, "span": 1.0, "seed": 0, "images": 256})]
    start_worker(store.root, ids)              # python -m resnet_core.studies.analyses ROOT ID ...
    analyses.get(ids[0]).status, .progress, .result

A worker that dies (killed, out of memory) leaves a row `running` with a pid that is gone; `get` and `list`
report it `interrupted`, so the page offers to compute it again.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..store.processes import pid_alive
from ..store.protocol import RunReader
from ..store.run_store import RunStore
from ..store.status import ACTIVE, RunStatus, check_status
from ..store.status import STATUSES as RUN_STATUSES

KINDS = ("landscape", "lesion")
# The Why page's lesion study: the first 1,000 test images (Veit et al. use the whole CIFAR-10 test set), three
# random draws of k deleted blocks per k. The reference bundle keeps it per run, so the page shows it at once.
LESION_PARAMS = {"images": 1000, "draws": 3, "seed": 0}
# An analysis moves as a run does (store/status.py), but never diverges.
STATUSES = tuple(s for s in RUN_STATUSES if s != RunStatus.DIVERGED)


@dataclass(frozen=True)
class Analysis:
    id: str
    run_id: str
    kind: str
    params: dict
    status: str
    progress: float
    result: dict | None
    error: str | None
    pid: int | None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


class Analyses:
    """The analyses of a run store's runs: rows of its `analyses` table (store/schema.py), read and written
    through the store's methods (one database file; a damaged one raises StoreCorrupt, as for runs)."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def create(self, run_id: str, kind: str, params: dict) -> str:
        if kind not in KINDS:
            raise ValueError(f"analysis kind {kind!r} is not valid; choose one of: {', '.join(KINDS)}")
        self.store.get(run_id)  # KeyError for an unknown run
        analysis_id = f"{kind}-{secrets.token_hex(4)}"
        self.store.add_analysis(analysis_id, run_id, kind, _params_json(params))
        return analysis_id

    def get(self, analysis_id: str) -> Analysis:
        row = self.store.analysis_row(analysis_id)
        if row is None:
            raise KeyError(f"no analysis {analysis_id!r}")
        return _from_row(row)

    def find(self, run_id: str, kind: str, params: dict) -> Analysis | None:
        """The newest analysis of this run with exactly these parameters, or None."""
        row = self.store.find_analysis_row(run_id, kind, _params_json(params))
        return None if row is None else _from_row(row)

    def set_status(
        self,
        analysis_id: str,
        status: str,
        *,
        error: str | None = None,
        pid: int | None = None,
        result: dict | None = None,
    ) -> None:
        check_status(status, STATUSES)
        self.store.set_analysis_status(analysis_id, status, error, pid, None if result is None else json.dumps(result))

    def set_progress(self, analysis_id: str, fraction: float) -> None:
        self.store.set_analysis_progress(analysis_id, fraction)

    def request_stop(self, analysis_id: str) -> None:
        self.store.request_analysis_stop(analysis_id)

    def stop_requested(self, analysis_id: str) -> bool:
        return self.store.analysis_stop_requested(analysis_id)


def _params_json(params: dict) -> str:
    return json.dumps(params, sort_keys=True)


def _from_row(row) -> Analysis:
    status = row["status"]
    if status == "running" and row["pid"] and not pid_alive(row["pid"]):
        status = "interrupted"  # its worker is gone: it can never finish
    return Analysis(
        row["id"],
        row["run_id"],
        row["kind"],
        json.loads(row["params"]),
        status,
        row["progress"],
        json.loads(row["result"]) if row["result"] else None,
        row["error"],
        row["pid"],
    )


# ------------------------------------------------------------------------------------------ the worker


def landscape_batch(store: RunReader, run_id: str, n_images: int) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """The run's trained net and its first `n_images` test images: the landscape's fixed batch (as Li et al.
    use) and the lesion study's images, as the Why page takes them."""
    from ..data.pixels import to_input
    from ..store.loading import classifier_from_run, run_dataset

    run = store.get(run_id)
    data = run_dataset(run)
    clf = classifier_from_run(store, run, data)
    images = to_input(data.test_images[:n_images], data.mean, data.std)
    return clf.net, images, data.test_labels[:n_images]


def lesion_study(net: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, draws: int, seed: int) -> dict:
    """Every block deleted alone, then k random blocks at once for k = 1, 2, 3, then about eight steps up to all
    of them: {"single": lesion(...), "random": lesion_random(...)} (analysis/lesion.py), JSON-ready."""
    from ..analysis.lesion import block_names, lesion, lesion_random

    n = len(block_names(net))
    ks = sorted({1, 2, 3, *range(4, n + 1, max(1, n // 8)), n})
    return {
        "single": lesion(net, images, labels),
        "random": lesion_random(net, images, labels, ks, draws=draws, seed=seed),
    }


def compute(store: RunStore, analysis_id: str) -> str:
    """Run one analysis to its end in this process; returns its final status."""
    from ..analysis.landscape import loss_landscape

    analyses = Analyses(store)
    analysis = analyses.get(analysis_id)
    if analysis.status not in (RunStatus.QUEUED, RunStatus.INTERRUPTED):
        return analysis.status
    analyses.set_status(analysis_id, "running", pid=os.getpid())
    try:
        p = analysis.params
        net, images, labels = landscape_batch(store, analysis.run_id, int(p["images"]))
        if analysis.kind == "lesion":  # seconds, not minutes, on a CPU: no progress rows
            analyses.set_status(
                analysis_id, "completed", result=lesion_study(net, images, labels, int(p["draws"]), int(p["seed"]))
            )
            return "completed"
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if time.monotonic() - last[0] > 0.5 or done == total:  # short, rare write transactions
                analyses.set_progress(analysis_id, done / total)
                last[0] = time.monotonic()

        result = loss_landscape(
            net,
            images,
            labels,
            steps=int(p["steps"]),
            span=float(p["span"]),
            seed=int(p["seed"]),
            on_progress=progress,
            should_stop=lambda: analyses.stop_requested(analysis_id),
        )
        status = "completed" if result["complete"] else "stopped"
        analyses.set_status(analysis_id, status, result=result)
        return status
    except BaseException as err:
        analyses.set_status(analysis_id, "failed", error=f"{type(err).__name__}: {err}"[:2000])
        raise


def worker_command(root, analysis_ids: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "resnet_core.studies.analyses", str(root), *analysis_ids]


def start_worker(root, analysis_ids: Sequence[str]) -> subprocess.Popen:
    """One background process computing the analyses one after another (a fresh interpreter, like the
    training workers: nothing of the server's state leaks in). Its output goes to analyses.log."""
    log_path = RunStore(root).root / "analyses.log"
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            worker_command(root, analysis_ids),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def main(argv: Sequence[str]) -> int:
    root, *ids = argv
    # Below the server and training workers in CPU priority: a person's clicks come first, then training.
    from ..execution.worker import WORKER_NICENESS

    os.nice(2 * WORKER_NICENESS)
    store = RunStore(root)
    for analysis_id in ids:
        try:
            compute(store, analysis_id)
        except Exception:
            traceback.print_exc()  # recorded as `failed` in the store; the log keeps the traceback
    return 0


if __name__ == "__main__":  # python -m resnet_core.studies.analyses RUNS_ROOT ID ...
    sys.exit(main(sys.argv[1:]))
