"""Training charts as pure functions: series in, `go.Figure` out (testable without Streamlit).

Curves follow the paper's Fig. 6: error (%) against iterations, thin dashed = training error, bold =
test error; residual nets blue, plain nets orange. What is drawn is downsampled (min/max per bucket, so
spikes survive) to a few thousand points per trace, so 10,000-step runs stay smooth in the browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .i18n import N_, _, plotly_separators
from .palette import FONT, NEUTRAL_COLOR
from .text import plot_text

MAX_POINTS = 2000


@dataclass
class RunSeries:
    """What a chart needs of one run. Errors are fractions (0..1); charts show percent."""

    label: str  # legend text, e.g. "ResNet-56 · 20251123-…"; plain text (a run's name may be in it)
    skip: bool
    color: str
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0))  # iteration of each step record
    loss: np.ndarray = field(default_factory=lambda: np.zeros(0))  # training loss of that batch
    batch_error: np.ndarray = field(default_factory=lambda: np.zeros(0))  # training error of that batch
    epoch_steps: np.ndarray = field(default_factory=lambda: np.zeros(0))  # iteration at each epoch's end
    train_error: np.ndarray = field(default_factory=lambda: np.zeros(0))  # mean over the epoch's batches
    test_error: np.ndarray = field(default_factory=lambda: np.zeros(0))  # on the whole test set


def downsample(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` points: the min and the max of each bucket, in x order."""
    n = len(x)
    if n <= max_points:
        return x, y
    buckets = max_points // 2
    edges = np.linspace(0, n, buckets + 1).astype(int)
    keep = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        if hi <= lo:
            continue
        seg = y[lo:hi]
        a, b = lo + int(np.nanargmin(seg)), lo + int(np.nanargmax(seg))
        keep.extend(sorted({a, b}))
    idx = np.array(keep)
    return x[idx], y[idx]


def running_mean(y: np.ndarray, window: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Mean of the last `window` values at each point (fewer at the start): smooths batch noise honestly.

    `weights`: how many batches each value stands for. A "step" row is the mean over the batches since the
    previous one — `log_every` of them, but only the leftover one or two at the end of an epoch; counted
    as equals, those few-batch rows made the smoothed curve spike at every epoch boundary."""
    if len(y) == 0 or window <= 1:
        return y
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    c = np.cumsum(np.insert(w * y.astype(np.float64), 0, 0.0))
    cw = np.cumsum(np.insert(w, 0, 0.0))
    idx = np.arange(1, len(y) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / np.maximum(cw[idx] - cw[lo], 1e-12)


def batches_per_row(steps: np.ndarray) -> np.ndarray:
    """How many batches each logged step row covers: the step difference to the previous row (≥ 1)."""
    steps = np.asarray(steps, dtype=np.float64)
    if len(steps) == 0:
        return steps
    return np.maximum(np.diff(steps, prepend=steps[0] - min(steps[0], np.diff(steps).max(initial=1))), 1)


def smoothing_window(n: int) -> int:
    return int(max(1, min(100, n // 50)))


def text_width(text: str) -> int:
    """`text`'s width in Latin characters: a CJK character (Chinese labels) is about two wide."""
    return sum(2 if "\u2e80" <= c <= "\ufaff" or "\uff00" <= c <= "\uffef" else 1 for c in text)


def style_axes(fig: go.Figure, hovermode: str = "x unified", **kwargs) -> None:
    # The legend goes under the x-axis title: above the plot it collides with the chart's title.
    # Numbers in the run's language: plotly ignores the browser's locale for them (i18n.plotly_separators).
    fig.update_layout(
        separators=plotly_separators(),
        font=FONT,
        plot_bgcolor="white",
        paper_bgcolor="white",
        margin=dict(l=10, r=10, t=50, b=20),
        legend=dict(orientation="h", yanchor="top", y=-0.22, x=0),
        hovermode=hovermode,
        **kwargs,
    )
    fig.update_xaxes(showgrid=True, gridcolor="#e2e8f0", zeroline=False)
    fig.update_yaxes(showgrid=True, gridcolor="#e2e8f0", zeroline=False)


AXIS_TITLE_SPACE = 60  # px under the plot: tick labels, the x-axis title and a gap


def legend_at_bottom(fig: go.Figure, labels: Sequence[str], min_width: int = 480) -> None:
    """The legend at the figure's bottom edge, below the x-axis title, in a bottom margin sized for both.

    `style_axes` places it at a fraction of the *plot's* height below the axis; when long labels wrap to a
    second row the legend grows, the plot shrinks, and that fraction came to less than the room the x-axis
    title needs: the two overlapped. Anchored to the container, the legend's place no longer depends on
    the plot's height. Rows are estimated for a chart `min_width` px wide (each item: its symbol, ~40 px,
    and ~7 px per character)."""
    rows, used = 1, 0
    for label in labels:
        width = 40 + 7 * text_width(label)
        if used and used + width > min_width:
            rows, used = rows + 1, 0
        used += width
    fig.update_layout(
        legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0),
        margin=dict(b=AXIS_TITLE_SPACE + 22 * rows + 8),
    )


