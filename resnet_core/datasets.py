"""Image datasets for ResNet Lab: the embedded ``shapes`` set and CIFAR-10/100 through torchvision.

Every dataset comes back as one :class:`ImageDataset`: whole uint8 tensors ``(N, 3, 32, 32)`` on the
CPU plus integer labels, the class names and the per-channel mean/std of the training images. Keeping
the raw uint8 pixels (not a ``DataLoader``) lets the trainer move the whole set to the device once and
normalise and augment whole batches there (the airbench approach, see STYLE.md).

``shapes`` is ours: 10 classes of geometric shapes and textures rendered from a seed, so the app works
offline (CIFAR cannot be downloaded on our machines). Colour, size, position and rotation are drawn
from the same distributions for every class, so only *shape* tells the classes apart; clutter strokes,
blobs and pixel noise keep it from being trivial. The knobs that set the difficulty are the module
constants below ``# Difficulty knobs``.

    >>> ds = load_dataset("shapes")                     # generated once (a few seconds), then cached
    >>> ds.train_images.shape, ds.num_classes
    (torch.Size([50000, 3, 32, 32]), 10)
    >>> small = load_dataset("shapes", train_size=5000)  # class-balanced subset, same test set
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

DATASETS = ("shapes", "cifar10", "cifar100")

SHAPES_CLASSES = (
    "circle", "square", "triangle", "cross", "star",
    "ring", "ellipse", "stripes", "checkerboard", "dots",
)  # fmt: skip
SHAPES_TRAIN_SIZE = 50_000  # the same split sizes as CIFAR, so epochs mean the same amount of work
SHAPES_TEST_SIZE = 10_000
SHAPES_FORMAT_VERSION = 1  # bump whenever the renderer or a knob changes: it names the cache file

# Difficulty knobs. Sizes are in units of half the image width (1.0 = 16 px), unless named *_PX.
# Every knob is drawn identically for every class, so none of them carries the label by itself.
SCALE_RANGE = (0.38, 0.8)  # object half-size; overlapping ranges make size useless as a cue
POSITION_SLACK = 0.15  # how far (beyond fitting) an object's centre may stray: objects may be clipped
STRETCH_MAX = 1.15  # random area-preserving aspect stretch of every shape (keeps circle != ellipse)
ELLIPSE_AXES = (0.42, 0.62)  # minor/major axis ratio of the ellipse class
STAR_SHARPNESS = (2.3, 3.3)  # 5-point star: 2 = pentagon-like, 5 = spiky
RING_THICKNESS = (0.28, 0.5)  # ring width in object units (the outer radius is 0.9)
TEXTURE_PERIOD_PX = (3.5, 6.5)  # period of stripes / checkerboard / dots, in pixels
MIN_CONTRAST = 0.35  # least RGB distance between object and background colour (0..sqrt(3))
BG_GRADIENT = 0.25  # std of the colour change across the background gradient
MAX_STROKES = 3  # clutter: thin line segments that belong to no class
STROKE_WIDTH_PX = (0.6, 1.3)  # thin enough never to read as a cross arm or a ring
STROKE_ON_TOP = 0.3  # probability that a stroke is drawn over the object (mild occlusion)
MAX_BLOBS = 2  # clutter: small discs, smaller than any circle or ring of the classes
BLOB_RADIUS_PX = (1.0, 2.2)
NOISE_STD = (0.0, 0.08)  # per-image std of Gaussian pixel noise, on the [0, 1] scale

_SIZE = 32  # image side in pixels
_CHUNK = 2000  # images rendered per vectorised batch: bounds memory, and fixes the random streams
_AA_PX = 1.0  # width of the anti-aliasing ramp across an edge, in pixels


class DatasetUnavailable(FileNotFoundError):
    """A dataset's files are missing (and could not be downloaded); the message says what to do."""


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """A whole image-classification dataset in memory, as uint8 tensors ``(N, C, H, W)`` on the CPU."""

    name: str
    classes: tuple[str, ...]
    train_images: torch.Tensor = field(repr=False)  # (N, 3, H, W) uint8
    train_labels: torch.Tensor = field(repr=False)  # (N,) int64
    test_images: torch.Tensor = field(repr=False)  # (M, 3, H, W) uint8
    test_labels: torch.Tensor = field(repr=False)  # (M,) int64
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)  # per channel, of the train images, on [0, 1]
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            images, labels = getattr(self, f"{split}_images"), getattr(self, f"{split}_labels")
            if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[-1] != images.shape[-2]:
                raise ValueError(f"{split}_images must be uint8 (N, C, S, S), got {images.dtype} "
                                 f"{tuple(images.shape)}")  # fmt: skip
            if labels.dtype != torch.int64 or labels.shape != images.shape[:1]:
                raise ValueError(f"{split}_labels must be int64 ({images.shape[0]},), got {labels.dtype} "
                                 f"{tuple(labels.shape)}")  # fmt: skip

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def in_channels(self) -> int:
        return self.train_images.shape[1]

    @property
    def image_size(self) -> int:
        return self.train_images.shape[-1]


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Where datasets live: ``root``, else env ``RESNET_LAB_DATA``, else ``~/.cache/resnet-lab/data``."""
    if root is None:
        root = os.environ.get("RESNET_LAB_DATA") or Path.home() / ".cache" / "resnet-lab" / "data"
    return Path(root).expanduser()


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

    ``train_size`` / ``test_size`` take a class-balanced subset chosen by ``seed`` (None: everything).
    For ``shapes`` the seed also picks the generated images; ``download`` applies to CIFAR only.
    Raises ``ValueError`` for an unknown name or size, :class:`DatasetUnavailable` for missing files.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if name == "shapes":
        classes = SHAPES_CLASSES
        arrays = _load_shapes(data_root(root), seed, SHAPES_TRAIN_SIZE, SHAPES_TEST_SIZE)
    else:
        classes, arrays = _load_cifar(name, data_root(root), download)
    train_x, train_y, test_x, test_y = arrays
    rng = np.random.default_rng([seed, 7])  # subsets draw from their own stream, not the renderer's
    train_keep = _balanced_subset(train_y, train_size, len(classes), rng, "train_size")
    test_keep = _balanced_subset(test_y, test_size, len(classes), rng, "test_size")
    train_x, train_y = train_x[train_keep], train_y[train_keep]
    test_x, test_y = test_x[test_keep], test_y[test_keep]
    mean, std = channel_stats(train_x)
    return ImageDataset(
        name=name,
        classes=tuple(classes),
        train_images=torch.from_numpy(np.ascontiguousarray(train_x)),
        train_labels=torch.from_numpy(train_y.astype(np.int64)),
        test_images=torch.from_numpy(np.ascontiguousarray(test_x)),
        test_labels=torch.from_numpy(test_y.astype(np.int64)),
        mean=mean,
        std=std,
    )


def sample_test_images(ds: ImageDataset, n: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` test images ``(n, C, H, W)`` uint8 and their labels: one per class first, then any others.

    The per-class picks come first, sorted by class, so a page showing a few images shows variety.
    """
    m = len(ds.test_labels)
    if not 1 <= n <= m:
        raise ValueError(f"n must be between 1 and {m} (the test-set size), got {n}")
    order = np.random.default_rng([seed, 11]).permutation(m)
    labels = ds.test_labels.numpy()[order]
    _, first = np.unique(labels, return_index=True)  # first position of each class in the shuffle
    first = first[np.argsort(labels[first], kind="stable")][:n]
    rest = np.setdiff1d(np.arange(m), first)[: n - len(first)]
    rest = np.sort(rest)  # keep the shuffle's order for the fill-ins
    picks = np.concatenate([order[first], order[rest]])
    return ds.test_images[picks].clone(), ds.test_labels[picks].clone()


