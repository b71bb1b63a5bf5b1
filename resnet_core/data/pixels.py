"""Pixels and the net's input space, one conversion for everyone: the loader's batches, probes' images,
attributions and uploads all see `(pixel / 255 − mean) / std` with the training set's per-channel mean
and std, and `to_display` turns that back into pixels to show."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def normalizer(mean: Sequence[float], std: Sequence[float], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift), each (1, C, 1, 1), such that `pixel·scale + shift == (pixel/255 - mean)/std`."""
    mean_t = torch.tensor(mean, dtype=torch.float32, device=device).view(1, -1, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32, device=device).view(1, -1, 1, 1)
    return 1.0 / (255.0 * std_t), -mean_t / std_t


def normalize(
    images: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, *, channels_last: bool = False
) -> torch.Tensor:
    """uint8 (B, C, H, W) -> normalised float32, converted, scaled and shifted in one fused kernel."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    out = torch.empty(images.shape, dtype=torch.float32, device=images.device, memory_format=fmt)
    return torch.addcmul(shift, images, scale, out=out)


def to_input(images, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 pixels — a tensor (N, C, H, W) or (C, H, W), or a PIL image — to the float (N, C, H, W) the
    net sees: (pixel / 255 − mean) / std, with the training set's per-channel mean and std."""
    if not isinstance(images, torch.Tensor):
        from .images import to_uint8_tensor  # a PIL image

        images = to_uint8_tensor(images)
    if images.ndim == 3:
        images = images.unsqueeze(0)
    if images.dtype != torch.uint8:
        raise ValueError(f"to_input takes uint8 pixels, got {images.dtype}")
    images = match_channels(images, len(mean))
    return normalize(images, *normalizer(mean, std, images.device))


# ITU-R BT.601 luma, the weights Pillow's convert("L") uses: a colour image as a grayscale net sees it.
LUMA = (0.299, 0.587, 0.114)


def match_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """uint8 (N, C, H, W) pixels with `channels` channels: colour to gray by luma (an upload or sample shown
    to a net trained on (Fashion-)MNIST), gray to colour by repeating it; others unchanged."""
    have = images.shape[1]
    if have == channels:
        return images
    if have == 3 and channels == 1:
        weights = torch.tensor(LUMA, dtype=torch.float32, device=images.device).view(1, 3, 1, 1)
        return (images.float() * weights).sum(dim=1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
    if have == 1 and channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    raise ValueError(f"images with {have} channels cannot feed a net that takes {channels}")


def to_display(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Inverse of `to_input`, for showing: (N, C, H, W) or (C, H, W) -> uint8 numpy (N, H, W, C)."""
    if x.ndim == 3:
        x = x.unsqueeze(0)
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    pixels = ((x.detach().float().cpu() * std_t + mean_t) * 255).round().clamp(0, 255).to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).numpy()
