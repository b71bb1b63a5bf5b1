"""The net drawn as a diagram: a pure function, layout in, `go.Figure` out (testable without Streamlit)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

import plotly.graph_objects as go

from ..model.net import BlockInfo, NetLayout
from .i18n import _, ngettext
from .palette import FONT, NEUTRAL_COLOR, net_color, tint
from .spec_words import spec_words

LABEL_SIZE, NUMBER_SIZE = 12, 10  # px: a box's text and its layer numbers
BOX_HALF_WIDTH = 1.25  # data units; the x axis spans X_RANGE
X_RANGE = (-3.3, 3.1)


@dataclass
class _Node:
    label: str  # text in the box (<br> for lines)
    hover: str
    y: float  # centre
    height: float
    kind: str  # "io", "layer", "block", "fold"
    block: BlockInfo | None = None
    folded: int = 0  # blocks hidden in a fold node
    layers: tuple[int, ...] = ()  # the paper's layer indices (net.layout.layers) drawn in this box


def layer_words(info) -> str:
    """A layer's `label` ("layer 17 · stage2.block4.conv1 (3×3)", model/net.py) in the run's language: the
    diagram's hover names every layer so."""
    kernel = f" ({info.kernel}×{info.kernel})" if info.kernel else ""
    if info.index is None:
        return _("projection · {name}{kernel}").format(name=info.name, kernel=kernel)
    return _("layer {index} · {name}{kernel}").format(index=info.index, name=info.name, kernel=kernel)


def _block_label(block: BlockInfo, spec_block: str, width: int) -> str:
    stride = " /2" if block.stride == 2 else ""
    if spec_block == "basic":
        return _("3×3 conv, {width}{stride}<br>3×3 conv, {width}").format(width=width, stride=stride)
    return _("1×1 conv, {width}{stride}<br>3×3 conv, {width}<br>1×1 conv, {out_channels}").format(
        width=width, stride=stride, out_channels=block.out_channels
    )


def _span(indices: tuple[int, ...]) -> str:
    """ "3–4", or "17" for one layer."""
    return f"{indices[0]}–{indices[-1]}" if len(indices) > 1 else str(indices[0])


def _label(x: float, y: float, text: str, size: float, color: str | None = None, **place) -> dict:
    """A text annotation at (x, y) in data units, no arrow; `place` adds e.g. xanchor."""
    font = dict(FONT, size=size) if color is None else dict(FONT, size=size, color=color)
    return dict(x=x, y=y, text=text, showarrow=False, **place, font=font)


def _arrow(y_from: float, y_to: float) -> dict:
    """A downward arrow on the diagram's centre line, from one box's edge to the next's."""
    return dict(
        x=0,
        y=y_to,
        ax=0,
        ay=y_from,
        xref="x",
        yref="y",
        axref="x",
        ayref="y",
        showarrow=True,
        arrowhead=2,
        arrowwidth=1.2,
        arrowcolor=NEUTRAL_COLOR,
        text="",
    )


def _drawing(
    fig: go.Figure,
    shapes: list,
    annotations: list,
    height: float,
    top: int,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    **layout,
) -> go.Figure:
    """A drawing rather than a chart: white, no axes, legend or dragging, its shapes and annotations set at once."""
    fig.update_layout(
        shapes=shapes,
        annotations=annotations,
        height=int(height),
        margin=dict(l=10, r=10, t=top, b=10),
        plot_bgcolor="white",
        paper_bgcolor="white",
        font=FONT,
        showlegend=False,
        dragmode=False,
        xaxis=dict(visible=False, range=list(x_range), fixedrange=True),
        yaxis=dict(visible=False, range=list(y_range), fixedrange=True),
        **layout,
    )
    return fig


