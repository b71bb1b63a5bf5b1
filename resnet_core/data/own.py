"""Your own images as a dataset: a folder with one subfolder per class (torchvision's ImageFolder layout),
or a .zip of one, imported once into the data folder and loaded like any other dataset afterwards.

    info = import_images("photos.zip", root)        # -> OwnDataset(name="photos", classes=…, …)
    load_dataset("own:photos")                       # every page and command lists it by this name

Every file goes through the upload checks Explain uses (data/images.py: size, pixel count, decompression
bombs, formats); a file that is not an image we read is skipped and counted. A .zip is read in memory —
no member is ever written by its own path, so nothing lands outside the data folder — after its declared
sizes are checked against the limits (a zip bomb is refused before anything is inflated). Images are
resized to one square size (the centre square, as Explain does); a class-balanced test split is drawn with
the seed. The dataset is written to a temporary folder and renamed into place whole: a broken archive, a
single class or an empty class leaves no half-made dataset.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..words import WordedError, Words

# A file found in a folder or a zip: its path parts, and how to read its bytes (read only when used).
_Member = tuple[tuple[str, ...], Callable[[], bytes]]

PREFIX = "own:"  # a dataset name that starts with this is one of the user's (catalog.py lists them)
FOLDER = "own"  # under the data folder: own/<name>/{manifest.json,images.npz}
MANIFEST = "manifest.json"
ARRAYS = "images.npz"
MIN_CLASSES, MAX_CLASSES = 2, 100
MAX_IMAGES = 20_000  # images kept in all (a CPU trains on a few thousand; CIFAR has 60,000)
MAX_ARCHIVE_BYTES = 200 * 2**20  # an upload or folder, as stored
MAX_INFLATED_BYTES = 1024 * 2**20  # a zip's members once inflated, from its directory: the bomb guard
SIZES = (28, 32, 64)  # square sides offered; 32 is CIFAR's, which the CIFAR stem expects
DEFAULT_SIZE = 32
TEST_FRACTION = 0.2
LIMITS = Words(
    "{least}–{most} classes (one subfolder each), at least 2 images a class, at most {images:,} images and {mb} MB "
    "in all; PNG, JPEG, WebP, BMP or GIF",
    least=MIN_CLASSES,
    most=MAX_CLASSES,
    images=MAX_IMAGES,
    mb=MAX_ARCHIVE_BYTES // 2**20,
)
_SKIPPED_NAMES = ("__MACOSX", ".DS_Store", "Thumbs.db")


class OwnDataError(WordedError, ValueError):
    """Images that cannot become a dataset; the message says why and what to do (in the reader's language on a
    page: words.py)."""


@dataclass(frozen=True)
class OwnDataset:
    name: str  # without the prefix
    classes: tuple[str, ...]
    image_size: int
    train_counts: tuple[int, ...]
    test_counts: tuple[int, ...]
    skipped: int  # files that were not images we can read
    source: str  # the folder's or archive's file name (never its full path)
    seed: int

    @property
    def dataset(self) -> str:
        return PREFIX + self.name

    @property
    def train_size(self) -> int:
        return sum(self.train_counts)

    @property
    def test_size(self) -> int:
        return sum(self.test_counts)


def dataset_name(text: str) -> str:
    """A dataset name from a file or folder name: lowercase letters, digits, '-' and '_', at most 40."""
    stem = Path(text).name
    for suffix in (".zip",):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    name = re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-_")[:40]
    if not name:
        raise OwnDataError("{text!r} gives no usable dataset name: name it with letters or digits", text=text)
    return name


def own_dir(root: Path) -> Path:
    return root / FOLDER


def list_own(root: Path) -> list[OwnDataset]:
    """The user's datasets in data folder `root`, by name."""
    found = []
    folder = own_dir(root)
    if folder.is_dir():
        for child in sorted(folder.iterdir()):
            info = read_manifest(child)
            if info is not None:
                found.append(info)
    return found


