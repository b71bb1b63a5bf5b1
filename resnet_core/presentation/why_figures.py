"""Figures of the "why residual nets train" experiments, as pure functions (results in, `go.Figure` out).

- Lesion study (Veit et al. 2016): test error after deleting each block, and after deleting k at once.
- Loss landscape (Li et al. 2018): contours (or surfaces) of the loss around the trained weights, the nets
  side by side on one colour scale, and the 1-D slice through the centre.
- Shattered gradients (Balduzzi et al. 2017): the input gradient along a line, and its autocorrelation.

Residual nets blue, plain nets orange, as on every page.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .charts import style_axes
from .i18n import _
from .palette import FONT, NEUTRAL_COLOR, net_color, tint


@dataclass
class NetResult:
    """One net's result of an experiment, with how to label and colour it."""

    label: str  # e.g. "ResNet-20" (escaped before it reaches a figure)
    skip: bool
    data: dict  # what the analysis function returned

    @property
    def color(self) -> str:
        return net_color(self.skip)

    @property
    def name(self) -> str:
        return html.escape(self.label)


# ---------------------------------------------------------------------------------------------- lesion


def _chance_line(fig: go.Figure, chance: float | None) -> None:
    """The error of guessing (a grey dotted line), which a lesioned net's error climbs towards."""
    if chance is not None:
        fig.add_hline(
            y=chance,
            line=dict(color=NEUTRAL_COLOR, width=1, dash="dot"),
            annotation=dict(text=_("chance"), font=dict(FONT, size=11, color=NEUTRAL_COLOR)),
            annotation_position="bottom right",
        )


def lesion_figure(nets: Sequence[NetResult], chance: float | None = None) -> go.Figure:
    """Test error (%) after deleting each block on its own, by block (input side first), one line per net;
    each net's intact error as a dotted line of its colour, and chance as a grey one."""
    fig = go.Figure()
    for net in nets:
        blocks = [name for name in net.data if name != "intact"]
        errors = [net.data[name]["error"] for name in blocks]
        x = list(range(1, len(blocks) + 1))
        fig.add_trace(
            go.Scatter(
                x=x,
                y=errors,
                mode="lines+markers",
                name=_("{name}: one block deleted").format(name=net.name),
                line=dict(color=net.color, width=2, dash="solid" if net.skip else "dash"),
                marker=dict(size=6),
                customdata=blocks,
                hovertemplate=_("deleted %{customdata}<br>test error %{y:.1f}%<extra>") + net.name + "</extra>",
            )
        )
        intact = net.data["intact"]["error"]
        fig.add_trace(
            go.Scatter(
                x=[x[0], x[-1]] if x else [],
                y=[intact, intact],
                mode="lines",
                name=_("{name} intact").format(name=net.name),
                line=dict(color=net.color, width=1, dash="dot"),
                hovertemplate=_("intact: {intact:.1f}%<extra>{name}</extra>").format(intact=intact, name=net.name),
            )
        )
    _chance_line(fig, chance)
    style_axes(fig, title=_("Test error after deleting one block"), height=420, hovermode="closest")
    most = max((len(net.data) - 1 for net in nets), default=0)
    fig.update_xaxes(title=_("deleted block (1 = nearest the input)"), dtick=1 if most <= 30 else None)
    fig.update_yaxes(title=_("test error (%)"), rangemode="tozero")
    return fig


def lesion_k_figure(nets: Sequence[NetResult], chance: float | None = None) -> go.Figure:
    """Test error (%) after deleting k random blocks at once: the mean over the draws, and a band from the
    best to the worst draw (Veit et al. 2016, Fig. 5a)."""
    fig = go.Figure()
    for net in nets:
        k = net.data["k"]
        errors = np.asarray(net.data["error"], dtype=float)  # (len(k), draws)
        lo, hi, mean = errors.min(axis=1), errors.max(axis=1), errors.mean(axis=1)
        fig.add_trace(
            go.Scatter(
                x=list(k) + list(k)[::-1],
                y=list(hi) + list(lo)[::-1],
                fill="toself",
                fillcolor=tint(net.color, 0.15),
                line=dict(width=0),
                hoverinfo="skip",
                showlegend=False,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=k,
                y=mean,
                mode="lines+markers",
                name=net.name,
                line=dict(color=net.color, width=2, dash="solid" if net.skip else "dash"),
                hovertemplate=_("%{x} blocks deleted<br>mean test error %{y:.1f}%<extra>") + net.name + "</extra>",
            )
        )
    _chance_line(fig, chance)
    style_axes(fig, title=_("Test error after deleting k random blocks at once"), height=420, hovermode="closest")
    fig.update_xaxes(
        title=_("blocks deleted at once (k)"),
        dtick=1 if max((len(n.data["k"]) for n in nets), default=0) <= 30 else None,
    )
    fig.update_yaxes(title=_("test error (%) — mean, band: best to worst draw"), rangemode="tozero")
    return fig


# ------------------------------------------------------------------------------------------ landscape