def architecture_figure(
    layout: NetLayout, image_size: int | None = None, max_blocks_shown: int = 4, title: str | None = None
) -> go.Figure:
    """The net drawn top to bottom like the paper's Fig. 3: stem, stages of blocks with their shortcut
    arcs (solid: identity; dotted: zero-padded identity, option A; thick: 1×1 projection), pool and fc.
    Each box carries the numbers of its layers in `layout.layers` (the index every chart's x axis shows),
    and its hover text names them.

    Stages with more than `max_blocks_shown` blocks are folded ("⋮ 196 more blocks"), so a 1202-layer
    net stays readable and draws as fast as a 20-layer one.
    """
    spec = layout.spec
    color = net_color(spec.skip)
    size = image_size or spec.input_size
    sizes = layout.feature_sizes(size)
    block_layers: dict[str | None, list] = {}
    for info in layout.layers:
        block_layers.setdefault(info.block, []).append(info)
    stem_layers = tuple(i for i in block_layers[None] if i.kind == "conv")
    projection = {info.block: info for info in layout.projections}
    fc_layer = layout.layers[-1]
    gap, line_h = 0.35, 0.42
    nodes: list[_Node] = []
    stage_spans: list[tuple[str, float, float]] = []
    y = 0.0

    def add(label: str, hover: str, kind: str, lines: int = 1, **extra) -> None:
        nonlocal y
        lines += 1 if extra.get("layers") else 0  # the layer numbers get a line of their own, above the text
        height = 0.3 + line_h * lines
        nodes.append(_Node(label, hover, y - height / 2, height, kind, **extra))
        y -= height + gap

    add(_("image {in_channels}×{size}×{size}").format(in_channels=spec.in_channels, size=size), "input", "io")
    stem_text = _("{value} conv, {stage_widths}").format(
        value="7×7" if spec.stem == "imagenet" else "3×3", stage_widths=spec.stage_widths[0]
    )
    stem_text += _(" /2<br>3×3 max-pool /2") if spec.stem == "imagenet" else ""
    add(
        stem_text,
        "<br>".join(layer_words(i) for i in stem_layers) + f" → {sizes['stem']}×{sizes['stem']}",
        "layer",
        lines=2 if spec.stem == "imagenet" else 1,
        layers=tuple(i.index for i in stem_layers),
    )
    lines_per_block = 2 if spec.block_kind == "basic" else 3
    for stage in layout.stages:
        top = y + gap / 2
        blocks = list(stage.blocks)
        shown: list[BlockInfo | None]  # None: the fold of the middle blocks
        if len(blocks) > max_blocks_shown:
            hidden = len(blocks) - (max_blocks_shown - 1)
            shown = [*blocks[: max_blocks_shown - 2], None, blocks[-1]]
        else:
            hidden, shown = 0, [*blocks]
        for block in shown:
            if block is None:
                folded = blocks[max_blocks_shown - 2 : -1]
                indices = tuple(i.index for b in folded for i in block_layers[b.name])
                # Two short lines: one long line ran out of the box in a half-width column.
                add(
                    _("⋮ {hidden} more blocks<br>like these").format(hidden=hidden),
                    _("{hidden} identical blocks folded: layers {span}").format(hidden=hidden, span=_span(indices)),
                    "fold",
                    lines=2,
                    folded=hidden,
                    layers=indices,
                )
                continue
            infos = block_layers[block.name]
            shortcut = (
                layer_words(projection[block.name])
                if block.name in projection
                else spec_words("shortcut", block.shortcut)
                if block.shortcut
                else _("none (plain)")
            )
            add(
                _block_label(block, spec.block_kind, stage.width),
                _("{name}<br>{in_channels}→{out_channels} channels, stride {stride}<br>").format(
                    name=block.name, in_channels=block.in_channels, out_channels=block.out_channels, stride=block.stride
                )
                + "<br>".join(layer_words(i) for i in infos)
                + _("<br>shortcut: {shortcut}").format(shortcut=shortcut),
                "block",
                lines=lines_per_block,
                block=block,
                layers=tuple(i.index for i in infos),
            )
        stage_spans.append((stage.name, top, y + gap / 2))
    add(
        _("global avg pool<br>fc, {num_classes}").format(num_classes=spec.num_classes),
        _("pool → {label}").format(label=layer_words(fc_layer)),
        "layer",
        lines=2,
        layers=(fc_layer.index,),
    )

    # Collected and set at once: fig.add_shape / add_annotation re-validate the whole list at each call, which
    # made drawing a net's diagram quadratic in its boxes.
    fig, shapes, annotations = go.Figure(), [], []
    box_w, arc_x = BOX_HALF_WIDTH, BOX_HALF_WIDTH
    for i, node in enumerate(nodes):
        y0, y1 = node.y - node.height / 2, node.y + node.height / 2
        fill = {"io": "#f1f5f9", "layer": tint(color, 0.10), "block": tint(color, 0.16), "fold": "#ffffff"}[node.kind]
        shapes.append(
            dict(
                type="rect",
                x0=-box_w,
                x1=box_w,
                y0=y0,
                y1=y1,
                fillcolor=fill,
                line=dict(
                    color=color if node.kind != "io" else NEUTRAL_COLOR,
                    width=1.2,
                    dash="dot" if node.kind == "fold" else "solid",
                ),
                layer="above",
            )
        )
        # The layer numbers every chart uses, on the box's first line, centred above its text: at the box's
        # left edge they ran into the text of a narrow diagram ("402–4033×3 conv").
        text_y = node.y - (line_h / 2 if node.layers else 0)
        annotations.append(_label(0, text_y, node.label, LABEL_SIZE))
        if node.layers:
            annotations.append(_label(0, y1 - 0.15 - line_h / 2, _span(node.layers), NUMBER_SIZE, NEUTRAL_COLOR))
        if i + 1 < len(nodes):  # arrow to the next node
            nxt = nodes[i + 1]
            annotations.append(_arrow(y0, nxt.y + nxt.height / 2))
        if spec.skip and node.kind in ("block", "fold"):
            kind = (node.block.shortcut if node.block else None) or "identity"  # a residual block has one
            dash = {"identity": "solid", "zero-pad": "dot", "projection": "solid"}[kind]
            width = 3.5 if kind == "projection" else 1.6
            bulge = arc_x + 0.9
            shapes.append(
                dict(
                    type="path",
                    path=f"M {arc_x},{y1 - 0.08} C {bulge},{y1 + 0.1} {bulge},{y0 - 0.1} {arc_x},{y0 + 0.08}",
                    line=dict(color=color, width=width, dash=dash),
                )
            )
            note = {"projection": _("1×1 proj"), "zero-pad": _("pad"), "identity": "x"}[kind]
            if node.folded:
                note = f"×{node.folded}"
            annotations.append(_label(bulge + 0.05, node.y, note, 11, color, xanchor="left"))
    for name, top, bottom in stage_spans:
        shapes.append(
            dict(
                type="rect",
                x0=-box_w - 0.25,
                x1=box_w + 1.75,
                y0=bottom,
                y1=top,
                layer="below",
                fillcolor="rgba(148,163,184,0.08)",
                line=dict(color="rgba(148,163,184,0.5)", width=1),
            )
        )
        stage = next(s for s in layout.stages if s.name == name)
        side = sizes[name]
        text = _("<b>{replace}</b><br>{side}×{side}<br>{out_channels} ch<br>{count}").format(
            replace=_("stage {n}").format(n=name.removeprefix("stage")),
            side=side,
            out_channels=stage.out_channels,
            count=ngettext("{n} block", "{n} blocks", len(stage.blocks)).format(n=f"{len(stage.blocks):,}"),
        )
        annotations.append(_label(-box_w - 0.35, (top + bottom) / 2, text, 11, NEUTRAL_COLOR, xanchor="right"))
    fig.add_trace(
        go.Scatter(
            x=[0] * len(nodes),
            y=[n.y for n in nodes],
            mode="markers",
            marker=dict(size=28, opacity=0),
            hovertext=[n.hover for n in nodes],
            hoverinfo="text",
            showlegend=False,
        )
    )
    total = -y
    return _drawing(
        fig,
        shapes,
        annotations,
        height=90 + 52 * total,
        top=50,
        x_range=X_RANGE,
        y_range=(y, 0.3),
        title=dict(text=title or spec.name, font=dict(FONT, size=16, color=color), x=0.5, xanchor="center"),
    )


