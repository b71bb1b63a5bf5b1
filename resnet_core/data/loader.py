"""Device-resident batches with whole-batch augmentation (the airbench approach).

The whole dataset lives on the training device as one uint8 tensor. An epoch is an index permutation
drawn on the device; a batch is one gather that crops, flips and selects the images at once, then one
fused multiply-add that converts to float and normalises with the dataset mean/std. No DataLoader, no
worker processes, no per-image Python: on a GPU the data never leaves it, and on a CPU nothing competes
with the training threads.

Augmentation follows He et al. 2015, §4.2: "4 pixels are padded on each side, and a 32×32 crop is
randomly sampled from the padded image or its horizontal flip". `pad_mode="zeros"` pads with black
pixels (value 0 before normalisation), as torchvision's `RandomCrop(32, padding=4)` does;
`"reflect"` mirrors the border instead.

    >>> loader = DeviceLoader(ds.train_images, ds.train_labels, batch_size=128, device=torch.device("cpu"),
    ...                       mean=ds.mean, std=ds.std, augment=True, shuffle=True)
    >>> for images, labels in loader.batches(epoch=0):   # (128, 3, 32, 32) float32, (128,) int64
    ...     ...
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F

from .catalog import PAD_MODES  # noqa: F401 (kept with the other torch-free choices; re-exported)
from .pixels import normalize, normalizer


def pad_images(images: torch.Tensor, pad: int, mode: str = "zeros") -> torch.Tensor:
    """Pad `pad` pixels on every side of uint8 images: (N, C, H, W) -> (N, C, H + 2·pad, W + 2·pad)."""
    if mode not in PAD_MODES:
        raise ValueError(f"pad_mode {mode!r} is not valid; choose one of: {', '.join(PAD_MODES)}")
    if pad == 0:
        return images
    return F.pad(images, (pad, pad, pad, pad), mode="constant" if mode == "zeros" else "reflect")


def random_offsets(
    n: int, pad: int, *, flip: bool, generator: torch.Generator, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For `n` images: crop offsets dy, dx in [0, 2·pad] and a mirror mask (each image with p = 1/2)."""
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=device)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=device)
    mirror = torch.rand(n, generator=generator, device=device) < 0.5
    if not flip:
        mirror = torch.zeros_like(mirror)
    return dy, dx, mirror


def gather_crops(
    padded: torch.Tensor,
    indices: torch.Tensor,
    dy: torch.Tensor,
    dx: torch.Tensor,
    mirror: torch.Tensor,
    size: int,
) -> torch.Tensor:
    """Select, crop and flip a whole batch in one gather: (N, C, P, P) -> (B, C, size, size), same dtype.

    Image b is `padded[indices[b], :, dy[b]:dy[b]+size, dx[b]:dx[b]+size]`, read right to left where
    `mirror[b]` (the horizontal flip of that crop).
    """
    steps = torch.arange(size, device=padded.device)
    rows = dy[:, None] + steps  # (B, size)
    cols = dx[:, None] + torch.where(mirror[:, None], size - 1 - steps, steps)  # (B, size)
    channels = torch.arange(padded.shape[1], device=padded.device)
    # Advanced indexing broadcasts the four index tensors to (B, C, size, size): one kernel.
    return padded[
        indices[:, None, None, None], channels[None, :, None, None], rows[:, None, :, None], cols[:, None, None, :]
    ]


def batches_per_epoch(n: int, batch_size: int, drop_last: bool = False) -> int:
    return n // batch_size if drop_last else math.ceil(n / batch_size)


class DeviceLoader:
    """Batches of a uint8 image set kept whole on `device`; see the module docstring.

    `batches(epoch)` seeds its own generator from (seed, epoch), so a run resumed at epoch k sees the
    same batches as one that never stopped (on the same device type: CPU and CUDA streams differ).
    """

    def __init__(
        self,
        images: torch.Tensor,  # (N, C, H, W) uint8, any device
        labels: torch.Tensor,  # (N,) int64
        *,
        batch_size: int,
        device: torch.device,
        mean: Sequence[float],
        std: Sequence[float],
        augment: bool = False,
        pad: int = 4,
        pad_mode: str = "zeros",
        flip: bool = True,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int = 0,
        channels_last: bool = False,
    ) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.device = torch.device(device)
        self.size = images.shape[-1]
        self.batch_size, self.augment, self.pad, self.flip = batch_size, augment, pad, flip
        self.shuffle, self.drop_last, self.seed, self.channels_last = shuffle, drop_last, seed, channels_last
        images = images.to(self.device)
        # Padding once for the whole set (not per batch) leaves one gather per batch.
        self.images = pad_images(images, pad, pad_mode) if augment else images
        self.labels = labels.to(self.device)
        self.scale, self.shift = normalizer(mean, std, self.device)

    def __len__(self) -> int:
        return batches_per_epoch(len(self.labels), self.batch_size, self.drop_last)

    @property
    def num_images(self) -> int:
        return len(self.labels)

    def batches(self, epoch: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch: (images (B, C, S, S) float32 normalised, labels (B,) int64), all on the device."""
        n = self.num_images
        generator = torch.Generator(device=self.device)
        generator.manual_seed(self.seed * 1_000_003 + epoch)
        if self.shuffle:
            order = torch.randperm(n, generator=generator, device=self.device)
        else:
            order = torch.arange(n, device=self.device)
        if self.augment:  # every image's crop and flip for the epoch, drawn in three ops
            dy, dx, mirror = random_offsets(n, self.pad, flip=self.flip, generator=generator, device=self.device)
        for b in range(len(self)):
            chunk = slice(b * self.batch_size, min((b + 1) * self.batch_size, n))
            indices = order[chunk]
            if self.augment:
                raw = gather_crops(self.images, indices, dy[chunk], dx[chunk], mirror[chunk], self.size)
            else:
                raw = self.images[indices]
            images = normalize(raw, self.scale, self.shift, channels_last=self.channels_last)
            yield images, self.labels[indices]
