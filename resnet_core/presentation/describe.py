"""Words a person reads about a recipe, a duration, a percentage or an experiment's progress.

The app's pages and the command line say these the same way; studies/, execution/ and store/ hold the
numbers, this module the sentences.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..store.config import RunConfig

if TYPE_CHECKING:
    from ..studies.experiments import ExperimentProgress
    from ..training.train import TrainConfig

SCHEDULE_WORDS = {"step": "÷10 at 50% and 75%", "cosine": "cosine decay to 0", "constant": "constant"}
NO_VALUE = "—"  # a table cell or a number that does not exist yet (no finished epoch)


def _is_nan(fraction: float) -> bool:
    return isinstance(fraction, float) and math.isnan(fraction)


def percent(fraction: float | None, digits: int = 1) -> str:
    """A fraction as text in percent: 0.1234 -> "12.3%"; None or NaN (no value yet) -> "—"."""
    if fraction is None or _is_nan(fraction):
        return NO_VALUE
    return f"{100 * fraction:.{digits}f}%"


def percent_cell(fraction: float | None, digits: int = 2) -> float | None:
    """A fraction as a table's number in percent (the column's name says "%"): 0.1234 -> 12.34; None or
    NaN -> None, which a table shows as "—"."""
    return None if fraction is None or _is_nan(fraction) else round(100 * fraction, digits)


def plural(n: int | float, noun: str) -> str:
    """ "1 epoch", "2 epochs", "0.5 epochs"."""
    return f"{n:g} {noun}{'' if n == 1 else 's'}"


def describe_recipe(config: RunConfig | TrainConfig | dict) -> str:
    """One line a learner can read: "6 epochs · batch 64 · lr 0.02, cosine decay to 0 · no augmentation · …"."""
    config = RunConfig.of(config)
    parts = [plural(config.epochs, "epoch"), f"batch {config.batch_size}"]
    parts.append(f"lr {config.lr:g}, {SCHEDULE_WORDS[config.schedule]}")
    if config.warmup_epochs:
        parts.append(f"{plural(config.warmup_epochs, 'epoch')} of warm-up at lr {config.lr / 10:g}")
    if config.warmup_until_error:
        parts.append(
            f"warm-up at lr {config.lr / 10:g} until the training error is below {100 * config.warmup_until_error:g}%"
        )
    parts.append("crop + flip augmentation" if config.augment else "no augmentation")
    if config.head_init_scale != 1.0:
        parts.append(f"classifier initialised at {config.head_init_scale:g}× (every net starts near chance loss)")
    size = config.train_size
    parts.append(f"{size:,} training images" if size else "all training images")
    return " · ".join(parts)


def describe_duration(seconds: float) -> str:
    """ "about 40 s", "about 12 min", "about 3.5 h", "about 2.1 days"."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"about {seconds / 3600:.1f} h"
    return f"about {seconds / 86400:.1f} days"


def describe_progress(progress: ExperimentProgress) -> str:
    """ "12 of 56 epochs · about 7 min left · queued behind 2 other runs"."""
    parts = [f"{progress.epochs_done} of {plural(progress.epochs_total, 'epoch')}"]
    if progress.epochs_done < progress.epochs_total:
        if progress.eta_seconds is not None:
            parts.append(
                f"about {max(1, round(progress.eta_seconds / 60))} min left"
                + (" once the runs ahead finish" if progress.runs_ahead else "")
            )
        else:
            parts.append("time left: known after the first epoch")
    if progress.runs_ahead:
        parts.append(f"queued behind {progress.runs_ahead} other run{'' if progress.runs_ahead == 1 else 's'}")
    return " · ".join(parts)