def diagram_svg(fig: go.Figure, width: int = 640) -> str:
    """`architecture_figure`'s drawing as a standalone SVG file, from the figure's own shapes and texts (no
    plotly export engine such as kaleido needed): boxes, shortcut arcs, arrows, labels and the title, at
    `width` pixels and the figure's height. Each box carries its hover text as a `<title>`: a browser shows it
    as the box's tooltip where the SVG is drawn inline (the Architecture page, ui/views/render.show_drawing)."""
    layout = fig.layout
    height = layout.height or 600
    margin = layout.margin
    (x0, x1), (y0, y1) = layout.xaxis.range, layout.yaxis.range
    left, top = margin.l or 0, margin.t or 0
    plot_w, plot_h = width - left - (margin.r or 0), height - top - (margin.b or 0)

    def px(x: float) -> float:
        return round(left + (x - x0) / (x1 - x0) * plot_w, 2)

    def py(y: float) -> float:
        return round(top + (y1 - y) / (y1 - y0) * plot_h, 2)

    def paint(color: str | None, attribute: str) -> str:
        """An SVG fill/stroke for a plotly colour, rgba() split into colour and opacity (SVG 1.1)."""
        if not color:
            return f'{attribute}="none"'
        match = re.fullmatch(r"rgba\((\d+),\s*(\d+),\s*(\d+),\s*([\d.]+)\)", color.replace(" ", ""))
        if match:
            r, g, b, a = match.groups()
            return f'{attribute}="rgb({r},{g},{b})" {attribute}-opacity="{a}"'
        return f'{attribute}="{escape(color)}"'

    def stroke(line) -> str:
        dash = {"dot": ' stroke-dasharray="2,3"', "dash": ' stroke-dasharray="6,4"'}.get(line.dash or "", "")
        return f'{paint(line.color, "stroke")} stroke-width="{line.width or 1}"{dash}'

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{escape(FONT["family"])}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{NEUTRAL_COLOR}"/></marker></defs>',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    # The boxes are the figure's rects above the panels, in the order of its hover markers (architecture_figure).
    hovers = iter(fig.data[0].hovertext if fig.data and fig.data[0].hovertext is not None else ())
    shapes = sorted(fig.layout.shapes, key=lambda s: s.layer != "below")  # stage panels under the boxes
    for shape in shapes:
        if shape.type == "rect":
            xa, xb, ya, yb = px(shape.x0), px(shape.x1), py(shape.y1), py(shape.y0)
            hover = next(hovers, None) if shape.layer != "below" else None
            title = f"<title>{escape(_plain(hover))}</title>" if hover else ""
            out.append(
                f'<rect x="{xa}" y="{ya}" width="{round(xb - xa, 2)}" height="{round(yb - ya, 2)}" '
                f"{paint(shape.fillcolor, 'fill')} {stroke(shape.line)}>{title}</rect>"
            )
        elif shape.type == "path":  # "M x,y C x,y x,y x,y": every x,y pair to pixels
            path = re.sub(
                r"(-?[\d.]+(?:e-?\d+)?),(-?[\d.]+(?:e-?\d+)?)",
                lambda m: f"{px(float(m[1]))},{py(float(m[2]))}",
                shape.path,
            )
            out.append(f'<path d="{escape(path)}" fill="none" {stroke(shape.line)}/>')
    for note in fig.layout.annotations:
        if note.showarrow:
            out.append(
                f'<line x1="{px(note.ax)}" y1="{py(note.ay)}" x2="{px(note.x)}" y2="{py(note.y)}" '
                f'stroke="{escape(note.arrowcolor or NEUTRAL_COLOR)}" stroke-width="{note.arrowwidth or 1}" '
                'marker-end="url(#arrow)"/>'
            )
        if note.text:
            out.append(
                _svg_text(
                    note.text,
                    px(note.x),
                    py(note.y),
                    note.xanchor or "center",
                    note.font.size or FONT["size"],
                    note.font.color or FONT["color"],
                )
            )
    if layout.title.text:
        out.append(
            _svg_text(
                layout.title.text,
                width / 2,
                28,
                "center",
                layout.title.font.size or 16,
                layout.title.font.color or FONT["color"],
            )
        )
    out.append("</svg>")
    return "\n".join(out)


