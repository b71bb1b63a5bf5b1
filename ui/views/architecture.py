"""The Architecture views: a net drawn beside its plain (or residual) twin with its size and cost, and one
residual block, H(x) = F(x) + x."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

import resnet_core as rc
from resnet_core.presentation import diagram
from resnet_core.presentation.views import View


@st.cache_data(max_entries=64, show_spinner="Building the net…")
def cached_summary(spec: rc.NetSpec) -> rc.NetSummary:
    return rc.summarize(spec)


# Building a diagram is plotly validating hundreds of shapes and annotations: a noticeable part of a second of
# the server's CPU per net, more while a run trains, at every rerun for both nets. Kept per spec
# (the figure is only read: st.plotly_chart copies it), so the twin, a toggle back and a revisit cost nothing.
@st.cache_resource(max_entries=64, show_spinner="Drawing the net…")
def cached_diagram(spec: rc.NetSpec) -> tuple:
    """(the diagram of `spec`'s net, its SVG for the download button)."""
    summary = cached_summary(spec)
    figure = diagram.architecture_figure(summary.layout, title=f"{spec.name} · {rc.human_count(summary.params)} params")
    return figure, diagram.diagram_svg(figure)


@dataclass
class TwinsView(View):
    """`figure` is the chosen net's diagram; `diagrams` both nets' (spec, figure, SVG), the chosen first;
    `metrics` (label, value, help) of the chosen net; `table` its stages."""

    diagrams: list[tuple[rc.NetSpec, object, str]] = field(default_factory=list)
    metrics: list[tuple[str, str, str]] = field(default_factory=list)
    summaries: tuple = ()


def twins_view(spec: rc.NetSpec) -> TwinsView:
    """`spec`'s net drawn beside its twin (the same layers, skip connections toggled), with its parameters,
    multiply-adds and a table of its stages; a caption that says what the arcs mean and, with projection
    shortcuts, how many parameters they add over the plain twin."""
    twin = spec.replace(skip=not spec.skip)
    chosen, other = cached_summary(spec), cached_summary(twin)
    diagrams = [(s, *cached_diagram(s)) for s in (spec, twin)]
    metrics = [
        ("Parameters", rc.human_count(chosen.params), f"{chosen.params:,} trainable numbers"),
        (
            "Multiply-adds",
            rc.human_count(chosen.macs),
            f"{chosen.macs:,} multiply-accumulates of convs and fc for one "
            f"{chosen.image_size}×{chosen.image_size} image — what the paper calls FLOPs (Table 1).",
        ),
        ("Weighted layers", str(spec.depth), ""),
        ("Residual blocks" if spec.skip else "Blocks (no shortcuts)", str(chosen.blocks), ""),
    ]
    table = pd.DataFrame(
        [
            {
                "part": r.part,
                "output": r.output_size,
                "channels": r.channels,
                "blocks": str(r.blocks) if r.blocks else "–",
                "parameters": f"{r.params:,}",
                "multiply-adds": rc.human_count(r.macs),
            }
            for r in chosen.rows
        ]
    )
    notes = []
    if spec.shortcut != "A" and spec.skip:
        notes.append(
            f"The projection shortcuts add {chosen.params - other.params:,} parameters over the plain twin; with "
            "option A the two have the same size."
        )
    return TwinsView(
        f"{spec.name} beside {twin.name}",
        diagrams[0][1],
        "Shortcut arcs: solid = identity, dotted = identity with zero-padded channels (option A), thick = 1×1 "
        "projection. Long stages are folded; hover a box for its module names.",
        notes=notes,
        table=table,
        diagrams=diagrams,
        metrics=metrics,
        summaries=(chosen, other),
    )


@st.cache_resource(max_entries=8, show_spinner=False)
def _block_figure(spec: rc.NetSpec):
    return diagram.block_figure(spec)


def block_view(spec: rc.NetSpec) -> View:
    """One residual block of `spec`'s net, drawn as the paper's Fig. 2: the weight layers F(x) on the main
    path, the identity shortcut x around them, their sum H(x) = F(x) + x."""
    block = "two 3×3 convs" if spec.block == "basic" else "a 1×1, a 3×3 and a 1×1 conv"
    return View(
        "One residual block: H(x) = F(x) + x",
        _block_figure(spec),
        f"The block's layers ({block}, each followed by {'BatchNorm' if spec.norm == 'batch' else 'no normalisation'}) "
        "compute F(x); the shortcut carries x around them unchanged and adds it. To act as the identity, the "
        "block only has to push F(x) to zero — easier than making a stack of nonlinear layers compute H(x) = x "
        "(He et al. 2015, §3.1).",
    )
