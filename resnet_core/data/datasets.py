"""Image datasets for ResNet Lab: the embedded ``shapes`` set, and CIFAR-10/100 through torchvision.

Every dataset comes back as one :class:`ImageDataset`: whole uint8 tensors ``(N, 3, 32, 32)`` on the
CPU, int64 labels, the class names and the per-channel mean/std of the training images. Raw uint8
pixels rather than a ``DataLoader`` let the trainer move the whole set to the device once and
normalise and augment whole batches there (the airbench approach: no DataLoader, no workers).

``shapes`` is ours: 10 classes of geometric shapes and textures rendered from a seed (shapes.py), so the
app works offline (CIFAR cannot be downloaded on our machines). The rendered set is cached as an
uncompressed ``.npz`` (about 185 MB) at ``data_root()/shapes/shapes-v{version}-seed{seed}-{train}-{test}.npz``,
whose arrays are memory-mapped when loaded (`_map_npz`): a subset reads only its own images from the file.

    >>> ds = load_dataset("shapes")                     # rendered once (seconds), then read from cache
    >>> ds.train_images.shape, ds.num_classes
    (torch.Size([50000, 3, 32, 32]), 10)
    >>> small = load_dataset("shapes", train_size=5000)  # class-balanced subset, the same test set
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..atomic import atomic_file
from ..words import WordedError
from . import own
from .catalog import (  # the names live where the command line reads them without torch
    DATASETS,
    data_root,
    facts,
)
from .shapes import SHAPES_CLASSES, SHAPES_FORMAT_VERSION, make_shapes, seeded_generator

SHAPES_TRAIN_SIZE = 50_000  # CIFAR's split sizes, so an epoch means the same amount of work
SHAPES_TEST_SIZE = 10_000


class DatasetUnavailable(WordedError, FileNotFoundError):
    """A dataset's files are missing (and could not be downloaded); the message says what to do, in words for
    the user (in theirs on a page: words.py)."""


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """A whole image-classification dataset in memory: uint8 ``(N, C, H, W)`` tensors on the CPU."""

    name: str
    classes: tuple[str, ...]
    train_images: torch.Tensor = field(repr=False)  # (N, C, H, W) uint8
    train_labels: torch.Tensor = field(repr=False)  # (N,) int64
    test_images: torch.Tensor = field(repr=False)  # (M, C, H, W) uint8
    test_labels: torch.Tensor = field(repr=False)  # (M,) int64
    mean: tuple[float, ...] = (0.0, 0.0, 0.0)  # per channel, of the train images, on [0, 1]
    std: tuple[float, ...] = (1.0, 1.0, 1.0)  # population std, same scale

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            images, labels = getattr(self, f"{split}_images"), getattr(self, f"{split}_labels")
            if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[-1] != images.shape[-2]:
                raise ValueError(f"{split}_images must be uint8 (N, C, S, S), got {images.dtype} {tuple(images.shape)}")
            if labels.dtype != torch.int64 or labels.shape != images.shape[:1]:
                raise ValueError(
                    f"{split}_labels must be int64 ({images.shape[0]},), got {labels.dtype} {tuple(labels.shape)}"
                )

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def in_channels(self) -> int:
        return self.train_images.shape[1]

    @property
    def image_size(self) -> int:
        return self.train_images.shape[-1]


def num_classes(name: str) -> int:
    """How many classes a dataset has, without loading it (a net's `num_classes` must match)."""
    return facts(name).num_classes


def load_dataset(
    name: str = "shapes",
    root: str | os.PathLike | None = None,
    download: bool = False,
    *,
    train_size: int | None = None,
    test_size: int | None = None,
    seed: int = 0,
) -> ImageDataset:
    """Load a dataset by name (one of ``DATASETS``) as an :class:`ImageDataset`.

    ``train_size`` / ``test_size`` keep a class-balanced subset drawn with ``seed`` (None: all of it).
    ``own:NAME`` is a dataset imported from your images (data/own.py). For ``shapes`` the seed also picks
    the rendered images; ``download`` applies to CIFAR and (Fashion-)MNIST.
    Raises ``ValueError`` for an unknown name or a bad size, :class:`DatasetUnavailable` for missing files.
    """
    if name not in DATASETS and not name.startswith(own.PREFIX):
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    classes: Sequence[str]
    train_x: torch.Tensor | np.ndarray
    test_x: torch.Tensor | np.ndarray
    if name.startswith(own.PREFIX):
        classes, (train_x, train_y, test_x, test_y) = _load_own(name, data_root(root))
    elif name == "shapes":
        classes = SHAPES_CLASSES
        train_x, train_y, test_x, test_y = _load_shapes(data_root(root), seed)  # images: numpy, maybe mapped
    elif name in IDX_DATASETS:
        classes, (train_x, train_y, test_x, test_y) = _load_idx(name, data_root(root), download)
    else:
        classes, (train_x, train_y, test_x, test_y) = _load_cifar(name, data_root(root), download)
    # Each subset has its own random stream, so the test subset does not change with train_size.
    train_keep = _balanced_subset(train_y, train_size, len(classes), seeded_generator(seed, 7, 0), "train_size")
    test_keep = _balanced_subset(test_y, test_size, len(classes), seeded_generator(seed, 7, 1), "test_size")
    train_images, test_images = _take(train_x, train_keep), _take(test_x, test_keep)
    if train_keep is not None:
        train_y = train_y[train_keep]
    if test_keep is not None:
        test_y = test_y[test_keep]
    mean, std = channel_stats(train_images)
    return ImageDataset(name, tuple(classes), train_images, train_y, test_images, test_y, mean, std)


def prepare_dataset(name: str = "shapes", root: str | os.PathLike | None = None, seed: int = 0) -> None:
    """Have dataset `name` ready to load: the embedded ``shapes`` set rendered and cached (seconds of CPU
    the first time, nothing once cached: the cache is only mapped; see BENCHMARKS.md, 'Time to first
    point'). CIFAR is there or not: nothing to do. The app's standby worker does this ahead of a fresh
    install's first run."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    if name == "shapes":
        _load_shapes(data_root(root), seed)


def _take(images: torch.Tensor | np.ndarray, keep: torch.Tensor | None) -> torch.Tensor:
    """The rows `keep` (None: all) as a contiguous in-memory tensor of its own. From a memory-mapped cache
    only those rows are read from the file; nothing returned refers to the (read-only) mapping."""
    if isinstance(images, torch.Tensor):
        return (images if keep is None else images[keep]).contiguous()
    rows = np.array(images) if keep is None else images[keep.numpy()]  # a copy either way
    return torch.from_numpy(np.ascontiguousarray(rows))


def sample_test_images(ds: ImageDataset, n: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` test images ``(n, C, H, W)`` uint8 and their labels: one per class first, then others.

    The one-per-class picks come first, in class order, so a page that shows a few images shows variety.
    """
    m = len(ds.test_labels)
    if not 1 <= n <= m:
        raise ValueError(f"n must be between 1 and {m} (the test-set size), got {n}")
    order = torch.randperm(m, generator=seeded_generator(seed, 11))
    labels = ds.test_labels[order].numpy()
    _, first = np.unique(labels, return_index=True)  # first place of each class in the shuffle
    first = first[:n]  # np.unique sorts by class
    rest = np.setdiff1d(np.arange(m), first)[: n - len(first)]  # sorted: keeps the shuffle's order
    picks = order[torch.from_numpy(np.concatenate([first, rest]))]
    return ds.test_images[picks], ds.test_labels[picks]


def channel_stats(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and population std of uint8 images ``(N, C, H, W)``, on the [0, 1] scale.

    A histogram of the 256 values per channel is exact in float64 and never makes a float copy of
    the images (that would be 1.2 GB for CIFAR's 50,000 training images).
    """
    counts = torch.stack(
        [torch.bincount(images[:, c].reshape(-1), minlength=256) for c in range(images.shape[1])]
    ).double()
    values = torch.arange(256, dtype=torch.float64) / 255
    total = counts.sum(dim=1)
    mean = (counts * values).sum(dim=1) / total
    var = (counts * values.square()).sum(dim=1) / total - mean.square()
    return tuple(mean.tolist()), tuple(var.clamp_min(0).sqrt().tolist())


def _balanced_subset(
    labels: torch.Tensor, size: int | None, num_classes: int, g: torch.Generator, what: str
) -> torch.Tensor | None:
    """Sorted indices of a class-balanced random subset of ``size`` items (None: keep everything).

    Per-class counts differ by at most one; sorting keeps the full set's (already shuffled) order.
    """
    n = len(labels)
    if size is None:
        return None
    if not 1 <= size <= n:
        raise ValueError(f"{what} must be between 1 and {n}, got {size}")
    per_class = torch.full((num_classes,), size // num_classes)
    per_class[torch.randperm(num_classes, generator=g)[: size % num_classes]] += 1  # a fair remainder
    keep = []
    for c in range(num_classes):
        pool = torch.nonzero(labels == c).flatten()
        if per_class[c] > len(pool):
            raise ValueError(f"{what}={size} needs {int(per_class[c])} images of class {c}; only {len(pool)} exist")
        keep.append(pool[torch.randperm(len(pool), generator=g)[: per_class[c]]])
    return torch.cat(keep).sort().values


# ----------------------------------------------------------------------------------------- shapes


def shapes_cache(root: str | os.PathLike | None = None, seed: int = 0) -> Path:
    """Where the rendered ``shapes`` set of this seed is cached (it may not exist yet)."""
    n_train, n_test = SHAPES_TRAIN_SIZE, SHAPES_TEST_SIZE
    return data_root(root) / "shapes" / f"shapes-v{SHAPES_FORMAT_VERSION}-seed{seed}-{n_train}-{n_test}.npz"


def _load_shapes(root: Path, seed: int) -> tuple[np.ndarray, torch.Tensor, np.ndarray, torch.Tensor]:
    """The rendered ``shapes`` set from its cache file: images as read-only memory maps of the file (the
    caller copies the rows it keeps: `_take`), labels as tensors; rendered and cached on a miss."""
    n_train, n_test = SHAPES_TRAIN_SIZE, SHAPES_TEST_SIZE
    path = shapes_cache(root, seed)
    if path.is_file():
        try:
            arrays = _map_npz(
                path,
                {
                    "train_images": ((n_train, 3, 32, 32), np.uint8),
                    "train_labels": ((n_train,), np.int64),
                    "test_images": ((n_test, 3, 32, 32), np.uint8),
                    "test_labels": ((n_test,), np.int64),
                },
            )
            return (
                arrays["train_images"],
                torch.from_numpy(np.array(arrays["train_labels"])),
                arrays["test_images"],
                torch.from_numpy(np.array(arrays["test_labels"])),
            )
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            pass  # an unreadable cache (say, half copied by hand) is simply rendered again
    train_images, train_labels = make_shapes(n_train, seed, "train")
    test_images, test_labels = make_shapes(n_test, seed, "test")
    with atomic_file(path) as f:  # uncompressed: pixel noise compresses badly, and it can be memory-mapped
        np.savez(
            f,
            train_images=train_images.numpy(),
            train_labels=train_labels.numpy(),
            test_images=test_images.numpy(),
            test_labels=test_labels.numpy(),
        )
    return train_images.numpy(), train_labels, test_images.numpy(), test_labels


def _map_npz(path: Path, expected: dict[str, tuple[tuple[int, ...], type]]) -> dict[str, np.ndarray]:
    """The arrays of an uncompressed ``.npz`` as read-only memory maps, each checked against its expected
    (shape, dtype); ValueError, KeyError or BadZipFile where the file is not what it should be.

    np.load reads a whole .npz member (185 MB for the shapes set) even when a run keeps 5,000 of its 50,000
    images, and cannot map one; but an uncompressed member is a whole .npy file stored as is inside the zip,
    so it can be mapped at its offset: its local header (30 bytes, then the name and an extra field) and the
    .npy header give where its data starts. A run's start then reads the ~20 MB it uses (BENCHMARKS.md,
    "Time to first point")."""
    arrays: dict[str, np.ndarray] = {}
    size = path.stat().st_size
    with zipfile.ZipFile(path) as archive, open(path, "rb") as f:
        for name, (shape, dtype) in expected.items():
            info = archive.getinfo(f"{name}.npy")
            if info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"{path}: {name} is compressed")
            f.seek(info.header_offset)
            local = f.read(30)
            if len(local) != 30 or local[:4] != b"PK\x03\x04":
                raise zipfile.BadZipFile(f"{path}: no local header for {name}")
            start = (
                info.header_offset
                + 30
                + int.from_bytes(local[26:28], "little")
                + int.from_bytes(local[28:30], "little")
            )
            f.seek(start)
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                got_shape, fortran, got_dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                got_shape, fortran, got_dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"{path}: {name} has .npy version {version}")
            if got_shape != shape or got_dtype != np.dtype(dtype) or fortran:
                raise ValueError(f"{path}: {name} is {got_dtype} {got_shape}, expected {np.dtype(dtype)} {shape}")
            offset = f.tell()
            nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
            if offset - start + nbytes != info.file_size or offset + nbytes > size:
                raise ValueError(f"{path}: {name} is cut short")
            arrays[name] = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)
    return arrays


# Signed distances of unit-sized shapes in the object frame (negative inside; Inigo Quilez's 2D
# distance functions). Half-plane maxima are exact near edges, which is all the anti-aliasing needs.


# Texture fills, in pixels rather than object units, so that their period never drops below
# TEXTURE_PERIOD_PX (finer patterns alias into mush); they share the object's rotation.


# -------------------------------------------------------------------------------------- own images


def _load_own(name: str, root: Path) -> tuple[list[str], tuple[torch.Tensor, ...]]:
    """A dataset imported from the user's images (data/own.py)."""
    try:
        info, arrays = own.load_own(name, root)
    except own.OwnDataError as err:
        raise DatasetUnavailable(err.template, **err.params) from err  # its words, which a page translates
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        raise DatasetUnavailable(
            "{name}'s files in {folder} cannot be read ({err}): import it again",
            name=name,
            folder=str(own.own_dir(root)),
            err=str(err),
        ) from err
    keys = ("train_images", "train_labels", "test_images", "test_labels")
    return list(info.classes), tuple(torch.from_numpy(arrays[k]) for k in keys)


# ------------------------------------------------------------------------------ MNIST, Fashion-MNIST

IDX_DATASETS = ("fashion-mnist", "mnist")
_TORCHVISION_FOLDERS = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST"}  # where torchvision downloads them


def _load_idx(name: str, root: Path, download: bool) -> tuple[list[str], tuple[torch.Tensor, ...]]:
    """(Fashion-)MNIST from its four IDX files (data/idx.py), as uint8 ``(N, 1, 28, 28)`` tensors: from
    `root/<name>/`, where torchvision downloads them (`root/<name>/<FashionMNIST|MNIST>/raw/`), or the
    folder a Debian package installs them in."""
    from . import idx

    folders = [root / name, root / name / _TORCHVISION_FOLDERS[name] / "raw", *idx.SYSTEM_FOLDERS[name]]
    files = idx.find_files(folders)
    if files is None and download:
        from torchvision import datasets as tv  # imported here: slow to import, and only a download needs it

        cls = tv.FashionMNIST if name == "fashion-mnist" else tv.MNIST
        try:
            for train in (True, False):
                cls(root=root / name, train=train, download=True)
        except (RuntimeError, OSError) as err:
            raise DatasetUnavailable(
                "{missing} (The download failed: {err}.)", missing=idx.missing_words(name, root), err=str(err)
            ) from err
        files = idx.find_files(folders)
    if files is None:
        missing = idx.missing_words(name, root)
        raise DatasetUnavailable(missing.template, **missing.params)
    try:
        arrays = idx.load_idx_dataset(name, files)
    except idx.IdxError as err:
        raise DatasetUnavailable(  # the file's own words, which a page translates too
            "{name}: {err}. Replace that file with a good copy.", name=name, err=err.words
        ) from err
    return list(idx.CLASSES[name]), tuple(torch.from_numpy(a.copy()) for a in arrays)


# ------------------------------------------------------------------------------------------ CIFAR


# (archive, extracted folder) as torchvision's CIFAR10/CIFAR100 name them (`filename`, `base_folder`;
# tests/test_datasets.py checks they still agree): a missing dataset is told without importing torchvision,
# which takes seconds of a 2-core CPU — the Train page asks at every first open.
CIFAR_FILES = {
    "cifar10": ("cifar-10-python.tar.gz", "cifar-10-batches-py"),
    "cifar100": ("cifar-100-python.tar.gz", "cifar-100-python"),
}


def _load_cifar(name: str, root: Path, download: bool) -> tuple[list[str], tuple[torch.Tensor, ...]]:
    """CIFAR-10/100 through torchvision, as uint8 ``(N, 3, 32, 32)`` tensors and int64 labels."""
    archive, folder = CIFAR_FILES[name]
    if not download and not (root / archive).is_file() and not (root / folder).is_dir():
        raise _cifar_missing(name, root, archive, folder)
    from torchvision import datasets as tv  # imported here: slow to import, and only CIFAR needs it

    cls = tv.CIFAR10 if name == "cifar10" else tv.CIFAR100
    # torchvision only extracts an archive inside download(); that step finds a present archive by
    # its checksum and never touches the network, so a hand-copied .tar.gz works offline too.
    download = download or (root / cls.filename).is_file()
    try:
        splits = [cls(root=root, train=train, download=download) for train in (True, False)]
    except (RuntimeError, OSError) as e:  # "Dataset not found or corrupted", or a failed download
        raise _cifar_missing(name, root, cls.filename, cls.base_folder) from e
    arrays = []
    for split in splits:
        # .data is (N, 32, 32, 3) HWC; the nets want CHW.
        arrays.append(torch.from_numpy(split.data).permute(0, 3, 1, 2).contiguous())
        arrays.append(torch.as_tensor(split.targets, dtype=torch.int64))
    return list(splits[0].classes), tuple(arrays)


def _cifar_missing(name: str, root: Path, archive: str, folder: str) -> DatasetUnavailable:
    return DatasetUnavailable(
        "{name} was not found in {root} (or its files are corrupted), and it could not be downloaded. "
        "Put {archive} (or its extracted folder {folder}/) in {root}, or point the environment variable "
        "RESNET_LAB_DATA at the folder that holds it, or run load_dataset({name!r}, download=True) "
        "on a machine with internet access. The embedded 'shapes' dataset needs no download: "
        "load_dataset('shapes').",
        name=name,
        root=str(root),
        archive=archive,
        folder=folder,
    )
