"""Small named building parts: norms, activations and the shortcut factory.

Names map to classes through small dicts that the UI's select boxes list. Every nonlinearity is its own
module and nothing is in-place: forward hooks and Captum rely on both.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATION_LAYERS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def make_norm(kind: str, channels: int) -> nn.Module:
    """BatchNorm, or an Identity placeholder so every block keeps the same module names."""
    return nn.BatchNorm2d(channels) if kind == "batch" else nn.Identity()


def make_activation(kind: str) -> nn.Module:
    return ACTIVATION_LAYERS[kind]()


def conv(in_channels: int, out_channels: int, kernel: int, stride: int = 1, *, bias: bool) -> nn.Conv2d:
    """A 'same'-padded convolution. It has no bias when a BatchNorm follows (the BN's shift replaces it)."""
    return nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2, bias=bias)


class ZeroPadShortcut(nn.Module):
    """Option A of He et al. 2015 (§3.3): identity, subsampled by `stride`, with the extra channels
    zero-padded. It has no parameters, so a ResNet and its plain twin have the same size (Table 6)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        extra = self.out_channels - self.in_channels
        # F.pad pads from the last dim backwards: (W left, W right, H top, H bottom, C front, C back).
        return F.pad(x, (0, 0, 0, 0, 0, extra)) if extra else x

    def extra_repr(self) -> str:
        return f"{self.in_channels}->{self.out_channels}, stride={self.stride}"


class ProjectionShortcut(nn.Sequential):
    """Options B and C: a 1×1 convolution (strided where the map shrinks) and a norm."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, norm: str) -> None:
        super().__init__()
        self.conv = conv(in_channels, out_channels, 1, stride, bias=norm == "none")
        self.norm = make_norm(norm, out_channels)


def make_shortcut(option: str, in_channels: int, out_channels: int, stride: int, norm: str) -> tuple[nn.Module, str]:
    """The shortcut of one block and a word describing it ("identity", "zero-pad" or "projection")."""
    reshapes = stride != 1 or in_channels != out_channels
    if option == "C" or (option == "B" and reshapes):
        return ProjectionShortcut(in_channels, out_channels, stride, norm), "projection"
    if option == "A" and reshapes:
        return ZeroPadShortcut(in_channels, out_channels, stride), "zero-pad"
    return nn.Identity(), "identity"
