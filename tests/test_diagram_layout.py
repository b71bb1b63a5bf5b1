"""The net diagram's texts fit their boxes and never run into each other, at the width of one of the
Architecture page's two columns (a half-width column of a 1,024–1,400 px window). Text extents are
estimated from the number of characters (0.6 × the font size per character, a little wider than the
average of the app's sans-serif font), so a label that overlaps by this estimate overlaps on screen."""

from __future__ import annotations

import re

import pytest

import resnet_core as rc
from resnet_core.presentation.diagram import architecture_figure, block_figure
from resnet_core.presentation.palette import FONT

PLOT_WIDTH = 380  # px: the plot area of a diagram in a half-width column


def _boxes(fig, plot_width: float = PLOT_WIDTH):
    """(text, (left, right, bottom, top) in px) for every annotation with text, and the rectangles drawn
    above the stage panels (the boxes) in px."""
    layout = fig.layout
    (x0, x1), (y0, y1) = layout.xaxis.range, layout.yaxis.range
    plot_h = layout.height - (layout.margin.t or 0) - (layout.margin.b or 0)

    def px(x):
        return (x - x0) / (x1 - x0) * plot_width

    def py(y):
        return (y - y0) / (y1 - y0) * plot_h

    texts = []
    for a in layout.annotations:
        if not a.text:
            continue
        lines = [re.sub(r"<[^>]+>", "", line) for line in a.text.split("<br>")]
        size = a.font.size or FONT["size"]
        width = max(len(line) for line in lines) * 0.6 * size
        height = len(lines) * 1.3 * size
        cx = px(a.x)
        left = {"left": cx, "right": cx - width}.get(a.xanchor, cx - width / 2)
        cy = py(a.y)
        texts.append((a.text, (left, left + width, cy - height / 2, cy + height / 2)))
    rects = [(px(s.x0), px(s.x1), py(s.y0), py(s.y1)) for s in layout.shapes if s.type == "rect" and s.layer == "above"]
    return texts, rects


def _overlap(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


SPECS = [
    rc.NetSpec(depth=1202),
    rc.NetSpec(depth=1202, skip=False),
    rc.NetSpec(depth=20),
    rc.NetSpec(depth=152, stem="imagenet"),
    rc.NetSpec(depth=1001, block="bottleneck", preact=True),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.name}-{s.stem}")
def test_diagram_texts_do_not_run_into_each_other(spec):
    """Issue: in the 1202 diagram the layer numbers ran into the box text ("402–4033×3 conv")."""
    texts, _ = _boxes(architecture_figure(rc.summarize(spec).layout))
    for i, (text_a, a) in enumerate(texts):
        for text_b, b in texts[i + 1 :]:
            assert not _overlap(a, b), f"{text_a!r} runs into {text_b!r}"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.name}-{s.stem}")
def test_diagram_box_texts_stay_inside_their_boxes(spec):
    """Issue: "⋮ 197 more blocks like these (layers …)" spilled out of its box."""
    texts, rects = _boxes(architecture_figure(rc.summarize(spec).layout))
    for text, (left, right, bottom, top) in texts:
        cx, cy = (left + right) / 2, (bottom + top) / 2
        inside = [r for r in rects if r[0] <= cx <= r[1] and r[2] <= cy <= r[3]]
        for r in inside:
            assert r[0] <= left and right <= r[1] and r[2] <= bottom and top <= r[3], f"{text!r} leaves its box"


def test_the_block_figure_shows_the_sum_and_the_shortcut():
    fig = block_figure(rc.NetSpec(depth=20))
    words = " ".join(a.text for a in fig.layout.annotations if a.text)
    assert "F(x)" in words and "H(x) = F(x) + x" in words and "identity" in words
    texts, _ = _boxes(fig)
    for i, (text_a, a) in enumerate(texts):
        for text_b, b in texts[i + 1 :]:
            assert not _overlap(a, b), f"{text_a!r} runs into {text_b!r}"
