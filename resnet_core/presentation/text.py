"""User text shown as text. Run names, uploaded files' names, values from a link and messages that quote
them may hold Markdown (`**`, `[link](…)`, `![image](…)`), HTML or plotly's HTML-like markup (`<a href>`,
`<b>`, `<br>`). Only what the code itself formats may use markup; these make everything else literal."""

from __future__ import annotations

import html

# What can start markup in Streamlit's Markdown: CommonMark and GFM (emphasis, links, images, code, HTML,
# headings, lists, tables, strikethrough, entities), Streamlit's directives (`:red[…]`, `:material/…:`) and
# formulas (`$…$`). Commas, quotes and the like never do, so messages stay readable in their source.
MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~:$&=")


def markdown_text(text: object) -> str:
    """`text` as itself where Streamlit reads Markdown (st.markdown, captions, alerts, labels): every mark
    that could start markup backslash-escaped — no emphasis, link, image, HTML tag, directive or formula
    can form — and line breaks as spaces."""
    return "".join("\\" + c if c in MARKDOWN_SPECIAL else c for c in " ".join(str(text).split()))


def count(n: int, noun: str, plural: str | None = None) -> str:
    """ "1 epoch", "2 epochs", "0 epochs": the noun agrees with the number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def plot_text(text: object) -> str:
    """`text` as itself in a plotly string (a trace's name, a title, an axis label): plotly reads `<a href>`,
    `<b>`, `<br>` and entities there, so `&`, `<` and `>` become entities."""
    return html.escape(str(text), quote=False)