def channel_stats(images: np.ndarray | torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and (population) std of uint8 images ``(N, C, H, W)``, on the [0, 1] scale.

    Counting the 256 possible values per channel is exact in float64 and never materialises a float
    copy of the images (1.2 GB for CIFAR's 50,000 training images).
    """
    x = torch.as_tensor(images)
    channels = x.shape[1]
    counts = torch.stack([torch.bincount(x[:, c].reshape(-1), minlength=256) for c in range(channels)])
    values = torch.arange(256, dtype=torch.float64) / 255.0
    total = counts.sum(dim=1).to(torch.float64)
    mean = (counts.double() * values).sum(dim=1) / total
    var = (counts.double() * values.square()).sum(dim=1) / total - mean.square()
    return tuple(mean.tolist()), tuple(var.clamp_min(0).sqrt().tolist())


def _balanced_subset(labels: np.ndarray, size: int | None, num_classes: int, rng, what: str) -> np.ndarray:
    """Indices of a class-balanced random subset of ``size`` items (per-class counts differ by <= 1).

    The indices come back sorted, so the subset keeps the (already shuffled) order of the full set.
    """
    n = len(labels)
    if size is None:
        return np.arange(n)
    if not 1 <= size <= n:
        raise ValueError(f"{what} must be between 1 and {n}, got {size}")
    per_class = np.full(num_classes, size // num_classes)
    per_class[rng.permutation(num_classes)[: size % num_classes]] += 1  # spread the remainder fairly
    keep = []
    for c in range(num_classes):
        pool = np.flatnonzero(labels == c)
        if per_class[c] > len(pool):
            raise ValueError(f"{what}={size} needs {per_class[c]} images of class {c}, only {len(pool)} exist")
        keep.append(rng.choice(pool, per_class[c], replace=False))
    return np.sort(np.concatenate(keep))


# ----------------------------------------------------------------------------------------- shapes


def _load_shapes(root: Path, seed: int, n_train: int, n_test: int) -> tuple[np.ndarray, ...]:
    """Read the rendered ``shapes`` set from its cache file, rendering and caching it on a miss."""
    path = root / "shapes" / f"shapes-v{SHAPES_FORMAT_VERSION}-seed{seed}-{n_train}-{n_test}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as f:
            return f["train_images"], f["train_labels"], f["test_images"], f["test_labels"]
    train_x, train_y = make_shapes(n_train, seed=seed, split="train")
    test_x, test_y = make_shapes(n_test, seed=seed, split="test")
    _atomic_savez(path, train_images=train_x, train_labels=train_y, test_images=test_x, test_labels=test_y)
    return train_x, train_y, test_x, test_y


def _atomic_savez(path: Path, **arrays: np.ndarray) -> None:
    """Write an uncompressed .npz so that readers see either no file or the whole file, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)  # uncompressed: pixel noise compresses badly and loading stays fast
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_shapes(n: int, seed: int = 0, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Render ``n`` shapes images: uint8 ``(n, 3, 32, 32)`` and int64 labels, exactly class-balanced.

    Deterministic in ``(seed, split, n)``; train and test come from independent random streams, so the
    test set does not depend on the train-set size. Rendered in vectorised chunks of ``_CHUNK`` images.
    """
    split_id = {"train": 0, "test": 1}[split]
    num_classes = len(SHAPES_CLASSES)
    labels = np.random.default_rng([seed, split_id]).permutation(np.arange(n) % num_classes)
    images = np.empty((n, 3, _SIZE, _SIZE), dtype=np.uint8)
    for i, start in enumerate(range(0, n, _CHUNK)):
        rng = np.random.default_rng([seed, split_id, i + 1])
        images[start : start + _CHUNK] = _render(labels[start : start + _CHUNK], rng)
    return images, labels.astype(np.int64)


def _uniform(rng: np.random.Generator, bounds: tuple[float, float], n: int) -> np.ndarray:
    return rng.uniform(bounds[0], bounds[1], n).astype(np.float32)[:, None, None]  # (n, 1, 1)


def _coverage(sdf_px: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage from a signed distance in pixels (negative inside): a smooth step."""
    t = np.clip(0.5 - sdf_px / _AA_PX, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _paint(img: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> None:
    """Composite ``colour`` (B, 3) over ``img`` (B, 3, H, W) with coverage ``alpha`` (B, H, W), in place."""
    a = alpha[:, None]
    img *= 1.0 - a
    img += a * colour[:, :, None, None]


def _render(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Render one chunk: uint8 (B, 3, 32, 32) images of the given labels."""
    b = len(labels)
    half = _SIZE / 2
    coords = (np.arange(_SIZE, dtype=np.float32) + 0.5) / half - 1.0  # pixel centres on [-1, 1]
    gx, gy = coords[None, None, :], coords[None, :, None]  # (1, 1, W), (1, H, 1)

    # Background: a linear gradient between two nearby random colours, in a random direction.
    c0 = rng.uniform(0, 1, (b, 3)).astype(np.float32)
    c1 = np.clip(c0 + rng.normal(0, BG_GRADIENT, (b, 3)), 0, 1).astype(np.float32)
    phi = _uniform(rng, (0, 2 * np.pi), b)
    t = np.clip((gx * np.cos(phi) + gy * np.sin(phi)) * 0.5 + 0.5, 0, 1)  # (B, H, W)
    img = c0[:, :, None, None] + (c1 - c0)[:, :, None, None] * t[:, None]

    # The object's colour: random, but at least MIN_CONTRAST from the background's mean colour.
    candidates = rng.uniform(0, 1, (b, 8, 3)).astype(np.float32)
    dist = np.linalg.norm(candidates - ((c0 + c1) / 2)[:, None], axis=-1)  # (B, 8)
    ok = dist >= MIN_CONTRAST
    pick = np.where(ok.any(axis=1), ok.argmax(axis=1), dist.argmax(axis=1))
    fg = candidates[np.arange(b), pick]

    strokes = _strokes(rng, b, gx, gy)
    on_top = rng.uniform(0, 1, (b, MAX_STROKES)) < STROKE_ON_TOP
    for k, (alpha, colour) in enumerate(strokes):
        _paint(img, alpha * ~on_top[:, k, None, None], colour)
    for alpha, colour in _blobs(rng, b, gx, gy):
        _paint(img, alpha, colour)

    _paint(img, _object_alpha(labels, rng, gx, gy), fg)
    for k, (alpha, colour) in enumerate(strokes):
        _paint(img, alpha * on_top[:, k, None, None], colour)

    img += rng.standard_normal(img.shape, dtype=np.float32) * _uniform(rng, NOISE_STD, b)[:, None]
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)


def _strokes(rng, b, gx, gy) -> list[tuple[np.ndarray, np.ndarray]]:
    """Clutter: up to MAX_STROKES thin segments per image, as (coverage, colour) layers."""
    layers = []
    count = rng.integers(0, MAX_STROKES + 1, b)
    for k in range(MAX_STROKES):
        p = rng.uniform(-1.1, 1.1, (b, 2)).astype(np.float32)
        q = p + rng.normal(0, 0.7, (b, 2)).astype(np.float32)  # a segment of random length and angle
        width = _uniform(rng, STROKE_WIDTH_PX, b)
        colour = rng.uniform(0, 1, (b, 3)).astype(np.float32)
        ax, ay = gx - p[:, 0, None, None], gy - p[:, 1, None, None]
        dx, dy = (q - p)[:, 0, None, None], (q - p)[:, 1, None, None]
        h = np.clip((ax * dx + ay * dy) / (dx * dx + dy * dy + 1e-6), 0, 1)  # nearest point on segment
        d_px = np.hypot(ax - h * dx, ay - h * dy) * (_SIZE / 2) - width / 2
        layers.append((_coverage(d_px) * (k < count)[:, None, None], colour))
    return layers


def _blobs(rng, b, gx, gy) -> list[tuple[np.ndarray, np.ndarray]]:
    """Clutter: up to MAX_BLOBS small discs per image, smaller than any class's circle."""
    layers = []
    count = rng.integers(0, MAX_BLOBS + 1, b)
    for k in range(MAX_BLOBS):
        centre = rng.uniform(-1, 1, (b, 2)).astype(np.float32)
        radius = _uniform(rng, BLOB_RADIUS_PX, b)
        colour = rng.uniform(0, 1, (b, 3)).astype(np.float32)
        r_px = np.hypot(gx - centre[:, 0, None, None], gy - centre[:, 1, None, None]) * (_SIZE / 2)
        layers.append((_coverage(r_px - radius) * (k < count)[:, None, None], colour))
    return layers


def _object_alpha(labels, rng, gx, gy) -> np.ndarray:
    """Coverage (B, H, W) of each image's labelled object, posed at a random place, size and angle."""
    b = len(labels)
    scale = _uniform(rng, SCALE_RANGE, b)
    reach = np.maximum(1.0 - scale, 0.0) + POSITION_SLACK  # centre range that keeps most of it in view
    cx, cy = (rng.uniform(-1, 1, (2, b, 1, 1)) * reach).astype(np.float32)
    theta = _uniform(rng, (0, 2 * np.pi), b)
    stretch = (STRETCH_MAX ** rng.uniform(-1, 1, (b, 1, 1))).astype(np.float32)
    x, y = gx - cx, gy - cy
    u = (x * np.cos(theta) + y * np.sin(theta)) / scale  # object frame: rotated, unit-sized
    v = (-x * np.sin(theta) + y * np.cos(theta)) / scale
    u, v = u / stretch, v * stretch
    # Per-class shape parameters, drawn for every image (cheap) so the random streams stay aligned.
    shape_param = {
        "ellipse": _uniform(rng, ELLIPSE_AXES, b),
        "star": _uniform(rng, STAR_SHARPNESS, b),
        "ring": _uniform(rng, RING_THICKNESS, b),
        "period": _uniform(rng, TEXTURE_PERIOD_PX, b),
        "phase": rng.uniform(0, 1, (2, b, 1, 1)).astype(np.float32),
        "region": rng.uniform(0, 1, (b, 1, 1)) < 0.5,  # texture patch outline: disc or square
    }
    alpha = np.empty((b, _SIZE, _SIZE), dtype=np.float32)
    for c, name in enumerate(SHAPES_CLASSES):
        m = labels == c
        if m.any():
            params = {k: (p[:, m] if k == "phase" else p[m]) for k, p in shape_param.items()}
            alpha[m] = _SHAPE_ALPHA[name](u[m], v[m], scale[m], params)
    return alpha


# Signed distances of unit-sized shapes in the object frame (negative inside). A distance in object
# units times scale * 16 is (up to the mild stretch) a distance in pixels, which sets the AA ramp.


def _solid(sdf: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return _coverage(sdf * scale * (_SIZE / 2))


def _box(u, v, a, b):
    return np.maximum(np.abs(u) - a, np.abs(v) - b)


def _circle(u, v, scale, p):
    return _solid(np.hypot(u, v) - 0.9, scale)


def _square(u, v, scale, p):
    return _solid(_box(u, v, 0.8, 0.8), scale)


def _triangle(u, v, scale, p):
    # Equilateral: the furthest of three edge half-planes; apothem 0.55 (circumradius 1.1).
    d = np.maximum.reduce([u * np.cos(a) + v * np.sin(a) for a in np.pi / 2 + np.arange(3) * 2 * np.pi / 3])
    return _solid(d - 0.55, scale)


def _cross(u, v, scale, p):
    return _solid(np.minimum(_box(u, v, 0.95, 0.3), _box(u, v, 0.3, 0.95)), scale)


def _star(u, v, scale, p):
    # Inigo Quilez's exact n-point star distance (n = 5, sharpness m in [2, n]), outer radius 1.
    n, r, m = 5, 1.0, p["star"]
    an, en = np.pi / n, np.pi / m
    acs = np.array([np.cos(an), np.sin(an)], dtype=np.float32)
    ecx, ecy = np.cos(en), np.sin(en)
    ang = np.mod(np.arctan2(np.abs(u), v), 2 * an) - an  # fold into one sector
    rad = np.hypot(u, v)
    px, py = rad * np.cos(ang) - r * acs[0], rad * np.abs(np.sin(ang)) - r * acs[1]
    h = np.clip(-(px * ecx + py * ecy), 0.0, r * acs[1] / ecy)
    px, py = px + ecx * h, py + ecy * h
    return _solid(np.hypot(px, py) * np.sign(px), scale)


def _ring(u, v, scale, p):
    thickness = p["ring"]
    return _solid(np.abs(np.hypot(u, v) - (0.9 - thickness / 2)) - thickness / 2, scale)


def _ellipse(u, v, scale, p):
    # Approximate distance to an ellipse with semi-axes (1, k): exact on the axes, close elsewhere.
    k = p["ellipse"]
    k0 = np.hypot(u, v / k)
    k1 = np.hypot(u, v / (k * k))
    return _solid(k0 * (k0 - 1.0) / np.maximum(k1, 1e-6), scale)


def _texture(pattern):
    """A texture class: a disc- or square-shaped patch filled with ``pattern`` (a coverage function)."""

    def alpha(u, v, scale, p):
        region = np.where(p["region"], np.hypot(u, v) - 0.9, _box(u, v, 0.8, 0.8))
        # The pattern is laid in pixels (not object units) so that its period never drops below
        # TEXTURE_PERIOD_PX, which would alias into mush; it shares the object's rotation.
        period = p["period"]
        su = u * scale * (_SIZE / 2) / period + p["phase"][0]
        sv = v * scale * (_SIZE / 2) / period + p["phase"][1]
        return _solid(region, scale) * pattern(su, sv, period)

    return alpha


def _stripe(s, period):
    return _coverage((np.abs(s - np.floor(s) - 0.5) - 0.25) * period)  # half of each period inked


def _stripes(su, sv, period):
    return _stripe(su, period)


def _checkerboard(su, sv, period):
    a, b = _stripe(su, period), _stripe(sv, period)
    return a + b - 2 * a * b  # a smooth XOR of two stripe patterns


def _dots(su, sv, period):
    fu, fv = su - np.floor(su) - 0.5, sv - np.floor(sv) - 0.5
    return _coverage((np.hypot(fu, fv) - 0.3) * period)  # dot radius 0.3 period


_SHAPE_ALPHA = {
    "circle": _circle,
    "square": _square,
    "triangle": _triangle,
    "cross": _cross,
    "star": _star,
    "ring": _ring,
    "ellipse": _ellipse,
    "stripes": _texture(_stripes),
    "checkerboard": _texture(_checkerboard),
    "dots": _texture(_dots),
}
assert tuple(_SHAPE_ALPHA) == SHAPES_CLASSES


# ------------------------------------------------------------------------------------------ CIFAR


def _load_cifar(name: str, root: Path, download: bool) -> tuple[list[str], tuple[np.ndarray, ...]]:
    raise NotImplementedError
