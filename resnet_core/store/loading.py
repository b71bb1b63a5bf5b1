"""A stored run's trained net and data, for the pages that look at finished runs (Explain, the "why"
experiments): the run's dataset with its exact subset, its newest checkpoint as a `Classifier`, its twin."""

from __future__ import annotations

from ..analysis.classifier import Classifier
from ..data.datasets import ImageDataset, load_dataset
from ..model.net import build_net
from .protocol import RunReader
from .run_store import Run


def run_dataset(run: Run) -> ImageDataset:
    """The dataset a run was trained on, with the same subset (so the same mean and std)."""
    return load_dataset(run.dataset, **run.config.data_options())


def classifier_from_run(store: RunReader, run: Run, data: ImageDataset | None = None) -> Classifier:
    """The run's net with its newest checkpoint's weights (safetensors via the store), in eval mode.

    `data` is the run's dataset (`run_dataset(run)`), for the class names and the normalisation.
    """
    data = data or run_dataset(run)
    state, _, _ = store.load_checkpoint(run.id)
    net = build_net(run.spec)
    net.load_state_dict(state)
    net.eval()
    return Classifier(
        net,
        f"{run.spec.name} · {run.dataset}",
        tuple(data.classes),
        tuple(data.mean),
        tuple(data.std),
        data.image_size,
        None,
        run.spec.skip,
        run.spec,
        run.id,
        run.dataset,
    )


def find_twin(store: RunReader, run: Run, statuses=("completed",), among: list[Run] | None = None) -> Run | None:
    """The run's twin: the same net with skip connections toggled, on the same dataset, created together
    with it — the same `config.experiment` (the degradation experiment, or the pair id that "Train plain +
    residual twins" gives both runs) — else one trained the same way (RunConfig equal but for the
    experiment tag). Never a guess across recipes. The newest such run with one of `statuses` (None: any),
    from `among` if given (else the store)."""
    twin_spec = run.spec.replace(skip=not run.spec.skip)
    pool = among if among is not None else store.list(list(statuses) if statuses else None)
    twins = [
        r
        for r in pool
        if r.id != run.id
        and r.spec == twin_spec
        and r.dataset == run.dataset
        and (statuses is None or r.status in statuses)
    ]
    together = [r for r in twins if run.config.experiment and r.config.experiment == run.config.experiment]
    same_recipe = [r for r in twins if r.config.replace(experiment=None) == run.config.replace(experiment=None)]
    found = together or same_recipe
    return found[-1] if found else None


def final_test_error(store: RunReader, run: Run) -> float | None:
    """Test error (a fraction) after the run's last epoch, or None."""
    epochs = store.epochs(run.id)
    return epochs[-1]["test_error"] if epochs else None
