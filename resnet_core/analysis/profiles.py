"""Per-layer gradient profiles of fresh nets, kept profiles for the costly ones, and the aggregation that
keeps 1202-layer × 10,000-step views small. Numbers only: the words are in presentation/gradient_text.py.

The science, as the paper tells it (He et al. 2015, §4.1): without normalisation (and with sigmoid)
gradients vanish toward the input — each sigmoid derivative is at most 0.25; *with* BN even the plain nets
keep healthy gradient norms, "so the optimization difficulty is unlikely to be caused by vanishing
gradients". Deep plain nets still train worse (degradation).

Cost: a profile is one forward and one backward pass of the whole net on one batch, so it grows with the
net's multiply-adds × the batch — linearly in depth (1202 layers cost ~11× 110 layers); there is no other
cost to cut. For the nets where that takes longer than a page may wait, `kept_profiles` holds the same
computation done once (`python -m resnet_core profiles`), found by everything that determines its result.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.datasets import ImageDataset
from ..data.pixels import normalize, normalizer
from ..model.net import build_net
from ..model.spec import NetSpec, spec_to_params
from .probes import gradient_norms

KEPT_FILE = Path(__file__).resolve().parent.parent.parent / "assets" / "gradient_profiles.json"


@dataclass(frozen=True)
class GradientProfile:
    spec: NetSpec
    names: tuple[str, ...]  # the weighted layers (net.layout.layers: convs + fc, no projections), input first
    norms: np.ndarray  # (depth,) L2 norm of each layer's weight gradient; inf/nan where float32 overflowed

    @property
    def indices(self) -> list[int]:
        return list(range(1, len(self.names) + 1))  # names are all of net.layout.layers, in order

    @property
    def first_last_ratio(self) -> float:
        """|∇W| of the first layer over that of the last: ≪ 1 means gradients vanish toward the input."""
        return first_last_ratio(self.norms)

    @property
    def overflowed(self) -> int:
        """How many layers' gradient norms overflowed float32 (inf or nan): exploding gradients."""
        return overflowed(self.norms)


def first_last_ratio(norms) -> float:
    norms = np.asarray(norms, dtype=np.float64)
    if not np.isfinite(norms[[0, -1]]).all():
        return float("nan")
    return float(norms[0] / norms[-1]) if norms[-1] > 0 else float("inf")


def overflowed(norms) -> int:
    return int((~np.isfinite(np.asarray(norms, dtype=np.float64))).sum())


def typical_norm(norms) -> float:
    """The overall scale of a profile: the median over its finite layers, on a log scale (zeros count as
    tiny); nan when no layer is finite."""
    norms = np.asarray(norms, dtype=np.float64)
    finite = norms[np.isfinite(norms)]
    if not len(finite):
        return float("nan")
    return float(10 ** np.median(np.log10(np.clip(finite, 1e-300, None))))


def probe_batch(data: ImageDataset, batch_size: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed, class-mixed batch of training images in the net's input space (normalised floats)."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(data.train_labels), generator=g)[:batch_size]
    scale, shift = normalizer(data.mean, data.std, torch.device("cpu"))
    return normalize(data.train_images[idx], scale, shift), data.train_labels[idx]


def init_gradient_profile(spec: NetSpec, images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> GradientProfile:
    """Per-layer gradient norms of a freshly initialised net (train mode: BN uses the batch's statistics,
    as in the first training step), on one batch.

    Runs in channels_last, as the trainer does on the CPU: oneDNN's convolutions are faster in it
    (BENCHMARKS.md, "Gradients at 1202 layers"); the norms are the same up to float rounding."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = build_net(spec)
    net.train()
    net = net.to(memory_format=torch.channels_last)
    norms = gradient_norms(net, images.contiguous(memory_format=torch.channels_last), labels)
    names = net.layout.weighted_layers
    return GradientProfile(spec, names, np.array([norms[n] for n in names], dtype=np.float64))


def profile_work(spec: NetSpec, batch_size: int) -> int:
    """What a profile costs, in layer-images (weighted layers × images): at a fixed stem, block and width,
    a CIFAR net's multiply-adds per image grow linearly with its depth, so the seconds of one profile
    measured here, divided by its work, estimate any other's."""
    return spec.depth * batch_size


def batch_fingerprint(images: torch.Tensor, labels: torch.Tensor) -> str:
    """A short hash of the probe batch: a kept profile is used only for exactly these images."""
    digest = hashlib.sha256(images.detach().float().numpy().tobytes())
    digest.update(labels.numpy().astype(np.int64).tobytes())
    return digest.hexdigest()[:16]


def profile_key(spec: NetSpec, batch: str, seed: int = 0) -> str:
    """Everything that determines a profile: the net (every NetSpec field), its seed and the batch."""
    return json.dumps({"spec": spec_to_params(spec), "seed": seed, "batch": batch}, sort_keys=True)


def _to_json(norms: np.ndarray) -> list:
    return [float(v) if math.isfinite(v) else str(v) for v in norms.tolist()]  # "inf", "nan": JSON has none


def _from_json(values: list) -> np.ndarray:
    return np.array([float(v) for v in values], dtype=np.float64)


def kept_profiles(path: Path = KEPT_FILE) -> dict[str, GradientProfile]:
    """The kept profiles by `profile_key` (empty when the file is missing or unreadable)."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    from ..model.spec import spec_from_params

    kept = {}
    for key, entry in raw.get("profiles", {}).items():
        try:
            spec = spec_from_params(json.loads(key)["spec"])
            kept[key] = GradientProfile(spec, tuple(entry["names"]), _from_json(entry["norms"]))
        except (KeyError, TypeError, ValueError):
            continue
    return kept


def keep_profiles(profiles: dict[str, GradientProfile], path: Path = KEPT_FILE, note: str = "") -> None:
    """Write `profiles` (by `profile_key`) to the kept file, with a note saying how they were made."""
    from ..atomic import write_atomically

    body = {
        "note": note,
        "profiles": {key: {"names": list(p.names), "norms": _to_json(p.norms)} for key, p in sorted(profiles.items())},
    }
    write_atomically(path, json.dumps(body, indent=0).encode())


def aggregate_grid(
    values: np.ndarray, max_rows: int = 300, max_cols: int = 300
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shrink a (positions, layers) array of positive values to at most max_cols × max_rows cells by
    averaging log10 values in buckets. Returns (grid (rows=layers, cols=positions), the first position
    index of each column, the first layer index of each row)."""
    logs = np.log10(np.clip(values.astype(np.float64), 1e-30, None))  # (P, L)
    P, L = logs.shape
    col_edges = np.linspace(0, P, min(P, max_cols) + 1).astype(int)
    row_edges = np.linspace(0, L, min(L, max_rows) + 1).astype(int)
    cols = np.add.reduceat(logs, col_edges[:-1], axis=0) / np.diff(col_edges)[:, None]  # (C, L)
    grid = np.add.reduceat(cols, row_edges[:-1], axis=1) / np.diff(row_edges)[None, :]  # (C, R)
    return grid.T, col_edges[:-1], row_edges[:-1]
