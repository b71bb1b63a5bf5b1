"""What each dataset is — classes, image shape, split sizes — and the loader's choices, without importing
torch: the command line checks a request against these facts before it makes a run, and its listing
commands never load torch at all. datasets.py loads the data itself; tests/test_cli_requests.py checks
that the two agree."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetFacts:
    name: str
    num_classes: int
    in_channels: int
    image_size: int  # square images, this many pixels a side
    train_size: int  # images in the whole training split
    test_size: int


CATALOG = {
    "shapes": DatasetFacts("shapes", 10, 3, 32, 50_000, 10_000),  # CIFAR's split sizes (datasets.py)
    "cifar10": DatasetFacts("cifar10", 10, 3, 32, 50_000, 10_000),
    "cifar100": DatasetFacts("cifar100", 100, 3, 32, 50_000, 10_000),
    # 28×28 grayscale (Xiao et al. 2017; LeCun et al. 1998): the CIFAR stem takes them as they are (28 → 14 → 7).
    "fashion-mnist": DatasetFacts("fashion-mnist", 10, 1, 28, 60_000, 10_000),
    "mnist": DatasetFacts("mnist", 10, 1, 28, 60_000, 10_000),
}
DATASETS = tuple(CATALOG)
PAD_MODES = ("zeros", "reflect")  # how the loader pads before a random crop (data/loader.py)


def facts(name: str) -> DatasetFacts:
    if name not in CATALOG:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return CATALOG[name]
