"""Reading runs back for people: chart series, table rows, CSV and JSON (the app and the CLI share these)."""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..store.protocol import RunReader
from ..store.run_store import Run
from ..studies import reference
from .describe import percent_cell
from .i18n import N_, Messages, _
from .palette import shade

if TYPE_CHECKING:
    from ..studies.experiments import DepthRow
    from .charts import RunSeries  # imported where used: plotly is not needed to list runs


# A run's status in words (store/status.py holds the statuses): the store and the CLI keep the English names.
STATUS_WORDS = Messages(
    {
        "queued": N_("queued"),
        "running": N_("running"),
        "completed": N_("completed"),
        "stopped": N_("stopped"),
        "diverged": N_("diverged"),
        "failed": N_("failed"),
        "interrupted": N_("interrupted"),
    }
)


def status_word(status: str) -> str:
    """ "running" in the run's language (a status this version does not know: as stored)."""
    return STATUS_WORDS[status] if status in STATUS_WORDS else status


def run_label(run: Run) -> str:
    """Legend text: the net as the paper names it, and the run's own name when it says more."""
    if run.name == f"{run.spec.name} · {run.dataset}":
        return run.spec.name
    if run.name == reference.NAME.format(net=run.spec.name):  # the bundle's own name, in the reader's language
        return _(reference.NAME).format(net=run.spec.name)
    return run.name if run.name.startswith(run.spec.name) else f"{run.spec.name} · {run.name}"


def owner_label(run: Run) -> str:
    """Who a run belongs to, in the reader's language: its owner's login, or the administrator for a run without
    one (store/access.py: made on the command line, or by the app before it had a login)."""
    return run.owner if run.owner is not None else _("the administrator (command line)")


def run_series(store: RunReader, run: Run, color: str | None = None, label: str | None = None) -> RunSeries:
    from .charts import RunSeries

    steps = store.steps(run.id)
    epochs = store.epochs(run.id)
    return RunSeries(
        label=label or run_label(run),
        skip=run.spec.skip,
        color=color or shade(run.spec.skip, 3, 6),
        steps=steps["step"],
        loss=steps["loss"],
        batch_error=steps["error"],
        epoch_steps=np.array([e["step"] for e in epochs], dtype=float),
        train_error=np.array([e["train_error"] for e in epochs], dtype=float),
        test_error=np.array([e["test_error"] for e in epochs], dtype=float),
    )


def series_for(store: RunReader, runs: list[Run], label: Callable[[Run], str] = run_label) -> list[RunSeries]:
    """Series with colours by kind: residual runs in blues, plain runs in oranges, deeper = darker."""
    out = []
    for skip in (False, True):
        group = sorted((r for r in runs if r.spec.skip == skip), key=lambda r: (r.spec.depth, r.created_at))
        out += [run_series(store, r, shade(skip, i, len(group)), label(r)) for i, r in enumerate(group)]
    return out


def run_row(store: RunReader, run: Run) -> dict:
    epochs = store.epochs(run.id)
    last = epochs[-1] if epochs else {}
    total = run.config.epochs
    return {
        "id": run.id,
        "name": run.name,
        "status": run.status,
        "net": run.spec.name,
        "skip": run.spec.skip,
        "depth": run.spec.depth,
        "dataset": run.dataset,
        "epochs": f"{len(epochs)}/{total}" if total else str(len(epochs)),
        "train error %": percent_cell(last.get("train_error")),
        "test error %": percent_cell(last.get("test_error")),
        "minutes": round(sum(e["seconds"] or 0.0 for e in epochs) / 60, 2),
        "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(run.created_at)),
        "where": run_where(run),
        "error": run.error or "",
    }


def run_where(run: Run) -> str:
    """Where a run trains or trained: "ray · node (10.0.0.2)", "local · host", or "" before it started."""
    return " · ".join(part for part in (run.executor, run.node) if part)


def planned_steps(run: Run) -> int | None:
    """Optimizer steps the run's recipe plans (batches per epoch × epochs), known before its worker starts;
    None for a dataset this version does not know."""
    from ..data.catalog import CATALOG

    images = run.config.train_size or (CATALOG[run.dataset].train_size if run.dataset in CATALOG else None)
    return math.ceil(images / run.config.batch_size) * run.config.epochs if images else None


