"""Which trained runs to show: a ResNet with its plain twin, and whether a net learned at all.

One rule for every page and the lesson: a reference run pairs only with a reference run (the user's
runs pair with the user's), and a net whose final training error is still near chance has not learned,
so its lesion study, landscape or responses say nothing about trained nets of its kind.
"""

from __future__ import annotations

from ..store.loading import find_twin
from ..store.protocol import RunReader
from ..store.run_store import Run
from .experiments import LEARNED_BELOW_CHANCE
from .reference import is_reference


def twin_pairs(store: RunReader, statuses=("completed",)) -> list[tuple[Run, Run]]:
    """(ResNet, plain twin) pairs among the store's runs with one of `statuses`: the user's pairs first,
    newest first, then the reference pairs, shallowest first."""
    runs = store.list(list(statuses))
    pairs = []
    for run in reversed(runs):  # newest first
        if not run.spec.skip:
            continue
        twin = find_twin(store, run, statuses=statuses, among=[r for r in runs if is_reference(r) == is_reference(run)])
        if twin is not None:
            pairs.append((run, twin))
    return sorted(pairs, key=lambda p: (1, p[0].spec.depth) if is_reference(p[0]) else (0, 0))  # stable


def final_train_error(store: RunReader, run: Run) -> float | None:
    """Training error (a fraction) after the run's last epoch, or None before one."""
    epochs = store.epochs(run.id)
    return epochs[-1]["train_error"] if epochs else None


def chance_error(num_classes: int) -> float:
    """The error of guessing: 90% with 10 classes."""
    return 1 - 1 / num_classes


def has_learned(train_error: float | None, num_classes: int) -> bool | None:
    """Whether a net whose final training error is `train_error` learned: at least LEARNED_BELOW_CHANCE
    below chance. None when it has no finished epoch."""
    if train_error is None:
        return None
    return train_error < chance_error(num_classes) - LEARNED_BELOW_CHANCE


def run_has_learned(store: RunReader, run: Run) -> bool | None:
    return has_learned(final_train_error(store, run), run.spec.num_classes)


def informative_pair(store: RunReader, statuses=("completed",)) -> tuple[tuple[Run, Run] | None, str]:
    """The pair a page opens on when its URL names none, and why: the user's newest pair in which both
    nets learned, else the reference pair in which both learned (the deepest such), else the first pair
    there is. The reason is a sentence for the page."""
    pairs = twin_pairs(store, statuses)
    if not pairs:
        return None, "There is no trained ResNet with its plain twin yet."
    learned = [p for p in pairs if run_has_learned(store, p[0]) and run_has_learned(store, p[1])]
    mine = [p for p in learned if not is_reference(p[0])]
    if mine:
        return mine[0], "Showing your newest pair in which both nets learned."
    refs = [p for p in learned if is_reference(p[0])]
    if refs:
        return refs[-1], "Showing the reference pair in which both nets learned; your own pairs are in the list."
    return pairs[0], "No pair here has two nets that learned; showing the first pair there is."