def read_manifest(folder: Path) -> OwnDataset | None:
    try:
        raw = json.loads((folder / MANIFEST).read_text())
        raw["classes"], raw["train_counts"], raw["test_counts"] = (
            tuple(raw["classes"]),
            tuple(raw["train_counts"]),
            tuple(raw["test_counts"]),
        )
        return OwnDataset(**raw)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def find_own(name: str, root: Path) -> OwnDataset:
    """The manifest of dataset `own:<name>`; OwnDataError naming the ones there are when it is missing."""
    short = name.removeprefix(PREFIX)
    info = read_manifest(own_dir(root) / short)
    if info is None:
        have = ", ".join(d.dataset for d in list_own(root)) or Words("none yet")
        raise OwnDataError(
            "there is no dataset {name!r} in {folder} (yours: {have}); import a folder of images or a .zip first "
            "(the Train page, or `--dataset PATH` on the command line)",
            name=name,
            folder=str(own_dir(root)),
            have=have,
        )
    return info


def load_own(name: str, root: Path) -> tuple[OwnDataset, dict[str, np.ndarray]]:
    info = find_own(name, root)
    with np.load(own_dir(root) / info.name / ARRAYS) as z:
        return info, {k: z[k] for k in ("train_images", "train_labels", "test_images", "test_labels")}


# ------------------------------------------------------------------------------------------ import


def import_images(
    source: str | os.PathLike | bytes,
    root: Path,
    *,
    name: str | None = None,
    source_name: str | None = None,
    size: int = DEFAULT_SIZE,
    seed: int = 0,
    replace: bool = False,
) -> OwnDataset:
    """Import a folder, a .zip file, or a .zip's bytes (an upload: give `source_name`) as dataset
    `own:<name>` in data folder `root`; OwnDataError with a message for the user when it cannot be."""
    from .images import ImageError, fit_square, open_image

    if size not in SIZES:
        raise OwnDataError("image size {size}: choose one of {sizes}", size=size, sizes=", ".join(map(str, SIZES)))
    label = source_name or (Path(source).name if not isinstance(source, bytes) else "upload.zip")
    name = dataset_name(name or label)
    target = own_dir(root) / name
    if target.exists() and not replace:
        raise OwnDataError("a dataset named {name!r} already exists: choose another name", name=PREFIX + name)
    if isinstance(source, bytes) or zipfile.is_zipfile(source):
        files = _zip_files(source, label)
    else:
        files = _folder_files(Path(source))
    by_class = _by_class(files)
    images: dict[str, list[np.ndarray]] = {c: [] for c in by_class}
    skipped = 0
    for cls, members in by_class.items():
        for read in members:
            try:
                img = fit_square(open_image(read()), size)
            except ImageError:
                skipped += 1
                continue
            images[cls].append(np.asarray(img.convert("RGB"), dtype=np.uint8).transpose(2, 0, 1))
    empty = [c for c, imgs in images.items() if len(imgs) < 2]
    if empty:
        raise OwnDataError(
            "class {classes} has fewer than 2 images we can read (one to train on, one to test with); {skipped} "
            "file(s) were not images. Add images or remove the folder",
            classes=", ".join(empty[:5]),
            skipped=skipped,
        )
    info, arrays = _split(name, images, size, skipped, label, seed)
    own_dir(root).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=own_dir(root)))  # same file system: rename is atomic
    try:
        np.savez(
            work / ARRAYS,
            train_images=arrays["train_images"],
            train_labels=arrays["train_labels"],
            test_images=arrays["test_images"],
            test_labels=arrays["test_labels"],
        )
        (work / MANIFEST).write_text(json.dumps(asdict(info), indent=1))
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return info


def _split(name, images, size, skipped, label, seed) -> tuple[OwnDataset, dict[str, np.ndarray]]:
    """A class-balanced held-out test split: TEST_FRACTION of each class (at least one image), drawn with
    `seed` — the same images and seed give the same split."""
    rng = np.random.default_rng(seed)
    classes = sorted(images)
    parts: dict[str, list] = {"train_images": [], "train_labels": [], "test_images": [], "test_labels": []}
    train_counts, test_counts = [], []
    for label_index, cls in enumerate(classes):
        stack = np.stack(images[cls])
        order = rng.permutation(len(stack))
        n_test = max(1, round(len(stack) * TEST_FRACTION))
        for split, rows in (("test", order[:n_test]), ("train", order[n_test:])):
            parts[f"{split}_images"].append(stack[rows])
            parts[f"{split}_labels"].append(np.full(len(rows), label_index, dtype=np.int64))
        test_counts.append(n_test)
        train_counts.append(len(stack) - n_test)
    arrays = {k: np.concatenate(v) for k, v in parts.items()}
    info = OwnDataset(name, tuple(classes), size, tuple(train_counts), tuple(test_counts), skipped, label, seed)
    return info, arrays


