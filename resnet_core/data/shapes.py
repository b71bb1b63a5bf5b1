"""The embedded ``shapes`` dataset's renderer: 10 classes of geometric shapes and textures, from a seed.

It keeps the app usable offline (CIFAR cannot be downloaded on our machines). Colour, size, position and
rotation come from the same distributions for every class, so only *shape* tells the classes apart;
clutter strokes and blobs, which belong to no class, and pixel noise keep it from being trivial. The knobs
that set the difficulty are the module constants under ``# Difficulty knobs``. `datasets.load_dataset`
caches what this renders; this module only draws.

    >>> images, labels = make_shapes(1000, seed=0, split="test")   # uint8 (1000, 3, 32, 32), int64 (1000,)
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import torch
from torch import Tensor

SHAPES_CLASSES = (
    "circle",
    "square",
    "triangle",
    "cross",
    "star",
    "ring",
    "ellipse",
    "stripes",
    "checkerboard",
    "dots",
)


SHAPES_FORMAT_VERSION = 2  # bump when the renderer or a knob changes: it is part of the cache file name


# Difficulty knobs. Lengths are in units of half the image width (1.0 = 16 px) unless named *_PX.
# Each is drawn from the same range for every class, so none of them gives the label away.
# Version 2 (see BENCHMARKS.md, 'How it was tuned (shapes v1 → v2)'): v1's small, faint objects gave only
# a weak signal through the global average pool, and every ResNet sat at chance for its first few hundred
# steps, the deepest the longest, which hid Fig. 6. Larger, clearer objects shorten that plateau; closer
# class pairs (ellipse/circle, star/pentagon-like, thick ring/disc) and more pixel noise keep the dataset
# hard (see 'How hard the embedded dataset is').
SCALE_RANGE = (0.45, 0.9)  # object half-size; one range for all classes, so size is no cue


POSITION_SLACK = 0.15  # how far past "fully in view" an object's centre may stray (it gets clipped)


STRETCH_MAX = 1.08  # random area-preserving aspect stretch of every object; keep circle != ellipse


ELLIPSE_AXES = (0.55, 0.75)  # minor/major axis ratio of the ellipse class


STAR_SHARPNESS = (2.1, 2.9)  # 5-point star: 2 = nearly a pentagon, 5 = thin spikes


RING_THICKNESS = (0.35, 0.6)  # ring width in object units (the outer radius is 0.9)


TEXTURE_PERIOD_PX = (3.5, 6.5)  # period of stripes / checkerboard / dots; below ~3 px it aliases


MIN_CONTRAST = 0.5  # least RGB distance between object and mean background colour (max sqrt(3))


BG_GRADIENT = 0.15  # std of the colour change across the background gradient


MAX_STROKES = 3  # clutter: thin line segments that belong to no class


STROKE_WIDTH_PX = (0.6, 1.3)  # thin enough never to pass for a cross arm or a stripe patch


STROKE_ON_TOP = 0.3  # chance that a stroke is drawn over the object (mild occlusion)


MAX_BLOBS = 2  # clutter: small discs, smaller than any circle or ring of the classes


BLOB_RADIUS_PX = (1.0, 2.2)


NOISE_STD = (0.0, 0.12)  # per-image std of Gaussian pixel noise, on the [0, 1] scale


_SIZE = 32  # image side in pixels


_HALF = _SIZE / 2  # pixels per object unit at scale 1


_CHUNK = 500  # images per vectorised batch: small enough to stay in cache; fixes the random streams


_AA_PX = 1.0  # width of the anti-aliasing ramp across an edge, in pixels


def seeded_generator(*key: int) -> torch.Generator:
    """A torch generator for one named random stream; SeedSequence mixes the key into a good seed."""
    state = np.random.SeedSequence(list(key)).generate_state(1, np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


def make_shapes(n: int, seed: int = 0, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Render ``n`` shapes images: uint8 ``(n, 3, 32, 32)`` and int64 labels, exactly class-balanced.

    Bit-identical for the same ``(n, seed, split)``. Train and test use independent random streams,
    so the test set does not depend on the train-set size. Renders in vectorised chunks of ``_CHUNK``.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    split_id = 0 if split == "train" else 1
    labels = torch.arange(n) % len(SHAPES_CLASSES)
    labels = labels[torch.randperm(n, generator=seeded_generator(seed, split_id))]  # balanced, shuffled
    images = torch.empty((n, 3, _SIZE, _SIZE), dtype=torch.uint8)
    with _one_thread():
        for i, start in enumerate(range(0, n, _CHUNK)):
            chunk = slice(start, start + _CHUNK)
            images[chunk] = _render(labels[chunk], seeded_generator(seed, split_id, i + 1))
    return images, labels


@contextmanager
def _one_thread():
    """Run torch single-threaded inside the block (the setting is per process; restored on exit).

    The renderer's many small ops gain little from threads, and while the CPU is busy (a training run
    beside us) the thread pool's barriers make rendering several times slower; one thread stays fast.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _uniform(g: torch.Generator, bounds: tuple[float, float], *shape: int) -> torch.Tensor:
    lo, hi = bounds
    return lo + (hi - lo) * torch.rand(shape, generator=g)


