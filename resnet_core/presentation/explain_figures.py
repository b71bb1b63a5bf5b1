"""Figures for the Explain page as pure functions (data in, `go.Figure` or PNG bytes out).

Attribution maps are blended onto the image here, in numpy, with one colour scale used both on screen
and in the downloadable PNG, so the two always agree. The scales fade to transparent at zero, so the
image shows through wherever the net does not look; they avoid the blue/orange that mean "residual" and
"plain" on every other chart.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw, ImageFont
from plotly.subplots import make_subplots

from ..data.images import encode_png
from .describe import percent
from .i18n import N_, Messages, _
from .palette import FONT, NEUTRAL_COLOR
from .text import plot_text

# (position on [0, 1], (r, g, b), alpha). Magnitude: transparent -> purple -> pink -> yellow (plasma-like);
# signed: magenta (lowers the score) <- transparent -> green (raises it), as PiYG.
MAGNITUDE_SCALE = (
    (0.0, (13, 8, 135), 0.0),
    (0.2, (84, 2, 163), 0.45),
    (0.45, (156, 23, 158), 0.75),
    (0.7, (237, 121, 83), 0.9),
    (1.0, (240, 249, 33), 1.0),
)
SIGNED_SCALE = (
    (0.0, (142, 1, 82), 1.0),
    (0.25, (222, 119, 174), 0.75),
    (0.5, (247, 247, 247), 0.0),
    (0.75, (127, 188, 65), 0.75),
    (1.0, (39, 100, 25), 1.0),
)
TILE = 224  # display side of each image tile, in screen pixels
SIGN_LABELS = Messages(
    {
        "positive": N_("positive (raises the score)"),
        "absolute": N_("absolute (either way)"),
        "all": N_("all (green raises, magenta lowers)"),
    }
)


@dataclass
class MapRow:
    """One net's row of the grid: its name, colour and one heat map (H, W) per method title."""

    label: str  # the net's name; a second line (after "\n") may name the class explained; plain text
    color: str
    maps: dict[str, np.ndarray] = field(default_factory=dict)


def colorize(heat: np.ndarray, signed: bool) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) float RGB on [0, 255] and (H, W) alpha on [0, 1] for a heat map on [0, 1] or [-1, 1]."""
    scale = SIGNED_SCALE if signed else MAGNITUDE_SCALE
    t = (np.clip(heat, -1, 1) + 1) / 2 if signed else np.clip(heat, 0, 1)
    stops = np.array([s[0] for s in scale])
    rgb = np.stack([np.interp(t, stops, [s[1][c] for s in scale]) for c in range(3)], axis=-1)
    alpha = np.interp(t, stops, [s[2] for s in scale])
    return rgb, alpha


def overlay(image: np.ndarray, heat: np.ndarray, signed: bool, opacity: float) -> np.ndarray:
    """The heat map blended onto the image (H, W, 3) uint8; `opacity` scales the map's own alpha."""
    rgb, alpha = colorize(heat, signed)
    a = (np.clip(opacity, 0, 1) * alpha)[..., None]
    return np.round(image.astype(np.float64) * (1 - a) + rgb * a).clip(0, 255).astype(np.uint8)


def upscale(image: np.ndarray, side: int = TILE) -> np.ndarray:
    """Enlarge a small image by whole pixels (nearest): a 32×32 net input keeps its visible pixel grid."""
    h, w = image.shape[:2]
    factor = max(1, side // max(h, w))
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1) if factor > 1 else image


def plotly_colorscale(signed: bool) -> list[list]:
    scale = SIGNED_SCALE if signed else MAGNITUDE_SCALE
    return [[p, f"rgba({r},{g},{b},{max(a, 0.08):.2f})"] for p, (r, g, b), a in scale]


