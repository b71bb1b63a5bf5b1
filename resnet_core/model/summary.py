"""What the Architecture page and the CLI print about a net: size, cost and a table per stage."""

from __future__ import annotations

from dataclasses import dataclass

from .counting import count_params, layer_macs
from .net import NetLayout, build_net
from .spec import NetSpec


@dataclass(frozen=True)
class StageRow:
    part: str  # "stem", "stage1", ..., "head"
    output_size: str  # e.g. "32×32", or "10" for the classifier
    channels: int
    blocks: int
    params: int
    macs: int  # multiply-accumulates for one image


@dataclass(frozen=True)
class NetSummary:
    spec: NetSpec
    layout: NetLayout
    params: int
    macs: int  # the paper's "FLOPs": multiply-adds of convs and fc for one image
    rows: tuple[StageRow, ...]
    image_size: int

    @property
    def blocks(self) -> int:
        return sum(len(s.blocks) for s in self.layout.stages)


def summarize(spec: NetSpec, image_size: int | None = None) -> NetSummary:
    """Build the net once and measure it: parameters and multiply-adds in total and per stage."""
    size = image_size or spec.input_size
    net = build_net(spec)
    macs = layer_macs(net, (spec.in_channels, size, size))
    sizes = net.layout.feature_sizes(size)

    def part_macs(prefix: str) -> int:
        return sum(v for name, v in macs.items() if name == prefix or name.startswith(prefix + "."))

    rows = [
        StageRow(
            "stem",
            f"{sizes['stem']}×{sizes['stem']}",
            spec.stage_widths[0],
            0,
            count_params(net.stem),
            part_macs("stem"),
        )
    ]
    for stage in net.layout.stages:
        side = sizes[stage.name]
        rows.append(
            StageRow(
                stage.name,
                f"{side}×{side}",
                stage.out_channels,
                len(stage.blocks),
                count_params(net.get_submodule(stage.name)),
                part_macs(stage.name),
            )
        )
    head_params = count_params(net.head) + count_params(net.fc)
    rows.append(StageRow("head", f"{spec.num_classes} classes", spec.num_classes, 0, head_params, part_macs("fc")))
    return NetSummary(spec, net.layout, count_params(net), sum(macs.values()), tuple(rows), size)


def human_count(n: int) -> str:
    """0.27M, 19.4M, 40.6M, 1.8G — the precision the paper prints."""
    for unit, scale, floor in (("G", 1e9, 1e9), ("M", 1e6, 1e5), ("k", 1e3, 1e3)):
        if n >= floor:
            value = n / scale
            return f"{value:.2f}{unit}" if value < 1 else f"{value:.3g}{unit}"
    return str(n)
