"""User text shown as text. Run names, uploaded files' names, values from a link and messages that quote
them may hold Markdown (`**`, `[link](…)`, `![image](…)`), HTML or plotly's HTML-like markup (`<a href>`,
`<b>`, `<br>`). Only what the code itself formats may use markup; these make everything else literal."""

from __future__ import annotations

import html
import re

# What can start markup in Streamlit's Markdown: CommonMark and GFM (emphasis, links, images, code, HTML,
# headings, lists, tables, strikethrough, entities), Streamlit's directives (`:red[…]`, `:material/…:`) and
# formulas (`$…$`). Commas, quotes and the like never do, so messages stay readable in their source.
MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~:$&=")
# Escapes are not enough for links: GitHub-flavoured Markdown turns bare URLs (`http://…`, `https://…`, `www.…`)
# and email addresses (`a@b.example`) into links *after* parsing, in the text the escapes left, so an escaped
# `http\://evil.example` is still a live link. A word joiner (U+2060) inside each such start (http<WJ>://,
# www<WJ>., @<WJ>) leaves nothing for it to match and nothing visible to the reader (tests/test_user_text.py
# checks the page in a browser for an <a>).
WORD_JOINER = "\u2060"  # invisible, and no line break at it (a zero-width space let "http" wrap apart)
LINK_STARTS = re.compile(r"(?i)(https?|ftp|mailto|xmpp)(?=:)|\b(www)(?=\.)|(@)")


def markdown_text(text: object) -> str:
    """`text` as itself where Streamlit reads Markdown (st.markdown, captions, alerts, labels): every mark
    that could start markup backslash-escaped — no emphasis, link, image, HTML tag, directive or formula
    can form — line breaks as spaces, and bare URLs and email addresses broken by an invisible space so that
    they cannot become links (LINK_STARTS)."""
    text = LINK_STARTS.sub(lambda m: m.group(0) + WORD_JOINER, " ".join(str(text).split()))
    return "".join("\\" + c if c in MARKDOWN_SPECIAL else c for c in text)


def count(n: int, noun: str, plural: str | None = None) -> str:
    """ "1 epoch", "2 epochs", "0 epochs": the noun agrees with the number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def plot_text(text: object) -> str:
    """`text` as itself in a plotly string (a trace's name, a title, an axis label): plotly reads `<a href>`,
    `<b>`, `<br>` and entities there, so `&`, `<` and `>` become entities."""
    return html.escape(str(text), quote=False)