def progress_line(run: Run) -> tuple[float, str]:
    """(fraction done, text) of a running run: what it does now — starting, training or evaluating on the
    test set (written by the worker: train()'s "phase" events) — its step of the planned steps, speed and
    time left. A run its runner has claimed but whose worker has written nothing yet is starting."""
    p = run.progress
    total = p.get("total_steps") or planned_steps(run) or 0
    step, ips = p.get("step", 0), p.get("images_per_second") or 0.0
    phase = p.get("phase") or ("training" if ips else "starting")  # rows of older versions have no phase
    epochs = run.config.epochs
    steps = (
        _("step {step:,}/{total:,}").format(step=step, total=total) if total else _("step {step:,}").format(step=step)
    )
    if phase == "starting":
        data = _("rendering data") if run.dataset == "shapes" else _("loading data")
        text = _("starting ({data} / building the net) · {steps}").format(data=data, steps=steps)
    elif phase == "evaluating":
        text = _("epoch {get}/{epochs} done · evaluating on the test set · {steps}").format(
            get=round(p.get("epoch", 0)), epochs=epochs, steps=steps
        )
    else:
        eta = (total - step) * run.config.batch_size / ips if ips and total else None
        text = _("epoch {get:.1f}/{epochs} · {steps} · {ips:,.0f} images/s").format(
            get=p.get("epoch", 0), epochs=epochs, steps=steps, ips=ips
        ) + (_(" · about {value:.1f} min left").format(value=eta / 60) if eta else "")
    return (min(step / total, 1.0) if total else 0.0), text


def run_json(store: RunReader, run: Run) -> dict:
    """The CLI's `runs --json` object for one run."""
    fields = ("epoch", "train_loss", "train_error", "test_loss", "test_error", "seconds", "images_per_second")
    data = run.to_dict()
    data["epochs"] = [{k: e[k] for k in fields} for e in store.epochs(run.id)]
    return data


def metrics_csv(store: RunReader, run_id: str) -> str:
    """Every per-epoch and per-step record of a run, one CSV (a `record` column tells them apart), in step
    order: an epoch's row follows its last step's. Errors are fractions (0.25 = 25 %), and their column
    names say so."""
    columns = (
        "record",
        "step",
        "epoch",
        "loss",
        "error_fraction",
        "lr",
        "images_per_second",
        "train_loss",
        "train_error_fraction",
        "test_loss",
        "test_error_fraction",
        "seconds",
    )

    def row(**cells) -> list:  # a record's cells by column name; the other columns are left empty
        return [cells.get(c, "") for c in columns]

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    records = []  # (step, 0 for a step row / 1 for an epoch row, the row)
    for e in store.epochs(run_id):
        epoch_cells = {k: e[k] for k in ("step", "epoch", "images_per_second", "train_loss", "test_loss", "seconds")}
        errors = {"train_error_fraction": e["train_error"], "test_error_fraction": e["test_error"]}
        records.append((e["step"] or 0, 1, row(record="epoch", **epoch_cells, **errors)))
    steps = store.steps(run_id)
    for i in range(len(steps["step"])):
        step = int(steps["step"][i])
        step_cells = {k: steps[k][i] for k in ("epoch", "loss", "lr", "images_per_second")}
        records.append((step, 0, row(record="step", step=step, error_fraction=steps["error"][i], **step_cells)))
    writer.writerows(cells for *_, cells in sorted(records, key=lambda r: r[:2]))
    return out.getvalue()


def depth_table_csv(rows: Sequence[DepthRow]) -> str:
    """The Degradation page's table as CSV: per depth, the plain and the residual net's latest training and
    test error in percent (empty before a finished epoch), and what keeps that depth from a verdict."""
    from .degradation import describe_gap  # plotly: not for listing runs

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "depth",
            "plain_train_error_percent",
            "plain_test_error_percent",
            "resnet_train_error_percent",
            "resnet_test_error_percent",
            "not_comparable_because",
        ]
    )
    for r in rows:
        errors = (r.plain_train, r.plain_test, r.residual_train, r.residual_test)
        writer.writerow(
            [
                r.depth,
                *("" if v is None else percent_cell(v) for v in errors),
                "; ".join(describe_gap(g) for g in r.unfinished),
            ]
        )
    return out.getvalue()
