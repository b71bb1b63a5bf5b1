"""The Responses view: the paper's Fig. 7 (each 3×3 layer's response std, by layer and sorted) for runs,
with the verdicts their numbers give; and which runs a page shows when its link names none."""

from __future__ import annotations

import numpy as np

from resnet_core.model.net import layout_of
from resnet_core.presentation.charts import LayerSeries, responses_figure
from resnet_core.presentation.describe import percent
from resnet_core.presentation.fig7 import fig7_verdicts
from resnet_core.presentation.i18n import _, in_each_language, joined
from resnet_core.presentation.palette import shade
from resnet_core.presentation.reports import run_label
from resnet_core.presentation.views import View
from resnet_core.store.run_store import Run
from resnet_core.studies.pairs import chance_error, final_train_error, informative_pair, run_has_learned
from resnet_core.studies.reference import is_reference
from ui.reference import reference_store


def recorded_runs(store) -> dict[str, Run]:
    """The runs that measured responses (after an epoch), newest first."""
    recorded = store.runs_with_probe("responses")
    return {r.id: r for r in reversed(store.list()) if r.id in recorded}


def default_runs(store, runs: dict[str, Run]) -> tuple[list[str], str]:
    """The runs Fig. 7 opens on when the link names none, and why: the most informative twin pair
    (studies/pairs.informative_pair), and the ResNets of the same source that learned and differ from the
    pair's only in depth (the paper's second comparison) — never a net that did not learn when the pair
    learned, never a twin without its pair."""
    pair, reason = informative_pair(store)
    reason = _(reason)  # said in English by studies/pairs.py (marked in presentation/library_words.py)
    if pair is None or not all(r.id in runs for r in pair):
        return [], reason
    residual, plain = pair
    deeper = [
        r.id
        for r in runs.values()
        if r.spec.skip
        and r.id != residual.id
        and r.status == "completed"
        and is_reference(r) == is_reference(residual)
        and r.spec.replace(depth=residual.spec.depth) == residual.spec
        and r.spec.depth != residual.spec.depth
        and run_has_learned(store, r)
    ]
    chosen = [residual.id, plain.id] + sorted(deeper, key=lambda i: runs[i].spec.depth)
    if deeper:
        names = _(", ").join(run_label(runs[i]) for i in deeper[:3])
        reason += _(" Also shown: {names}, which learned — for the paper's second comparison (deeper ResNets).").format(
            names=names
        )
    return chosen[:5], reason


def _untrained_sentence(store, run: Run) -> str:
    error = final_train_error(store, run)
    return _("{run_label} (final training error {value}, chance {value2})").format(
        run_label=run_label(run), value=percent(error, 0), value2=percent(chance_error(run.spec.num_classes), 0)
    )


def responses_view(store, run_ids: list[str], epoch: int | None = None) -> View:
    """Fig. 7 for `run_ids` (runs that recorded responses) after `epoch` (None: each run's latest; a run
    that has not reached it shows its latest): blue ResNets solid, orange plain dashed, darker = deeper;
    one verdict per comparison the runs allow, an untrained one where a net did not learn."""
    runs = {r.id: r for r in store.list() if r.id in run_ids}
    records = {i: store.probe(i, "responses") for i in run_ids}  # (names, epochs, values (E, layers))
    series, means, untrained = [], {}, {}
    for skip in (False, True):
        group = sorted((i for i in run_ids if runs[i].spec.skip == skip), key=lambda i: runs[i].spec.depth)
        for k, run_id in enumerate(group):
            names, epochs, values = records[run_id]
            row = len(epochs) - 1 if epoch is None else max(int(np.searchsorted(epochs, epoch, side="right")) - 1, 0)
            run = runs[run_id]
            series.append(
                LayerSeries(
                    _("{run_label} (epoch {epochs})").format(run_label=run_label(run), epochs=epochs[row]),
                    shade(skip, k, len(group)),
                    names,
                    values[row],
                    layout_of(run.spec).layer_indices(names),
                    dash="solid" if skip else "dash",
                )
            )
            means[run.spec] = values[row]  # per layer: the verdicts resample the layers
            if run_has_learned(store, run) is False:
                untrained[run.spec] = _untrained_sentence(store, run)
    shown = sorted({(runs[i].spec.depth, len(records[i][0])) for i in run_ids})
    counts = joined(
        _("{n} of the {depth} layers of a {depth}-layer net").format(n=n, depth=depth) for depth, n in shown
    )
    caption = _(
        "Blue: ResNets (solid), orange: plain nets (dashed); darker = deeper. Measured on fixed "
        "test images with the net in evaluation mode. Compare nets trained on the same data for "
        "the same time. Each line has a point per 3×3 conv ({counts}), at the layer's number in "
        "the Architecture diagram; 1×1 convs and the fc layer have no Fig. 7 response."
    ).format(counts=counts)
    verdicts = fig7_verdicts(means, untrained)
    notes = (
        []
        if verdicts
        else [_("To compare, show a plain net with its residual twin, or two ResNets that differ only in depth.")]
    )
    return View("", responses_figure(series), caption, verdicts, notes)


def last_epoch(store, run_ids: list[str]) -> int:
    return max(int(store.probe(i, "responses")[1].max()) for i in run_ids)


def warm() -> None:
    """Fig. 7 of the runs this page opens on without a link when the visitor has none of their own (the
    reference runs' `default_runs`), in each language, ahead of a first open (ui/warm.py's background thread):
    the nets' layer tables and the figure's first drawing."""
    ref = reference_store()
    chosen = default_runs(ref, recorded_runs(ref))[0] if ref is not None else []
    if chosen:
        in_each_language(lambda: responses_view(ref, chosen))