def _data_uri(image: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(encode_png(image)).decode()


def _image_trace(image: np.ndarray, size: int, hover: str) -> go.Image:
    """An image tile whose axes count the net's input pixels (0..size), whatever its screen size."""
    big = upscale(image)
    return go.Image(
        source=_data_uri(big),
        x0=0,
        y0=0,
        dx=size / big.shape[1],
        dy=size / big.shape[0],
        hovertemplate=_("{hover}<br>x %{{x:.0f}} px, y %{{y:.0f}} px<extra></extra>").format(hover=hover),
    )


def _style(fig: go.Figure, title: str, height: int) -> None:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left"),
        font=FONT,
        height=height,
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=10, r=10, t=70, b=10),
    )


def fit_title(title: str, limit: int = 24) -> str:
    """A small chart's title with a long first line broken at its first " · " or ": ", the rest in small
    type: plotly does not wrap titles but cuts them at the chart's edge, and beside two other charts at
    1024 px a column is about 200 px wide ("Top-5 predictions · plain-8 · sha")."""
    first, *rest = title.split("<br>", 1)
    if len(first) > limit:
        for sep in (" · ", ": "):
            if sep in first:
                head, tail = first.split(sep, 1)
                first = f"{head}{sep.rstrip(' ·')}<br><sup>{tail}</sup>"
                break
    return "<br>".join([first, *rest])


def image_figure(image: np.ndarray, title: str) -> go.Figure:
    """The image as the net sees it (its input size), enlarged by whole pixels."""
    size = image.shape[0]
    fig = go.Figure(_image_trace(image, size, _("input")))
    _style(fig, fit_title(title), 340)
    fig.update_xaxes(title=_("x (pixels of {size})").format(size=size), showgrid=False, zeroline=False)
    fig.update_yaxes(title=_("y (pixels)"), showgrid=False, zeroline=False, scaleanchor="x")
    return fig


def top_k_figure(predictions: Sequence[tuple[str, float]], color: str, title: str) -> go.Figure:
    """Horizontal bars of the k most probable classes, the most probable on top, in percent."""
    names = [name for name, _ in predictions][::-1]
    fractions = [p for _, p in predictions][::-1]
    fig = go.Figure(
        go.Bar(
            x=[100 * p for p in fractions],
            y=names,
            orientation="h",
            marker_color=color,
            text=[percent(p) for p in fractions],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:.2f}%<extra></extra>",
        )
    )
    _style(fig, fit_title(title), 300)
    fig.update_xaxes(
        title=_("probability (%)"), range=[0, 112], showgrid=True, gridcolor="#e2e8f0", tickvals=[0, 25, 50, 75, 100]
    )
    fig.update_yaxes(title=None, automargin=True)
    return fig