def loss_figure(runs: Sequence[RunSeries], title: str = N_("Training loss")) -> go.Figure:
    """Training loss per iteration (running mean over a window that grows with the run)."""
    fig = go.Figure()
    for run in runs:
        window = smoothing_window(len(run.loss))
        x, y = downsample(run.steps, running_mean(run.loss, window))
        fig.add_trace(
            go.Scatter(x=x, y=y, mode="lines", name=plot_text(run.label), line=dict(color=run.color, width=2))
        )
    style_axes(fig, title=plot_text(_(title)), height=380)  # a default title is marked N_: said here
    fig.update_xaxes(title=_("iterations (batches)"))
    fig.update_yaxes(title=_("cross-entropy loss"), type="log")
    return fig


def error_figure(runs: Sequence[RunSeries], title: str = N_("Error")) -> go.Figure:
    """Training error (thin dashed: running mean of batch errors) and test error (bold, per epoch) in %."""
    fig = go.Figure()
    for run in runs:
        _add_error_traces(fig, run)
    style_axes(fig, title=plot_text(_(title)), height=380)  # a default title is marked N_: said here
    fig.update_xaxes(title=_("iterations (batches)"))
    fig.update_yaxes(title=_("error (%)"), rangemode="tozero")
    return fig


def _add_error_traces(
    fig: go.Figure, run: RunSeries, row: int | None = None, col: int | None = None, legend: bool = True
) -> None:
    where = {} if row is None else {"row": row, "col": col}
    if len(run.batch_error):
        window = smoothing_window(len(run.batch_error))
        x, y = downsample(run.steps, running_mean(run.batch_error, window, batches_per_row(run.steps)))
        fig.add_trace(
            go.Scatter(
                x=x,
                y=100 * y,
                mode="lines",
                name=plot_text(_("{label} train").format(label=run.label)),
                legendgroup=run.label,
                showlegend=legend,
                line=dict(color=run.color, width=1, dash="dash"),
            ),
            **where,
        )
    if len(run.test_error):
        fig.add_trace(
            go.Scatter(
                x=run.epoch_steps,
                y=100 * run.test_error,
                mode="lines+markers",
                name=plot_text(_("{label} test").format(label=run.label)),
                legendgroup=run.label,
                showlegend=legend,
                line=dict(color=run.color, width=3),
                marker=dict(size=5),
            ),
            **where,
        )


def degradation_figure(plain: Sequence[RunSeries], residual: Sequence[RunSeries]) -> go.Figure:
    """The paper's Fig. 6: plain nets on the left, ResNets on the right, the same error axis."""
    fig = make_subplots(
        rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.05, subplot_titles=(_("plain nets"), "ResNets")
    )
    for run in plain:
        _add_error_traces(fig, run, 1, 1)
    for run in residual:
        _add_error_traces(fig, run, 1, 2)
    style_axes(fig, height=430)
    # One x range for both panels (the runs of a kind may be further along than the other kind's), and
    # axes drawn before there is data, with a word where a panel is empty.
    fig.update_xaxes(
        title=_("iterations (batches)"), matches="x", rangemode="tozero", showline=True, linecolor=NEUTRAL_COLOR
    )
    fig.update_yaxes(title=_("error (%)"), rangemode="tozero", row=1, col=1)
    fig.update_yaxes(showline=True, linecolor=NEUTRAL_COLOR)
    empty = [
        col for col, runs in ((1, plain), (2, residual)) if not any(len(r.steps) or len(r.test_error) for r in runs)
    ]
    for col in empty:
        fig.add_annotation(
            text=_("no steps yet"),
            showarrow=False,
            x=0.5,
            y=0.5,
            xref=f"x{'' if col == 1 else col} domain",
            yref=f"y{'' if col == 1 else col} domain",
            font=dict(FONT, color=NEUTRAL_COLOR),
        )
    if len(empty) == 2:
        fig.update_xaxes(range=[0, 100])
        fig.update_yaxes(range=[0, 100])
    for annotation in fig.layout.annotations:
        annotation.font = dict(FONT, color=NEUTRAL_COLOR)
    return fig


# ------------------------------------------------------------------------------------ inside the net


@dataclass
class LayerSeries:
    """One net's value per layer, e.g. gradient norms or response stds."""

    label: str  # plain text (a run's name may be in it)
    color: str
    names: Sequence[str]  # module names, input to output
    values: np.ndarray
    indices: Sequence[int]  # each one's index in `net.layout.layers` (1 … depth): the x axis
    dash: str = "solid"