def _skip(parts: tuple[str, ...]) -> bool:
    return any(p in _SKIPPED_NAMES or p.startswith(".") for p in parts)


def _folder_files(folder: Path) -> list[_Member]:
    if not folder.is_dir():
        raise OwnDataError("{folder!r} is neither a folder nor a .zip file", folder=folder.name)
    files: list[_Member] = []
    total = 0
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and not path.is_symlink() and not _skip(parts):
            total += path.stat().st_size
            if total > MAX_ARCHIVE_BYTES:
                raise OwnDataError(
                    "the folder holds more than {mb} MB; limits: {limits}", mb=MAX_ARCHIVE_BYTES // 2**20, limits=LIMITS
                )
            files.append((parts, path.read_bytes))
    return files


def _zip_files(source: str | os.PathLike | bytes, label: str) -> list[_Member]:
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if len(data) > MAX_ARCHIVE_BYTES:
        raise OwnDataError(
            "{label} is {size:.0f} MB; the limit is {mb} MB",
            label=label,
            size=len(data) / 2**20,
            mb=MAX_ARCHIVE_BYTES // 2**20,
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise OwnDataError(
            "{label} is not a zip archive we can read ({reason})", label=label, reason=str(err)
        ) from None
    if sum(i.file_size for i in infos) > MAX_INFLATED_BYTES:
        raise OwnDataError(
            "{label} would inflate to more than {mb} MB: refused (limits: {limits})",
            label=label,
            mb=MAX_INFLATED_BYTES // 2**20,
            limits=LIMITS,
        )

    def reader(info: zipfile.ZipInfo) -> Callable[[], bytes]:
        def read() -> bytes:
            try:
                return archive.read(info)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
                raise OwnDataError(
                    "{label} is damaged: {member} cannot be read ({reason})",
                    label=label,
                    member=info.filename,
                    reason=str(err),
                ) from None

        return read

    files: list[_Member] = []
    for info in infos:
        parts = tuple(p for p in info.filename.replace("\\", "/").split("/") if p not in ("", "."))
        if ".." in parts:
            raise OwnDataError(
                "{label} holds a path that leaves its folder ({member}): refused", label=label, member=info.filename
            )
        if parts and not _skip(parts):
            files.append((parts, reader(info)))
    return files


def _by_class(files: list[_Member]) -> dict[str, list[Callable[[], bytes]]]:
    """Files grouped by their class folder: the first folder of each path, after dropping one top folder
    that holds everything (a zip of `photos/` gives `photos/cat/1.jpg`)."""
    while files and all(len(p) > 2 for p, _ in files) and len({p[0] for p, _ in files}) == 1:
        files = [(p[1:], r) for p, r in files]
    loose = [p for p, _ in files if len(p) < 2]
    if loose and len(loose) == len(files):
        raise OwnDataError(
            "the images must sit in one subfolder per class (class/image.jpg); limits: {limits}", limits=LIMITS
        )
    by_class: dict[str, list[Callable[[], bytes]]] = {}
    for parts, read in files:
        if len(parts) >= 2:
            by_class.setdefault(parts[0], []).append(read)
    if not MIN_CLASSES <= len(by_class) <= MAX_CLASSES:
        raise OwnDataError(
            "found {count} class folder(s): a dataset needs {least}–{most} (limits: {limits})",
            count=len(by_class),
            least=MIN_CLASSES,
            most=MAX_CLASSES,
            limits=LIMITS,
        )
    count = sum(len(v) for v in by_class.values())
    if count > MAX_IMAGES:
        raise OwnDataError(
            "found {count:,} files: at most {most:,} images (limits: {limits})",
            count=count,
            most=MAX_IMAGES,
            limits=LIMITS,
        )
    return by_class
