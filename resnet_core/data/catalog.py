"""What each dataset is — classes, image shape, split sizes — and the loader's choices, without importing
torch: the command line checks a request against these facts before it makes a run, and its listing
commands never load torch at all. datasets.py loads the data itself; tests/test_cli_requests.py checks
that the two agree."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


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


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Where datasets live: ``root``, else env ``RESNET_LAB_DATA``, else ``~/.cache/resnet-lab/data``."""
    if root is None:
        root = os.environ.get("RESNET_LAB_DATA") or Path.home() / ".cache" / "resnet-lab" / "data"
    return Path(root).expanduser()


def facts(name: str, root: str | os.PathLike | None = None) -> DatasetFacts:
    """A dataset's facts: the built-in ones, or one the user imported (`own:<name>`, data/own.py) into the
    data folder `root`. ValueError, naming the choices, for a name that is neither."""
    from . import own

    if name.startswith(own.PREFIX):
        try:
            info = own.find_own(name, data_root(root))
        except own.OwnDataError as err:
            raise ValueError(str(err)) from None
        return DatasetFacts(name, len(info.classes), 3, info.image_size, info.train_size, info.test_size)
    if name not in CATALOG:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return CATALOG[name]


def available_datasets(root: str | os.PathLike | None = None) -> list[str]:
    """The built-in datasets, then the user's own, by name (what pages and `runs` list)."""
    from . import own

    return [*DATASETS, *(d.dataset for d in own.list_own(data_root(root)))]
