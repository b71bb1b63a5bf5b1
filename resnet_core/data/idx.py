"""MNIST and Fashion-MNIST from their four IDX files, as Yann LeCun and Zalando distribute them.

An IDX file is a big-endian header — two zero bytes, a type code (0x08: unsigned byte), the number of
dimensions — then one uint32 per dimension, then the data (LeCun et al., "THE MNIST DATABASE", file
formats). The files may be gzipped (as downloaded, and as Debian's `dataset-fashion-mnist` installs them).
Each file is checked against the size its header promises, so a truncated or foreign file gets a clear
message rather than a wrong array.
"""

from __future__ import annotations

import functools
import gzip
import os
from pathlib import Path

import numpy as np

from ..words import WordedError, Words

# The four files of each dataset, in the names both distributions use.
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# Where else a dataset's files may already be: Debian's packages install them here.
SYSTEM_FOLDERS = {
    "fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),),
    "mnist": (Path("/usr/share/datasets/mnist"),),
}
SYSTEM_PACKAGES = {"fashion-mnist": "dataset-fashion-mnist"}  # the Debian/Ubuntu package that installs them there
CLASSES = {  # Zalando's README (fashion-mnist), and the digits
    "fashion-mnist": (
        "T-shirt/top",
        "trouser",
        "pullover",
        "dress",
        "coat",
        "sandal",
        "shirt",
        "sneaker",
        "bag",
        "ankle boot",
    ),
    "mnist": tuple(str(d) for d in range(10)),
}
UBYTE = 0x08


class IdxError(WordedError, ValueError):
    """An IDX file that is not what its name says (wrong magic, wrong type, truncated), in words a page says in
    the reader's language: DatasetUnavailable quotes them (words.py)."""


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array an IDX file (gzipped or not) holds, uint8, shaped as its header says; read-only.

    Read once per process while the file is unchanged (the same inode, size and modification time): the app loads a
    run's dataset for each page that looks at the run, and a pair of nets twice, and decompressing
    Fashion-MNIST's 60,000 training images each time was most of that."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as err:
        raise IdxError("{file} cannot be read: {err}", file=path.name, err=str(err)) from err
    return _read_idx(path.resolve(), stat.st_ino, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)  # the four files of two datasets
def _read_idx(path: Path, inode: int, size: int, mtime_ns: int) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:  # gzip raises BadGzipFile (an OSError) or EOFError when cut short
        raise IdxError("{file} cannot be read: {err}", file=path.name, err=str(err)) from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise IdxError("{file} is not an IDX file (its first bytes are not an IDX header)", file=path.name)
    if raw[2] != UBYTE:
        raise IdxError(
            "{file} holds type 0x{code:02x}, not unsigned bytes (0x{ubyte:02x})",
            file=path.name,
            code=raw[2],
            ubyte=UBYTE,
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise IdxError("{file} has a broken header", file=path.name)
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise IdxError(
            "{file} holds {size:,} bytes of data; its header promises {expected:,}",
            file=path.name,
            size=len(raw) - header,
            expected=expected,
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def find_files(folders: list[Path]) -> dict[str, Path] | None:
    """The four files (each gzipped or not) in the first of `folders` that has all four; None if none has."""
    for folder in folders:
        found = {}
        for key, stem in FILES.items():
            for candidate in (folder / f"{stem}.gz", folder / stem):
                if candidate.is_file():
                    found[key] = candidate
                    break
        if len(found) == len(FILES):
            return found
    return None


def load_idx_dataset(name: str, files: dict[str, Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images (N, 1, 28, 28), train labels, test images, test labels) from the four files;
    IdxError when one is broken or they do not fit together."""
    arrays = {key: read_idx(path) for key, path in files.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1] != images.shape[2]:
            raise IdxError(
                "{file} does not hold square images: {shape}", file=files[f"{split}_images"].name, shape=images.shape
            )
        if labels.ndim != 1 or len(labels) != len(images):
            raise IdxError(
                "{file} holds {labels:,} labels for {images:,} images",
                file=files[f"{split}_labels"].name,
                labels=len(labels),
                images=len(images),
            )
        if labels.size and labels.max() >= len(CLASSES[name]):
            raise IdxError(
                "{file} has a label {label} outside 0–{last}",
                file=files[f"{split}_labels"].name,
                label=int(labels.max()),
                last=len(CLASSES[name]) - 1,
            )
    return (
        arrays["train_images"][:, None],  # (N, 1, H, W): one channel
        arrays["train_labels"].astype(np.int64),
        arrays["test_images"][:, None],
        arrays["test_labels"].astype(np.int64),
    )


def missing_words(name: str, root: Path) -> Words:
    """Where to put a missing dataset's files, in words a page says in the reader's language (words.py)."""
    package = SYSTEM_PACKAGES.get(name)
    return Words(
        "{name} was not found: put its four files ({files}) in {folder}, or install them in {system}{package}, or "
        "run load_dataset({name!r}, download=True) on a machine with internet access. The embedded 'shapes' "
        "dataset needs no download.",
        name=name,
        files=", ".join(f"{s}.gz" for s in FILES.values()),
        folder=str(root / name),
        # one folder per dataset, so this English "or" never reaches a translated sentence
        system=" or ".join(str(f) for f in SYSTEM_FOLDERS[name]),
        package=Words(" (Debian/Ubuntu: `apt-get install {package}`)", package=package) if package else "",
    )