def _plain(text: str) -> str:
    """Plotly's markup as plain text: lines at <br>, tags such as <b> dropped, entities such as &lt; read."""
    return html.unescape(re.sub(r"</?(?:b|i|em|sup|sub|span)\b[^>]*>", "", text.replace("<br>", "\n")))


def _svg_text(text: str, x: float, y: float, anchor: str, size: float, color: str) -> str:
    """Plotly's annotation text (lines split at <br>, <b> bold, entities such as &lt; read) as SVG text centred
    on y, as plotly does."""
    lines = text.split("<br>")
    step = size * 1.3
    first = y - step * (len(lines) - 1) / 2 + size * 0.35
    spans = []
    for i, line in enumerate(lines):
        weight = ' font-weight="bold"' if "<b>" in line else ""
        plain = _plain(line)
        spans.append(f'<tspan x="{x}" y="{round(first + i * step, 2)}"{weight}>{escape(plain)}</tspan>')
    align = {"left": "start", "right": "end"}.get(anchor, "middle")
    return f'<text text-anchor="{align}" font-size="{size}" fill="{escape(color)}">{"".join(spans)}</text>'


def block_figure(spec) -> go.Figure:
    """One block of `spec`'s net, as the paper's Fig. 2 draws it: the weight layers that compute F(x), the
    shortcut that carries x around them, and their sum H(x) = F(x) + x (then the activation, unless the
    block is pre-activation: He et al. 2016 leave nothing after the addition)."""
    color = net_color(True)
    norm = "BN, " if spec.norm == "batch" else ""
    act = spec.activation if spec.activation != "relu" else "ReLU"
    kernels = ["3×3", "3×3"] if spec.block == "basic" else ["1×1", "3×3", "1×1"]
    if spec.preact:
        layers = [_("{norm}{act}, {k} conv").format(norm=norm, act=act, k=k) for k in kernels]
    else:
        layers = [_("{k} conv, {norm}{act}").format(k=k, norm=norm, act=act) for k in kernels[:-1]] + [
            _("{kernels} conv").format(kernels=kernels[-1]) + (", BN" if norm else "")
        ]
    steps = [("x", "io")] + [(text, "layer") for text in layers] + [("+", "sum")]
    steps += [] if spec.preact else [(act, "act")]
    steps += [("H(x) = F(x) + x", "io")]
    fig, shapes, annotations = go.Figure(), [], []  # set at once, as in architecture_figure
    box_w, height, gap = 1.3, 0.6, 0.4
    centres = [-(height + gap) * i for i in range(len(steps))]
    for (text, kind), y in zip(steps, centres):
        if kind == "sum":
            shapes.append(
                dict(type="circle", x0=-0.3, x1=0.3, y0=y - 0.3, y1=y + 0.3, line=dict(color=color, width=1.5))
            )
        else:
            fill = {"io": "#f1f5f9", "layer": tint(color, 0.16), "act": tint(color, 0.08)}[kind]
            shapes.append(
                dict(
                    type="rect",
                    x0=-box_w,
                    x1=box_w,
                    y0=y - height / 2,
                    y1=y + height / 2,
                    fillcolor=fill,
                    line=dict(color=color if kind != "io" else NEUTRAL_COLOR, width=1.2),
                    layer="above",
                )
            )
        annotations.append(_label(0, y, text, LABEL_SIZE))
    for y_from, y_to, (_unused, kind_to) in zip(centres, centres[1:], steps[1:]):
        annotations.append(_arrow(y_from - height / 2, y_to + (0.3 if kind_to == "sum" else height / 2)))
    weights = [y for (_, kind), y in zip(steps, centres) if kind == "layer"]
    f_top, f_bottom = weights[0] + height / 2, weights[-1] - height / 2
    shapes.append(
        dict(type="line", x0=-box_w - 0.2, x1=-box_w - 0.2, y0=f_bottom, y1=f_top, line=dict(color=color, width=2))
    )
    annotations.append(_label(-box_w - 0.3, (f_top + f_bottom) / 2, "F(x)", 14, color, xanchor="right"))
    x_y, sum_y = centres[0], centres[len(layers) + 1]
    bulge = box_w + 1.0
    shapes.append(
        dict(
            type="path",
            path=f"M {box_w},{x_y} C {bulge},{x_y} {bulge},{sum_y} 0.3,{sum_y}",
            line=dict(color=color, width=2),
        )
    )
    annotations.append(_label(bulge - 0.2, (x_y + sum_y) / 2, _("x<br>identity"), 11, color, xanchor="left"))
    bottom = centres[-1] - height / 2 - 0.2
    return _drawing(
        fig, shapes, annotations, height=60 + 60 * (0.4 - bottom), top=20, x_range=(-3.0, 3.6), y_range=(bottom, 0.4)
    )