def attribution_figure(image: np.ndarray, rows: Sequence[MapRow], sign: str, opacity: float, title: str) -> go.Figure:
    """A grid: one row per net, the image in the first column, one overlay per method after it.

    `image` is the net's input (H, W, 3) uint8; each map is (H, W), as `Attribution.heatmaps` gives.
    """
    methods = list(rows[0].maps) if rows else []
    cols = 1 + len(methods)
    signed = sign == "all"
    titles = [_("input")] + methods + [""] * (cols * (len(rows) - 1))  # column heads on the first row only
    fig = make_subplots(
        rows=len(rows), cols=cols, subplot_titles=titles, horizontal_spacing=0.015, vertical_spacing=0.06
    )
    size = image.shape[0]
    for r, row in enumerate(rows, start=1):
        fig.add_trace(_image_trace(image, size, _("input")), row=r, col=1)
        for c, method in enumerate(methods, start=2):
            fig.add_trace(_image_trace(overlay(image, row.maps[method], signed, opacity), size, method), row=r, col=c)
        lines = [plot_text(line) for line in row.label.split("\n")]
        label = "<br>".join(f"<b>{line}</b>" if i == 0 else line for i, line in enumerate(lines))
        fig.update_yaxes(title=dict(text=label, font=dict(color=row.color, size=13)), row=r, col=1)
    fig.update_xaxes(showgrid=False, zeroline=False, showticklabels=False)
    fig.update_yaxes(showgrid=False, zeroline=False, showticklabels=False)
    for r in range(1, len(rows) + 1):
        for c in range(1, cols + 1):
            fig.update_yaxes(scaleanchor=f"x{'' if (r - 1) * cols + c == 1 else (r - 1) * cols + c}", row=r, col=c)
    fig.update_xaxes(title=_("{size}×{size} pixels").format(size=size), row=len(rows), col=1)
    # The colour bar: an invisible marker trace whose only job is to draw the scale.
    fig.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            showlegend=False,
            hoverinfo="skip",
            marker=dict(
                colorscale=plotly_colorscale(signed),
                cmin=-1 if signed else 0,
                cmax=1,
                color=[0],
                showscale=True,
                colorbar=dict(
                    title=dict(text=_("attribution<br>(1 = 98th<br>percentile)"), side="top"),
                    thickness=14,
                    len=0.9,
                    tickvals=[-1, 0, 1] if signed else [0, 0.5, 1],
                ),
            ),
        )
    )
    tile = 210 if len(rows) > 1 else 240
    _style(fig, title, 110 + tile * len(rows))
    fig.update_layout(margin=dict(l=40 if len(rows) == 1 else 60, r=10, t=80, b=30))
    for annotation in fig.layout.annotations:
        annotation.font = dict(FONT, color=NEUTRAL_COLOR)
    return fig


# --------------------------------------------------------------------------------------------- PNG


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size
        return ImageFont.load_default()


def _hex(color: str) -> tuple[int, int, int]:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return r, g, b


def attribution_png(image: np.ndarray, rows: Sequence[MapRow], sign: str, opacity: float, title: str) -> bytes:
    """The same grid as `attribution_figure`, as PNG bytes (no plotly export engine needed): titles,
    row labels in the nets' colours, tiles enlarged by whole pixels, and a colour bar."""
    methods = list(rows[0].maps) if rows else []
    signed = sign == "all"
    tiles = [
        [upscale(image, 192)] + [upscale(overlay(image, row.maps[m], signed, opacity), 192) for m in methods]
        for row in rows
    ]
    side = tiles[0][0].shape[0]
    gap, left, top, header, bar = 12, 150, 44, 26, 56
    width = left + len(tiles[0]) * (side + gap) + gap
    height = top + header + len(rows) * (side + gap) + bar
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    big, small = _font(18), _font(14)
    draw.text((gap, 12), title, fill=(15, 23, 42), font=big)
    for c, name in enumerate([_("input")] + methods):
        draw.text((left + c * (side + gap), top), name, fill=_hex(NEUTRAL_COLOR), font=small)
    for r, (row, row_tiles) in enumerate(zip(rows, tiles)):
        y = top + header + r * (side + gap)
        draw.multiline_text((gap, y + side // 2 - 16), row.label, fill=_hex(row.color), font=small, spacing=6)
        for c, tile in enumerate(row_tiles):
            canvas.paste(Image.fromarray(tile), (left + c * (side + gap), y))
    # Colour bar: the scale over a mid-grey, as an overlay would show it.
    y = height - bar + 14
    ramp = np.linspace(-1 if signed else 0, 1, 256)[None, :].repeat(14, axis=0)
    strip = overlay(np.full((14, 256, 3), 128, np.uint8), ramp, signed, 1.0)
    canvas.paste(Image.fromarray(strip), (left, y))
    ends = (_("-1 lowers"), _("+1 raises")) if signed else ("0", _("1 = 98th percentile"))
    draw.text((left - 8 - draw.textlength(ends[0], font=small), y - 1), ends[0], fill=(15, 23, 42), font=small)
    draw.text((left + 264, y - 1), f"{ends[1]} · {SIGN_LABELS[sign]}", fill=(15, 23, 42), font=small)
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()
