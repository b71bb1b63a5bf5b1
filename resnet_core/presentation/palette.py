"""One palette for every chart: residual nets are blue, plain nets orange, on every page."""

from typing import TypedDict


class Font(TypedDict):
    """A plotly font, typed so that its size and colour read as what they are."""

    family: str
    size: int
    color: str


RESIDUAL_COLOR = "#2563eb"
PLAIN_COLOR = "#ea580c"
NEUTRAL_COLOR = "#64748b"
# The CJK families after the Latin ones: Chinese labels take their glyphs from Noto Sans CJK (Debian's
# fonts-noto-cjk, `make fonts`), PingFang or YaHei, whichever the browser has, instead of boxes.
FONT: Font = {
    "family": "Inter, Segoe UI, Helvetica, Arial, Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif",
    "size": 13,
    "color": "#0f172a",
}
# Shades for several nets of one kind (e.g. ResNet-20/32/44/56), light (shallow) to dark (deep).
RESIDUAL_SHADES = ("#93c5fd", "#60a5fa", "#3b82f6", "#2563eb", "#1d4ed8", "#1e3a8a")
PLAIN_SHADES = ("#fdba74", "#fb923c", "#f97316", "#ea580c", "#c2410c", "#7c2d12")


def net_color(skip: bool) -> str:
    """The colour of a residual (True) or plain (False) net."""
    return RESIDUAL_COLOR if skip else PLAIN_COLOR


def shade(skip: bool, index: int, count: int) -> str:
    """The `index`-th of `count` shades of a kind's colour (deeper nets darker)."""
    shades = RESIDUAL_SHADES if skip else PLAIN_SHADES
    if count <= 1:
        return net_color(skip)
    position = round(index * (len(shades) - 1) / (count - 1))
    return shades[position]


def tint(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
