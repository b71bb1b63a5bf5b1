"""Residual blocks. All four share one constructor shape: (in_channels, width, stride, norm,
activation, shortcut). `shortcut=None` makes the plain twin: the same layers, nothing added.

A block learns F(x) and outputs F(x) + x (He et al. 2015, Eq. 1), so an identity mapping is just F = 0.
The add is one readable line, `out = out + self.shortcut(x)`, never in-place (hooks and Captum).
`conv_norm_pairs` names each norm that directly follows a conv in `forward` (so that, in eval mode, a
BatchNorm can be folded into that conv: analysis/lesion.py does for its thousands of forward passes).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from .layers import conv, make_activation, make_norm


class ResidualBlock(nn.Module):
    """What the four blocks share, so that the layout (net.py) and the lesion study read it typed."""

    expansion: ClassVar[int]  # output channels / width (1 basic, 4 bottleneck)
    convs: ClassVar[tuple[str, ...]]  # the residual branch's convs, forward order
    conv_norm_pairs: ClassVar[tuple[tuple[str, str], ...]]
    shortcut: nn.Module | None  # None: the plain twin


class BasicBlock(ResidualBlock):
    """conv3×3-BN-act-conv3×3-BN, (+ shortcut), act (2015, Fig. 2)."""

    expansion = 1
    convs = ("conv1", "conv2")
    conv_norm_pairs = (("conv1", "norm1"), ("conv2", "norm2"))

    def __init__(self, in_channels, width, stride, norm, activation, shortcut: nn.Module | None):
        super().__init__()
        bias = norm == "none"
        self.conv1 = conv(in_channels, width, 3, stride, bias=bias)
        self.norm1 = make_norm(norm, width)
        self.act1 = make_activation(activation)
        self.conv2 = conv(width, width, 3, bias=bias)
        self.norm2 = make_norm(norm, width)
        self.shortcut = shortcut
        self.act2 = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act1(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.act2(out)


class BottleneckBlock(ResidualBlock):
    """conv1×1-BN-act-conv3×3-BN-act-conv1×1-BN, (+ shortcut), act (2015, Fig. 5 right).

    The stride sits on the first 1×1 conv, as in the paper's original models: this is what gives
    Table 1's FLOPs (3.8·10⁹ for ResNet-50; torchvision's "v1.5" strides the 3×3 and costs 4.1·10⁹).
    """

    expansion = 4
    convs = ("conv1", "conv2", "conv3")
    conv_norm_pairs = (("conv1", "norm1"), ("conv2", "norm2"), ("conv3", "norm3"))

    def __init__(self, in_channels, width, stride, norm, activation, shortcut: nn.Module | None):
        super().__init__()
        bias = norm == "none"
        out_channels = width * self.expansion
        self.conv1 = conv(in_channels, width, 1, stride, bias=bias)
        self.norm1 = make_norm(norm, width)
        self.act1 = make_activation(activation)
        self.conv2 = conv(width, width, 3, bias=bias)
        self.norm2 = make_norm(norm, width)
        self.act2 = make_activation(activation)
        self.conv3 = conv(width, out_channels, 1, bias=bias)
        self.norm3 = make_norm(norm, out_channels)
        self.shortcut = shortcut
        self.act3 = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act1(self.norm1(self.conv1(x)))
        out = self.act2(self.norm2(self.conv2(out)))
        out = self.norm3(self.conv3(out))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.act3(out)


class PreActBasicBlock(ResidualBlock):
    """BN-act-conv3×3-BN-act-conv3×3, + shortcut (He et al. 2016, Fig. 4e): nothing after the add,
    so the identity path runs clean from block to block."""

    expansion = 1
    convs = ("conv1", "conv2")
    conv_norm_pairs = (("conv1", "norm2"),)

    def __init__(self, in_channels, width, stride, norm, activation, shortcut: nn.Module | None):
        super().__init__()
        bias = norm == "none"
        self.norm1 = make_norm(norm, in_channels)
        self.act1 = make_activation(activation)
        self.conv1 = conv(in_channels, width, 3, stride, bias=bias)
        self.norm2 = make_norm(norm, width)
        self.act2 = make_activation(activation)
        self.conv2 = conv(width, width, 3, bias=bias)
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.act1(self.norm1(x)))
        out = self.conv2(self.act2(self.norm2(out)))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return out


class PreActBottleneckBlock(ResidualBlock):
    """BN-act-conv1×1-BN-act-conv3×3-BN-act-conv1×1, + shortcut (He et al. 2016, ResNet-164)."""

    expansion = 4
    convs = ("conv1", "conv2", "conv3")
    conv_norm_pairs = (("conv1", "norm2"), ("conv2", "norm3"))

    def __init__(self, in_channels, width, stride, norm, activation, shortcut: nn.Module | None):
        super().__init__()
        bias = norm == "none"
        self.norm1 = make_norm(norm, in_channels)
        self.act1 = make_activation(activation)
        self.conv1 = conv(in_channels, width, 1, stride, bias=bias)
        self.norm2 = make_norm(norm, width)
        self.act2 = make_activation(activation)
        self.conv2 = conv(width, width, 3, bias=bias)
        self.norm3 = make_norm(norm, width)
        self.act3 = make_activation(activation)
        self.conv3 = conv(width, width * self.expansion, 1, bias=bias)
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.act1(self.norm1(x)))
        out = self.conv2(self.act2(self.norm2(out)))
        out = self.conv3(self.act3(self.norm3(out)))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return out


BLOCK_CLASSES: dict[tuple[str, bool], type[ResidualBlock]] = {
    ("basic", False): BasicBlock,
    ("bottleneck", False): BottleneckBlock,
    ("basic", True): PreActBasicBlock,
    ("bottleneck", True): PreActBottleneckBlock,
}