def _coverage(sdf_px: torch.Tensor) -> torch.Tensor:
    """Anti-aliased coverage in [0, 1] from a signed distance in pixels (negative inside): a smooth step."""
    t = sdf_px.mul(-1.0 / _AA_PX).add_(0.5).clamp_(0.0, 1.0)
    return t.mul(-2.0).add_(3.0).mul_(t).mul_(t)  # 3t^2 - 2t^3, in place: this is the hot loop


def _paint(img: torch.Tensor, alpha: torch.Tensor, colour: torch.Tensor) -> None:
    """Composite ``colour`` (B, 3) over ``img`` (B, 3, H, W) with coverage ``alpha`` (B, H, W), in place."""
    img.lerp_(colour[:, :, None, None].expand_as(img), alpha[:, None])


def _render(labels: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Render one chunk: uint8 ``(B, 3, 32, 32)`` images of the given labels."""
    b = len(labels)
    coords = (torch.arange(_SIZE, dtype=torch.float32) + 0.5) / _HALF - 1.0  # pixel centres on [-1, 1]
    gx, gy = coords.view(1, 1, _SIZE), coords.view(1, _SIZE, 1)

    # Background: a linear gradient between two nearby random colours, in a random direction.
    c0 = torch.rand(b, 3, generator=g)
    c1 = (c0 + BG_GRADIENT * torch.randn(b, 3, generator=g)).clamp(0, 1)
    phi = _uniform(g, (0, 2 * math.pi), b, 1, 1)
    t = ((gx * phi.cos() + gy * phi.sin()) * 0.5 + 0.5).clamp(0, 1)  # (B, H, W)
    img = torch.lerp(c0[:, :, None, None], c1[:, :, None, None], t[:, None])  # (B, 3, H, W)

    # The object's colour: random, but the first of 8 candidates at least MIN_CONTRAST from the
    # background's mean colour (or the furthest one), so every object stays visible.
    candidates = torch.rand(b, 8, 3, generator=g)
    dist = (candidates - ((c0 + c1) / 2)[:, None]).norm(dim=-1)  # (B, 8)
    ok = dist >= MIN_CONTRAST
    pick = torch.where(ok.any(dim=1), ok.int().argmax(dim=1), dist.argmax(dim=1))
    fg = candidates[torch.arange(b), pick]

    strokes = _strokes(g, b, gx, gy)
    on_top = torch.rand(b, MAX_STROKES, 1, 1, generator=g) < STROKE_ON_TOP
    for k, (alpha, colour) in enumerate(strokes):
        _paint(img, alpha * ~on_top[:, k], colour)
    for alpha, colour in _blobs(g, b, gx, gy):
        _paint(img, alpha, colour)
    _paint(img, _object_alpha(labels, g, gx, gy), fg)
    for k, (alpha, colour) in enumerate(strokes):
        _paint(img, alpha * on_top[:, k], colour)

    img += torch.randn(img.shape, generator=g) * _uniform(g, NOISE_STD, b, 1, 1, 1)
    return img.mul_(255).round_().clamp_(0, 255).to(torch.uint8)


def _strokes(g: torch.Generator, b: int, gx: Tensor, gy: Tensor) -> list[tuple[Tensor, Tensor]]:
    """Clutter: up to MAX_STROKES thin segments per image, as (coverage, colour) layers."""
    count = torch.randint(0, MAX_STROKES + 1, (b, 1, 1), generator=g)
    layers = []
    for k in range(MAX_STROKES):
        p = _uniform(g, (-1.1, 1.1), 2, b, 1, 1)
        d = 0.7 * torch.randn(2, b, 1, 1, generator=g)  # segment direction and length
        width = _uniform(g, STROKE_WIDTH_PX, b, 1, 1)
        colour = torch.rand(b, 3, generator=g)
        ax, ay = gx - p[0], gy - p[1]
        h = ((ax * d[0] + ay * d[1]) / (d[0].square() + d[1].square() + 1e-6)).clamp_(0, 1)  # nearest point
        d_px = torch.hypot(ax - h * d[0], ay - h * d[1]) * _HALF - width / 2
        layers.append((_coverage(d_px) * (k < count), colour))
    return layers


def _blobs(g: torch.Generator, b: int, gx: Tensor, gy: Tensor) -> list[tuple[Tensor, Tensor]]:
    """Clutter: up to MAX_BLOBS small discs per image, smaller than any class's circle or ring."""
    count = torch.randint(0, MAX_BLOBS + 1, (b, 1, 1), generator=g)
    layers = []
    for k in range(MAX_BLOBS):
        centre = _uniform(g, (-1, 1), 2, b, 1, 1)
        radius = _uniform(g, BLOB_RADIUS_PX, b, 1, 1)
        colour = torch.rand(b, 3, generator=g)
        r_px = torch.hypot(gx - centre[0], gy - centre[1]) * _HALF
        layers.append((_coverage(r_px - radius) * (k < count), colour))
    return layers


def _object_alpha(labels: Tensor, g: torch.Generator, gx: Tensor, gy: Tensor) -> Tensor:
    """Coverage ``(B, H, W)`` of each image's labelled object, at a random place, size and angle."""
    b = len(labels)
    scale = _uniform(g, SCALE_RANGE, b, 1, 1)
    reach = (1.0 - scale).clamp_min(0) + POSITION_SLACK  # centres that keep most of the object in view
    cx, cy = _uniform(g, (-1, 1), 2, b, 1, 1) * reach
    theta = _uniform(g, (0, 2 * math.pi), b, 1, 1)
    stretch = STRETCH_MAX ** _uniform(g, (-1, 1), b, 1, 1)
    x, y = gx - cx, gy - cy
    u = (x * theta.cos() + y * theta.sin()) / (scale * stretch)  # object frame: rotated, unit-sized
    v = (y * theta.cos() - x * theta.sin()) * stretch / scale
    # Every image draws every class's parameters (cheap), so the random streams do not depend on labels.
    params = {
        "ellipse": _uniform(g, ELLIPSE_AXES, b, 1, 1),
        "star": _uniform(g, STAR_SHARPNESS, b, 1, 1),
        "ring": _uniform(g, RING_THICKNESS, b, 1, 1),
        "period": _uniform(g, TEXTURE_PERIOD_PX, b, 1, 1),
        "phase_u": torch.rand(b, 1, 1, generator=g),
        "phase_v": torch.rand(b, 1, 1, generator=g),
        "disc": torch.rand(b, 1, 1, generator=g) < 0.5,  # a texture patch's outline: disc or square
    }
    alpha = torch.empty(b, _SIZE, _SIZE)
    for c, name in enumerate(SHAPES_CLASSES):
        m = labels == c
        if not m.any():
            continue
        um, vm, px_per_unit, pm = u[m], v[m], scale[m] * _HALF, {k: p[m] for k, p in params.items()}
        # An object-unit distance times scale * 16 is a pixel distance (up to the mild stretch).
        alpha[m] = _coverage(_SHAPE_SDF[name](um, vm, pm) * px_per_unit)
        if name in _TEXTURES:
            alpha[m] *= _TEXTURES[name](um * px_per_unit, vm * px_per_unit, pm)
    return alpha


def _box(u, v, a, b):
    return torch.maximum(u.abs() - a, v.abs() - b)


def _circle(u, v, p):
    return torch.hypot(u, v) - 0.9


def _square(u, v, p):
    return _box(u, v, 0.8, 0.8)


def _triangle(u, v, p):
    # Equilateral: the furthest of three edge half-planes, apothem 0.55 (circumradius 1.1).
    edges = [u * math.cos(a) + v * math.sin(a) for a in (math.pi / 2, 7 * math.pi / 6, 11 * math.pi / 6)]
    return torch.maximum(torch.maximum(edges[0], edges[1]), edges[2]) - 0.55


def _cross(u, v, p):
    return torch.minimum(_box(u, v, 0.95, 0.3), _box(u, v, 0.3, 0.95))


def _star(u, v, p):
    # Exact distance to a 5-point star of outer radius 1; sharpness m in [2, 5].
    n, m = 5, p["star"]
    an, en = math.pi / n, math.pi / m
    ecx, ecy = en.cos(), en.sin()
    ang = torch.remainder(torch.atan2(u.abs(), v), 2 * an) - an  # fold into one sector
    rad = torch.hypot(u, v)
    px, py = rad * ang.cos() - math.cos(an), rad * ang.sin().abs() - math.sin(an)
    h = torch.minimum((-(px * ecx + py * ecy)).clamp_min(0), math.sin(an) / ecy)
    px, py = px + ecx * h, py + ecy * h
    return torch.hypot(px, py) * px.sign()


def _ring(u, v, p):
    thickness = p["ring"]
    return (torch.hypot(u, v) - (0.9 - thickness / 2)).abs() - thickness / 2


def _ellipse(u, v, p):
    # Semi-axes (1, k); the k0 * (k0 - 1) / k1 approximation is exact on the axes, close elsewhere.
    k = p["ellipse"]
    k0 = torch.hypot(u, v / k)
    k1 = torch.hypot(u, v / (k * k))
    return k0 * (k0 - 1.0) / k1.clamp_min(1e-6)


def _patch(u, v, p):
    """The outline of a texture class: a disc or a square (so the outline says nothing)."""
    return torch.where(p["disc"], torch.hypot(u, v) - 0.9, _box(u, v, 0.8, 0.8))


def _stripe(s, period):
    return _coverage(((s - s.floor() - 0.5).abs() - 0.25) * period)  # ink half of every period


def _texture_coords(u_px, v_px, p):
    period = p["period"]
    return u_px / period + p["phase_u"], v_px / period + p["phase_v"], period


def _stripes(u_px, v_px, p):
    su, _, period = _texture_coords(u_px, v_px, p)
    return _stripe(su, period)


def _checkerboard(u_px, v_px, p):
    su, sv, period = _texture_coords(u_px, v_px, p)
    a, b = _stripe(su, period), _stripe(sv, period)
    return a + b - 2 * a * b  # a smooth XOR of two stripe patterns


def _dots(u_px, v_px, p):
    su, sv, period = _texture_coords(u_px, v_px, p)
    return _coverage((torch.hypot(su - su.floor() - 0.5, sv - sv.floor() - 0.5) - 0.3) * period)


_SHAPE_SDF = {
    "circle": _circle,
    "square": _square,
    "triangle": _triangle,
    "cross": _cross,
    "star": _star,
    "ring": _ring,
    "ellipse": _ellipse,
    "stripes": _patch,
    "checkerboard": _patch,
    "dots": _patch,
}


_TEXTURES = {"stripes": _stripes, "checkerboard": _checkerboard, "dots": _dots}
assert tuple(_SHAPE_SDF) == SHAPES_CLASSES
