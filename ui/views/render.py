"""Laying out a View: the one place that decides how a figure, its caption and its verdicts look."""

from __future__ import annotations

import functools

import streamlit as st

from resnet_core.presentation.views import Verdict, View

_ALERTS = {  # verdict kind -> (alert, icon)
    "agrees": (st.success, ":material/check_circle:"),
    "disagrees": (st.warning, ":material/error:"),
    "too_close": (st.info, ":material/balance:"),
    "untrained": (st.warning, ":material/block:"),
    "pending": (st.info, ":material/hourglass_empty:"),
}


def show_verdict(verdict: Verdict) -> None:
    alert, icon = _ALERTS[verdict.kind]
    alert(verdict.text, icon=icon)


def show_view(view: View, *, key: str, title_level: str = "subheader") -> None:
    """The view's title, figure (keyed: `key`), caption, table (static), verdicts and notes, in that order."""
    if view.title:
        getattr(st, title_level)(view.title)
    if view.figure is not None:
        st.plotly_chart(view.figure, width="stretch", key=key)
    if view.caption:
        st.caption(view.caption)
    if view.table is not None:
        # A static table: a view's table is a few rows (a figure's numbers), and the data grid's code (over 1 MB)
        # would load on a page's first open for them (BENCHMARKS.md, "First open of every page"). A missing
        # value is the view's to write (its Styler's na_rep: NO_VALUE), not the browser's "None".
        st.table(view.table, hide_index=True)
    for verdict in view.verdicts:
        show_verdict(verdict)
    for note in view.notes:
        st.caption(note)


# A drawing that needs no chart library: an SVG made by our own code (resnet_core/presentation/diagram.py, every
# text in it escaped there) drawn inline, so each box's <title> is its tooltip, and a button that turns it into a
# PNG in the browser (the SVG drawn on a canvas at twice its size). A page whose figures are all drawings then
# never loads plotly.js, which a new tab spends about a second evaluating (BENCHMARKS.md, "First open of every
# page"). Vanilla JS for components v2, which call it again whenever `data` changes: it redraws from scratch.
_DRAWING_JS = """
export default function ({ data, parentElement }) {
  parentElement.querySelector(".figure")?.remove();  // the last call's; not the element's own <style>
  const figure = document.createElement("div");
  figure.className = "figure";
  const holder = document.createElement("div");
  holder.className = "drawing";
  holder.innerHTML = data.svg;
  const svg = holder.querySelector("svg");
  if (svg) {
    svg.style.maxWidth = "100%";
    svg.style.height = "auto";
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", data.label);
  }
  figure.appendChild(holder);
  parentElement.appendChild(figure);
  if (!data.png_label) return;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "png";
  button.textContent = data.png_label;
  button.addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([data.svg], { type: "image/svg+xml" }));
    const image = new Image();
    image.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = image.naturalWidth * 2;
      canvas.height = image.naturalHeight * 2;
      const context = canvas.getContext("2d");
      context.scale(2, 2);
      context.drawImage(image, 0, 0);
      URL.revokeObjectURL(url);
      canvas.toBlob((png) => {
        const link = document.createElement("a");
        link.href = URL.createObjectURL(png);
        link.download = data.filename + ".png";
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(link.href), 10000);
      }, "image/png");
    };
    image.src = url;
  });
  figure.appendChild(button);
}
"""
_DRAWING_CSS = """
.drawing { text-align: center; }
.png {
  margin-top: 0.5rem;
  min-height: 2.5rem;
  padding: 0.25rem 0.75rem;
  font: inherit;
  font-family: var(--st-font, inherit);
  color: var(--st-text-color, inherit);
  background: var(--st-background-color, transparent);
  border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2));
  border-radius: var(--st-base-radius, 0.5rem);
  cursor: pointer;
}
.png:hover { border-color: var(--st-primary-color, #ff4b4b); color: var(--st-primary-color, #ff4b4b); }
"""


@functools.cache
def _drawing():
    """Registered at first use, in a page run (not at import: outside a run Streamlit warns)."""
    return st.components.v2.component("resnet_lab.drawing", js=_DRAWING_JS, css=_DRAWING_CSS)


def show_drawing(svg: str, *, key: str, label: str, png_label: str | None = None, filename: str = "figure") -> None:
    """`svg` (our own drawing, never user markup) inline, named `label` for screen readers; with `png_label`, a
    button that downloads it as `filename`.png."""
    _drawing()(key=key, data={"svg": svg, "label": label, "png_label": png_label, "filename": filename})