def landscape_figure(nets: Sequence[NetResult], surface: bool = False) -> go.Figure:
    """log₁₀ of the loss on the plane around each net's weights, side by side on one colour scale:
    contours (default) or 3-D surfaces. The centre (α = β = 0) is the trained net itself."""
    finite = [v for net in nets for row in net.data["loss"] for v in row if math.isfinite(v) and v > 0]
    zmin, zmax = (math.log10(min(finite)), math.log10(max(finite))) if finite else (0.0, 1.0)
    spec = {"type": "surface"} if surface else {"type": "xy"}
    fig = make_subplots(
        rows=1,
        cols=len(nets),
        specs=[[spec] * len(nets)],
        subplot_titles=[net.name for net in nets],
        horizontal_spacing=0.08,
    )
    for col, net in enumerate(nets, start=1):
        z = np.log10(np.clip(np.asarray(net.data["loss"], dtype=float), 1e-12, None))
        alpha, beta = net.data["alpha"], net.data["beta"][: len(z)]
        common = dict(
            z=z,
            x=alpha,
            y=beta,
            zmin=zmin,
            zmax=zmax,
            colorscale="Viridis",
            showscale=col == len(nets),
            hovertemplate=_("α %{x:.2f}, β %{y:.2f}<br>log₁₀ loss %{z:.2f}<extra>") + net.name + "</extra>",
        )
        if surface:
            fig.add_trace(
                go.Surface(
                    **{k: v for k, v in common.items() if k not in ("zmin", "zmax")},
                    cmin=zmin,
                    cmax=zmax,
                    colorbar=dict(title=_("log₁₀ loss")),
                ),
                row=1,
                col=col,
            )
        else:
            fig.add_trace(
                go.Contour(
                    **common,
                    contours=dict(coloring="heatmap", showlines=True),
                    line=dict(width=0.5, color="white"),
                    colorbar=dict(title=dict(text=_("log₁₀ loss"), side="right")),
                ),
                row=1,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=[0],
                    y=[0],
                    mode="markers",
                    marker=dict(symbol="x", size=9, color="white"),
                    showlegend=False,
                    hovertemplate=_("the trained weights<extra></extra>"),
                ),
                row=1,
                col=col,
            )
            fig.update_xaxes(title=_("α (direction 1)"), row=1, col=col)
            fig.update_yaxes(title=_("β (direction 2)") if col == 1 else None, row=1, col=col)
    fig.update_layout(
        font=FONT,
        paper_bgcolor="white",
        plot_bgcolor="white",
        height=460,
        margin=dict(l=10, r=10, t=60, b=20),
        title=_("Loss around the trained weights (log₁₀ of the mean cross-entropy)"),
    )
    if surface:
        fig.update_scenes(xaxis_title="α", yaxis_title="β", zaxis_title=_("log₁₀ loss"), zaxis_range=[zmin, zmax])
    for annotation in fig.layout.annotations:
        annotation.font = dict(FONT, color=NEUTRAL_COLOR)
    return fig


def landscape_slice_figure(nets: Sequence[NetResult]) -> go.Figure:
    """The loss along direction 1 through the trained weights (β = 0): the centre row of the grid."""
    fig = go.Figure()
    for net in nets:
        loss, beta = net.data["loss"], net.data["beta"]
        if not beta or len(loss) <= len(beta) // 2:
            continue  # stopped before the centre row
        row = min(range(len(loss)), key=lambda i: abs(beta[i]))
        fig.add_trace(
            go.Scatter(
                x=net.data["alpha"],
                y=loss[row],
                mode="lines+markers",
                name=net.name,
                line=dict(color=net.color, width=2, dash="solid" if net.skip else "dash"),
                hovertemplate="α %{x:.2f}: loss %{y:.3g}<extra>" + net.name + "</extra>",
            )
        )
    style_axes(fig, title=_("A slice through the centre (β = 0)"), height=380, hovermode="closest")
    fig.update_xaxes(title=_("α (step along direction 1, filter-normalised)"))
    fig.update_yaxes(title=_("cross-entropy loss"), type="log")
    return fig


# ------------------------------------------------------------------------------------ shattered gradients


def gradient_line_figure(nets: Sequence[NetResult], x_key: str, x_title: str, title: str) -> go.Figure:
    """Each net's input gradient along the line, scaled to unit std so shapes compare (the scale differs
    by orders of magnitude between nets and says nothing about shattering)."""
    fig = go.Figure()
    for net in nets:
        g = np.asarray(net.data["gradient"], dtype=float)
        std = g.std()
        scaled = (g - g.mean()) / std if std > 0 else g * 0
        fig.add_trace(
            go.Scatter(
                x=net.data[x_key],
                y=scaled,
                mode="lines",
                name=net.name,
                line=dict(color=net.color, width=1.5),
                hovertemplate="%{x:.3f}: %{y:.2f} std<extra>" + net.name + "</extra>",
            )
        )
    style_axes(fig, title=title, height=380, hovermode="closest")
    fig.update_xaxes(title=x_title)
    fig.update_yaxes(title=_("gradient (standardised: mean 0, std 1)"))
    return fig


def autocorrelation_figure(nets: Sequence[NetResult], key: str = "autocorrelation") -> go.Figure:
    """Autocorrelation of each net's gradient series by lag: white noise is ≈ 0 beyond lag 0 (Balduzzi et
    al. 2017, Fig. 2); a gradient that keeps its structure stays high."""
    fig = go.Figure()
    for net in nets:
        r = net.data[key]
        fig.add_trace(
            go.Scatter(
                x=list(range(len(r))),
                y=r,
                mode="lines+markers",
                name=net.name,
                line=dict(color=net.color, width=2, dash="solid" if net.skip else "dash"),
                hovertemplate="lag %{x}: r = %{y:.2f}<extra>" + net.name + "</extra>",
            )
        )
    fig.add_hline(y=0, line=dict(color=NEUTRAL_COLOR, width=1))
    style_axes(fig, title=_("Autocorrelation of the gradient"), height=380, hovermode="closest")
    fig.update_xaxes(title=_("lag (grid points apart)"))
    fig.update_yaxes(title=_("autocorrelation r"), range=[-0.5, 1.05])
    return fig