def layer_profile_figure(
    series: Sequence[LayerSeries], title: str, y_title: str, log_y: bool = True, height: int = 400
) -> go.Figure:
    """A value per layer against the layer's index (1 = input side), one line per net."""
    fig = go.Figure()
    for s in series:
        x = np.asarray(s.indices)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=s.values,
                mode="lines+markers" if len(x) <= 60 else "lines",
                name=plot_text(s.label),
                line=dict(color=s.color, width=2, dash=s.dash),
                marker=dict(size=4),
                customdata=np.asarray(s.names, dtype=object),
                hovertemplate=_("layer %{x}: %{customdata}<br>%{y:.3g}<extra>%{fullData.name}</extra>"),
            )
        )
    style_axes(fig, title=plot_text(title), height=height, hovermode="closest")
    legend_at_bottom(fig, [s.label for s in series])
    fig.update_xaxes(title=_("layer (1 = first conv, input side; the diagram's numbers)"))
    fig.update_yaxes(title=y_title, type="log" if log_y else "linear", exponentformat="power")
    return fig


def gradient_heatmap_figure(
    grid: np.ndarray,
    steps: np.ndarray,
    layer_starts: np.ndarray,
    names: Sequence[str],
    zrange: tuple[float, float],
    title: str,
) -> go.Figure:
    """Layers (rows, input at the bottom) × training steps (columns), colour = log10 of the gradient norm;
    `layer_starts`: each row's first layer (0-based; rows may average several layers), increasing.

    Each row is a category named by its layer ("layer 12: stage2.block1.conv1"), which the hover shows: a name
    per *cell* (customdata) made a reference run's figure 200 kB, most of a Gradients page's first open."""
    rows = [_("layer {index}: {name}").format(index=i + 1, name=names[i]) for i in layer_starts]
    # Ticks at round layer indices (1, 10, 20, …: at most about eight), each on the row nearest to it.
    indices = np.asarray(layer_starts) + 1
    every = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10**9) if indices[-1] / s <= 8)
    targets = [1, *range(every, int(indices[-1]) + 1, every)]
    ticks = sorted({int(np.argmin(np.abs(indices - t))) for t in targets})
    fig = go.Figure(
        go.Heatmap(
            z=np.asarray(grid, dtype=np.float32),  # colours and a 2-decimal hover: float32 is plenty, half the bytes
            x=steps,
            y=rows,
            zmin=zrange[0],
            zmax=zrange[1],
            colorscale="Viridis",
            colorbar=dict(title=dict(text="log₁₀ ‖∇W‖", side="right")),
            hovertemplate=_("step %{x}<br>%{y}<br>log₁₀ ‖∇W‖ = %{z:.2f}<extra></extra>"),
        )
    )
    fig.update_yaxes(
        type="category",  # in the rows' order (plotly's default: as the trace lists them), input at the bottom
        tickmode="array",
        tickvals=[rows[i] for i in ticks],
        ticktext=[str(indices[i]) for i in ticks],
    )
    style_axes(fig, title=plot_text(title), height=420, hovermode="closest")  # e.g. a run's label
    fig.update_xaxes(title=_("training step"))
    fig.update_yaxes(title=_("layer index"))
    return fig


def responses_figure(series: Sequence[LayerSeries]) -> go.Figure:
    """The paper's Fig. 7: response std of each 3×3 layer by its layer index (top; for bottleneck nets the
    1×1 layers between are skipped) and sorted by magnitude (bottom)."""
    fig = make_subplots(
        rows=2,
        cols=1,
        vertical_spacing=0.2,
        subplot_titles=(_("by layer index (input → output)"), _("sorted by magnitude")),
    )
    for s in series:
        x = np.asarray(s.indices)
        common = dict(
            mode="lines", name=plot_text(s.label), legendgroup=s.label, line=dict(color=s.color, width=2, dash=s.dash)
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=s.values,
                customdata=np.asarray(s.names, dtype=object),
                hovertemplate=_("layer %{x}: %{customdata}<br>std %{y:.3f}<extra>%{fullData.name}</extra>"),
                **common,
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, len(x) + 1),
                y=np.sort(s.values)[::-1],
                showlegend=False,
                hovertemplate=_("rank %{x}: std %{y:.3f}<extra>%{fullData.name}</extra>"),
                **common,
            ),
            row=2,
            col=1,
        )
    style_axes(fig, height=620, hovermode="closest")
    fig.update_xaxes(title=_("layer (the diagram's numbers; only the 3×3 convs have a response)"), row=1, col=1)
    fig.update_xaxes(title=_("layer rank (largest response first)"), row=2, col=1)
    fig.update_yaxes(title=_("std of response"), rangemode="tozero")
    for annotation in fig.layout.annotations:
        annotation.font = dict(FONT, color=NEUTRAL_COLOR)
    return fig
