"""`build_net(spec)`: the network, plus a description of what was built (`net.layout`).

The layout — stem, stages, blocks, channels, strides, module names, and the table of layers — is made by
the same function that makes the modules, so the diagram, the probes, the charts and every page read one
source of truth for "what is layer 17": `net.layout.layers[16]`, the 17th of the `depth` weighted layers
the paper counts (main-path convs and the classifier, input side first; shortcut projections are listed
apart, in `net.layout.projections`, because the paper does not count them in the depth).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import torch
from torch import nn

from .blocks import BLOCK_CLASSES
from .layers import conv, make_activation, make_norm, make_shortcut
from .spec import NetSpec


@dataclass(frozen=True)
class LayerInfo:
    """One weighted layer (a conv or the classifier) as the paper counts it."""

    index: int | None  # 1 … depth, input side first; None for a shortcut projection (not counted in depth)
    name: str  # module name in `net.named_modules()`, e.g. "stage2.block1.conv2"
    kind: str  # "conv", "fc" or "projection"
    kernel: int | None  # side of the conv kernel (7, 3, 1); None for the fc layer
    stage: int | None  # 0 for the stem, 1 … for the stages; None for the fc layer
    block: str | None  # module name of the block it belongs to, e.g. "stage2.block1"; None for stem and fc

    @property
    def label(self) -> str:
        """How pages name it: "layer 17 · stage2.block4.conv1 (3×3)"."""
        kernel = f" ({self.kernel}×{self.kernel})" if self.kernel else ""
        head = f"layer {self.index}" if self.index is not None else "projection"
        return f"{head} · {self.name}{kernel}"


@dataclass(frozen=True)
class BlockInfo:
    name: str  # module name, e.g. "stage2.block1"
    stage: int  # 1-based
    index: int  # 1-based within its stage
    in_channels: int
    out_channels: int
    stride: int
    shortcut: str | None  # "identity", "zero-pad", "projection"; None in a plain net
    convs: tuple[str, ...]  # module names of the residual branch's convs, forward order


@dataclass(frozen=True)
class StageInfo:
    name: str  # "stage1", ...
    index: int  # 1-based
    width: int  # channels of its 3×3 convs
    in_channels: int
    out_channels: int
    stride: int  # of its first block
    blocks: tuple[BlockInfo, ...]


@dataclass(frozen=True)
class NetLayout:
    spec: NetSpec
    stem_convs: tuple[str, ...]
    stages: tuple[StageInfo, ...]
    fc: str
    layers: tuple[LayerInfo, ...]  # the `depth` weighted layers, forward order (index 1 … depth)
    projections: tuple[LayerInfo, ...] = ()  # shortcut projections (options B and C), forward order

    @property
    def blocks(self) -> tuple[BlockInfo, ...]:
        return tuple(b for s in self.stages for b in s.blocks)

    @property
    def weighted_layers(self) -> tuple[str, ...]:
        """Module names of `layers`, input to output."""
        return tuple(info.name for info in self.layers)

    def layer(self, name: str) -> LayerInfo:
        """The layer (or projection) of a module name; KeyError for any other name."""
        for info in self.layers + self.projections:
            if info.name == name:
                return info
        raise KeyError(f"{name!r} is not a weighted layer of {self.spec.name}")

    def layer_indices(self, names) -> list[int]:
        """The paper's layer index (1 … depth) of each module name, e.g. a probe's keys in order."""
        # Every entry of `layers` is numbered (only projections have index None).
        index = {info.name: info.index for info in self.layers if info.index is not None}
        return [index[name] for name in names]

    def feature_sizes(self, image_size: int | None = None) -> dict[str, int]:
        """Side of the feature map after the stem and after each stage, for a square input."""
        size = image_size or self.spec.input_size
        if self.spec.stem == "imagenet":
            size = _conv_out(_conv_out(size, 7, 2, 3), 3, 2, 1)  # 7×7/2 conv, then 3×3/2 max-pool
        sizes = {"stem": size}
        for stage in self.stages:
            size = _conv_out(size, 3, stage.stride, 1)
            sizes[stage.name] = size
        return sizes


class ResNet(nn.Module):
    """stem → stages of blocks → (final BN-act when pre-activated) → global average pool → fc."""

    def __init__(self, spec: NetSpec) -> None:
        super().__init__()
        self.spec = spec
        self.stem, stem_convs = _make_stem(spec)
        stages, stage_infos = _make_stages(spec)
        for info, stage in zip(stage_infos, stages):
            self.add_module(info.name, stage)
        self.stage_names = tuple(info.name for info in stage_infos)
        last_channels = stage_infos[-1].out_channels
        # Pre-activation nets end their last block on an add, so the head applies the last BN-act
        # (He et al. 2016, §4.1: "an extra activation right after its element-wise addition").
        self.head = (
            nn.Sequential(make_norm(spec.norm, last_channels), make_activation(spec.activation))
            if spec.preact
            else nn.Identity()
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(last_channels, spec.num_classes)
        self.layout = NetLayout(
            spec, stem_convs, tuple(stage_infos), "fc", *_layer_table(self, stem_convs, stage_infos)
        )
        _init_weights(self, spec.activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, num_classes)
        x = self.stem(x)
        for name in self.stage_names:
            x = getattr(self, name)(x)
        x = self.head(x)
        return self.fc(self.flatten(self.pool(x)))  # (N, C, 1, 1) -> (N, C) -> logits


def build_net(spec: NetSpec | None = None, **fields) -> ResNet:
    """Build the net a spec describes: `build_net(NetSpec(depth=56))` or `build_net(depth=56)`."""
    if spec is None:
        spec = NetSpec(**fields)
    elif fields:
        spec = spec.replace(**fields)
    return ResNet(spec)


@functools.lru_cache(maxsize=64)
def layout_of(spec: NetSpec) -> NetLayout:
    """The layout of the net a spec describes, without allocating its weights (built on the meta device):
    pages that only need the table of layers of a stored run's net — even ResNet-1202's — get it at once."""
    with torch.device("meta"):
        return ResNet(spec).layout


def _layer_table(
    net: nn.Module, stem_convs: tuple[str, ...], stages: list[StageInfo]
) -> tuple[tuple[LayerInfo, ...], tuple[LayerInfo, ...]]:
    """The weighted layers (stem convs, each block's convs, fc) and the shortcut projections, forward
    order. Kernels are read off the modules themselves, so the table cannot disagree with the net."""
    modules = dict(net.named_modules())
    layers = [LayerInfo(0, name, "conv", modules[name].kernel_size[0], 0, None) for name in stem_convs]
    projections = []
    for stage in stages:
        for block in stage.blocks:
            for conv_name in block.convs:
                name = f"{block.name}.{conv_name}"
                layers.append(LayerInfo(0, name, "conv", modules[name].kernel_size[0], stage.index, block.name))
            if block.shortcut == "projection":
                name = f"{block.name}.shortcut.conv"
                projections.append(
                    LayerInfo(None, name, "projection", modules[name].kernel_size[0], stage.index, block.name)
                )
    layers.append(LayerInfo(0, "fc", "fc", None, None, None))
    numbered = tuple(dataclasses.replace(info, index=i) for i, info in enumerate(layers, start=1))
    return numbered, tuple(projections)


def _make_stem(spec: NetSpec) -> tuple[nn.Sequential, tuple[str, ...]]:
    width = spec.stage_widths[0]
    bias = spec.norm == "none"
    stem = nn.Sequential()
    if spec.stem == "cifar":
        stem.conv = conv(spec.in_channels, width, 3, bias=bias)
    else:
        stem.conv = conv(spec.in_channels, width, 7, stride=2, bias=bias)
    # A pre-activation net's first block begins with BN-act, so its stem is the bare conv.
    if not spec.preact:
        stem.norm = make_norm(spec.norm, width)
        stem.act = make_activation(spec.activation)
    if spec.stem == "imagenet":
        stem.pool = nn.MaxPool2d(3, stride=2, padding=1)
    return stem, ("stem.conv",)


def _make_stages(spec: NetSpec) -> tuple[list[nn.Sequential], list[StageInfo]]:
    block_class = BLOCK_CLASSES[(spec.block_kind, spec.preact)]
    in_channels = spec.stage_widths[0]
    stages, infos = [], []
    for s, (n_blocks, width) in enumerate(zip(spec.stage_blocks, spec.stage_widths), start=1):
        # The first stage keeps the stem's map size (the ImageNet stem has already pooled);
        # each later stage halves it in its first block and doubles the width (2015, §3.3).
        first_stride = 1 if s == 1 else 2
        out_channels = width * spec.expansion
        stage, block_infos = nn.Sequential(), []
        for b, stride in enumerate([first_stride] + [1] * (n_blocks - 1), start=1):
            shortcut, kind = (None, None)
            if spec.skip:
                shortcut, kind = make_shortcut(spec.shortcut, in_channels, out_channels, stride, spec.norm)
            block = block_class(in_channels, width, stride, spec.norm, spec.activation, shortcut)
            stage.add_module(f"block{b}", block)
            block_infos.append(
                BlockInfo(f"stage{s}.block{b}", s, b, in_channels, out_channels, stride, kind, block.convs)
            )
            in_channels = out_channels
        stages.append(stage)
        infos.append(
            StageInfo(f"stage{s}", s, width, block_infos[0].in_channels, out_channels, first_stride, tuple(block_infos))
        )
    return stages, infos


def _init_weights(net: nn.Module, activation: str) -> None:
    """He (Kaiming) init for ReLU nets, as the paper does (§3.4, its ref. [13]); Glorot init for the
    saturating activations — the setting in which vanishing gradients were first studied."""
    if next(net.parameters()).is_meta:  # `layout_of`: shapes without storage, nothing to draw
        return
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            if activation == "relu":
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            else:
                nn.init.xavier_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def _conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1
