"""The Architecture views: a net drawn beside its plain (or residual) twin with its size and cost, and one
residual block, H(x) = F(x) + x."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

import resnet_core as rc
from resnet_core.presentation import diagram
from resnet_core.presentation.i18n import N_, _, in_each_language, language
from resnet_core.presentation.views import View
from ui.language import spinning


@spinning(N_("Building the net…"))
@st.cache_data(max_entries=64, show_spinner=False)
def cached_summary(spec: rc.NetSpec) -> rc.NetSummary:
    return rc.summarize(spec)


# Building a diagram is plotly validating hundreds of shapes and annotations: a noticeable part of a second of
# the server's CPU per net, more while a run trains, at every rerun for both nets. Kept per spec, so the twin, a
# toggle back and a revisit cost nothing.
@spinning(N_("Drawing the net…"))
@st.cache_resource(max_entries=64, show_spinner=False)
def cached_diagram(spec: rc.NetSpec, lang: str) -> str:
    """The diagram of `spec`'s net as SVG (drawn inline and downloaded), its words in `lang` (the run's language,
    which its labels are drawn in: part of the key). Laid out as a plotly figure (presentation/diagram.py), which
    is only the SVG's source."""
    summary = cached_summary(spec)
    figure = diagram.architecture_figure(
        summary.layout,
        title=_("{name} · {human_count} params").format(name=spec.name, human_count=rc.human_count(summary.params)),
    )
    return diagram.diagram_svg(figure)


def warm(spec: rc.NetSpec | None = None) -> None:
    """`spec`'s net (default: the one this page opens on without a link) and its twin, summarised and drawn in
    each language ahead of a first open (ui/warm.py's background thread; `cached_diagram`, keyed as the page
    keys it)."""
    spec = spec or rc.NetSpec()
    nets = (spec, spec.replace(skip=not spec.skip))
    in_each_language(lambda: [cached_diagram(net, language()) for net in nets])


def part_name(part: str) -> str:
    """ "stem", "stage2", "head": model/summary.py's names, which are the modules' (as English keeps them), in
    the run's language."""
    if part.startswith("stage") and part[5:].isdigit():
        return _("stage{n}").format(n=part[5:])
    return {"stem": _("stem"), "head": _("head")}.get(part, part)


@dataclass
class TwinsView(View):
    """`diagrams`: both nets' (spec, SVG), the chosen first (drawn inline: render.show_drawing, no `figure`);
    `metrics` (label, value, help) of the chosen net; `table` its stages."""

    diagrams: list[tuple[rc.NetSpec, str]] = field(default_factory=list)
    metrics: list[tuple[str, str, str]] = field(default_factory=list)
    summaries: tuple = ()


def twins_view(spec: rc.NetSpec) -> TwinsView:
    """`spec`'s net drawn beside its twin (the same layers, skip connections toggled), with its parameters,
    multiply-adds and a table of its stages; a caption that says what the arcs mean and, with projection
    shortcuts, how many parameters they add over the plain twin."""
    twin = spec.replace(skip=not spec.skip)
    chosen, other = cached_summary(spec), cached_summary(twin)
    diagrams = [(s, cached_diagram(s, language())) for s in (spec, twin)]
    metrics = [
        (
            _("Parameters"),
            rc.human_count(chosen.params),
            _("{params:,} trainable numbers").format(params=chosen.params),
        ),
        (
            _("Multiply-adds"),
            rc.human_count(chosen.macs),
            _(
                "{macs:,} multiply-accumulates of convs and fc for one {image_size}×{image_size} image — "
                "what the paper calls FLOPs (Table 1)."
            ).format(macs=chosen.macs, image_size=chosen.image_size),
        ),
        (_("Weighted layers"), str(spec.depth), ""),
        (_("Residual blocks") if spec.skip else _("Blocks (no shortcuts)"), str(chosen.blocks), ""),
    ]
    table = pd.DataFrame(  # shown only: its headers and part names in the reader's language
        [
            {
                _("part"): part_name(r.part),
                _("output"): _("{n} classes").format(n=r.channels) if r.part == "head" else r.output_size,
                _("channels"): r.channels,
                _("blocks"): str(r.blocks) if r.blocks else "–",
                _("parameters"): f"{r.params:,}",
                _("multiply-adds"): rc.human_count(r.macs),
            }
            for r in chosen.rows
        ]
    )
    notes = []
    if spec.shortcut != "A" and spec.skip:
        notes.append(
            _(
                "The projection shortcuts add {value:,} parameters over the plain twin; with option A "
                "the two have the same size."
            ).format(value=chosen.params - other.params)
        )
    return TwinsView(
        _("{name} beside {name2}").format(name=spec.name, name2=twin.name),
        None,
        _(
            "Shortcut arcs: solid = identity, dotted = identity with zero-padded channels (option A), thick = 1×1 "
            "projection. Long stages are folded; hover a box for its module names."
        ),
        notes=notes,
        table=table,
        diagrams=diagrams,
        metrics=metrics,
        summaries=(chosen, other),
    )


@st.cache_resource(max_entries=8, show_spinner=False)
def _block_figure(spec: rc.NetSpec, lang: str):
    return diagram.block_figure(spec)  # its labels in the run's language, `lang`: part of the cache key


def block_view(spec: rc.NetSpec) -> View:
    """One residual block of `spec`'s net, drawn as the paper's Fig. 2: the weight layers F(x) on the main
    path, the identity shortcut x around them, their sum H(x) = F(x) + x."""
    block = _("two 3×3 convs") if spec.block == "basic" else _("a 1×1, a 3×3 and a 1×1 conv")
    return View(
        _("One residual block: H(x) = F(x) + x"),
        _block_figure(spec, language()),
        _(
            "The block's layers ({block}, each followed by {value}) compute F(x); the shortcut "
            "carries x around them unchanged and adds it. To act as the identity, the block only has "
            "to push F(x) to zero — easier than making a stack of nonlinear layers compute H(x) = x "
            "(He et al. 2015, §3.1)."
        ).format(block=block, value="BatchNorm" if spec.norm == "batch" else _("no normalisation")),
    )
