"""Laying out a View: the one place that decides how a figure, its caption and its verdicts look."""

from __future__ import annotations

import functools
import json
import re

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from resnet_core.presentation.i18n import _, language
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
        show_chart(view.figure, key=key)
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


# Charts. Streamlit's own chart element loads the whole of plotly.js, and evaluating it was the longest wait of a
# new tab before its first chart appeared. Every 2-D trace the app draws is in plotly.js's "cartesian" bundle,
# a third of the size (static/, served by Streamlit's static file serving, .streamlit/config.toml), so a chart
# here is a components-v2 element that loads that bundle once per tab and draws the figure with it
# (BENCHMARKS.md, "A chart library a third the size…"). A figure with a trace the bundle lacks (the loss
# landscape's 3-D surfaces) goes to Streamlit's element, which has them all.
CHART_LIBRARY = "plotly-cartesian.min.js"  # in static/, from npm's plotly.js-cartesian-dist-min, the version
# of plotly.js that the Python package plotly ships (its figures' JSON is written for that version)
CARTESIAN_TRACES = frozenset(
    {"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour", "image", "pie", "scatter"}
    | {"scatterternary", "violin"}
)
# The look Streamlit's element gave charts (its light theme) where a figure does not set its own: the title in the
# app's heading font, bold, at the left; grey tick labels and axis titles; white hover labels; Streamlit's colours
# for anything not a net (a net is blue or orange: presentation/palette.py, set by each figure).
_STREAMLIT_FONT = '"Source Sans", sans-serif'
_AXIS = {
    "tickfont": {"size": 12, "color": "#808495"},
    "tickcolor": "#e6eaf1",
    "title": {"font": {"size": 14, "color": "#808495"}},
    "automargin": True,
    "gridcolor": "#e2e8f0",
    "zeroline": False,
}
_TEMPLATE = json.dumps(
    {
        "layout": {
            "title": {
                "font": {"family": _STREAMLIT_FONT, "size": 16, "color": "#2F2D2B", "weight": "bold"},
                "x": 0,
                "xanchor": "left",
                "pad": {"l": 4},
            },
            "xaxis": {**_AXIS, "title": {**_AXIS["title"], "standoff": 20}},
            "yaxis": {**_AXIS, "title": {**_AXIS["title"], "standoff": 24}},
            "legend": {"font": {"size": 12, "color": "#262730"}, "bordercolor": "transparent"},
            "hoverlabel": {
                "bgcolor": "#FFFFFF",
                "bordercolor": "rgba(47, 45, 43, 0.2)",
                "font": {"family": _STREAMLIT_FONT, "size": 12, "color": "#808495"},
            },
            "margin": {"pad": 8},
            "paper_bgcolor": "#FFFFFF",
            "plot_bgcolor": "#FFFFFF",
            "colorway": ["#0068c9", "#83c9ff", "#ff2b2b", "#ffabab", "#29b09d", "#7defa1", "#ff8700", "#ffd16a"],
        }
    }
)
# The library, loaded once per tab by whichever asks first — a chart, or ui/warm.py while the visitor reads a
# page: a promise kept on `window` (the elements and the warm-up are separate scripts of one document).
LOAD_CHART_LIBRARY_JS = """
const staticUrl = (file) => {
  const entry = document.querySelector('script[type="module"][src*="static/js/index."]');
  return new URL("../../app/static/" + file, entry ? entry.src : document.baseURI).href;
};
const chartLibraryUrl = () => staticUrl(FILE);
const chartLibrary = () => {
  if (!window.__resnetLabPlotly) {
    const src = chartLibraryUrl();
    window.__resnetLabPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { window.__resnetLabPlotly = null; reject(new Error(src)); };
      document.head.appendChild(script);
    });
  }
  return window.__resnetLabPlotly;
};
""".replace("FILE", json.dumps(CHART_LIBRARY))
# plotly.js's own words (the mode bar's tooltips, its notices) in the app's language: the app's language -> plotly.js's
# locale, whose file (from the same plotly.js release, unchanged) is static/plotly-locale-<name in lower case>.js.
# English is built into the library.
CHART_LOCALES = {"zh": "zh-CN"}
# A locale's file, loaded once per tab beside the library, in either order: run first, it leaves its words in
# window.PlotlyLocales, which the library registers as it starts; run after, it registers them itself. If it
# cannot load, the chart is drawn all the same, its mode bar in English.
_LOAD_CHART_LOCALE_JS = """
const chartLocale = (name) => {
  if (!name) return Promise.resolve();
  const loaded = (window.__resnetLabPlotlyLocales = window.__resnetLabPlotlyLocales || {});
  if (!loaded[name]) {
    loaded[name] = new Promise((resolve) => {
      const script = document.createElement("script");
      script.src = staticUrl("plotly-locale-" + name.toLowerCase() + ".js");
      script.onload = () => resolve();
      script.onerror = () => { delete loaded[name]; resolve(); };
      document.head.appendChild(script);
    });
  }
  return loaded[name];
};
"""
# Four corners, as Streamlit's own full-screen button draws them (its chart element had one in its toolbar; here the
# button is in plotly.js's mode bar): a teacher shows one chart to a room.
_FULL_SCREEN_ICON = {
    "width": 16,
    "height": 16,
    "path": "M1 1h5v2H3v3H1zM10 1h5v5h-2V3h-3zM1 10h2v3h3v2H1zM13 10h2v5h-5v-2h3z",
}
# Components v2 call this again whenever `data` changes: the chart's <div> stays, and Plotly.react redraws it
# (only what changed), so a live chart updating every second neither flickers nor leaks. A newer call wins
# over an older one still waiting for the library. Drawn in the page's own DOM (not a shadow root): plotly.js
# puts its styles (hover labels, the mode bar) in the document's head.
_CHART_JS = (
    LOAD_CHART_LIBRARY_JS
    + _LOAD_CHART_LOCALE_JS
    + f"const TEMPLATE = {_TEMPLATE};\n"
    + f"const FULL_SCREEN_ICON = {json.dumps(_FULL_SCREEN_ICON)};\n"
    + r"""
// The screen's size while `chart` is full screen (plotly.js sizes a figure with a height of its own only when asked).
const FULL_SCREEN_PAD = 24;  // px around the figure on a screen, so its title does not touch the edge
const fullScreenSize = (chart) =>
  document.fullscreenElement === chart
    ? { width: window.innerWidth - 2 * FULL_SCREEN_PAD, height: window.innerHeight - 2 * FULL_SCREEN_PAD }
    : null;

// A zoom the user made, per `keep_view`, for the tab's life: Streamlit gives a chart a new element on some full
// reruns (a run's status changing on Train), and plotly's uirevision only holds within one element.
const KEPT_VIEWS = (window.__resnetLabViews = window.__resnetLabViews || {});
const keepView = (key, edit) => {
  const axes = Object.entries(edit).filter(([name]) => /^[xy]axis\d*\.(range|autorange)/.test(name));
  if (!axes.length) return;
  const view = { ...(KEPT_VIEWS[key] || {}) };
  for (const [name, value] of axes) {
    const axis = name.split(".")[0];
    if (name.endsWith("autorange")) {  // a double-click: the whole curve again
      for (const old of Object.keys(view)) if (old.startsWith(axis + ".")) delete view[old];
    } else view[name] = value;
  }
  KEPT_VIEWS[key] = view;
};

export default function ({ data, parentElement }) {
  let chart = parentElement.querySelector(".resnet-lab-chart");
  if (!chart) {
    chart = document.createElement("div");
    chart.className = "resnet-lab-chart";
    chart.style.background = "#fff";  // full screen: white around the figure, not the browser's black backdrop
    chart.addEventListener("fullscreenchange", () => {
      const size = fullScreenSize(chart) || { width: null, height: chart.__height ?? null };
      chart.style.padding = fullScreenSize(chart) ? `${FULL_SCREEN_PAD}px` : "";
      if (chart._fullLayout) window.Plotly.relayout(chart, size);
    });
    parentElement.appendChild(chart);
  }
  const figure = JSON.parse(data.figure);
  figure.layout = figure.layout || {};
  figure.layout.template = TEMPLATE;
  chart.__height = figure.layout.height;  // the figure's own, restored when full screen ends
  Object.assign(figure.layout, fullScreenSize(chart));
  const config = { ...data.config };
  if (config.displayModeBar !== false && chart.requestFullscreen) {
    // The same button object while its title stays: Plotly.react redraws from scratch when its config changes,
    // and a new function would be a change (a live chart would lose its zoom at every update).
    if (chart.__button?.title !== data.fullscreen) {
      const toggle = () => (fullScreenSize(chart) ? document.exitFullscreen() : chart.requestFullscreen());
      chart.__button = { name: "fullscreen", title: data.fullscreen, icon: FULL_SCREEN_ICON, click: toggle };
    }
    config.modeBarButtonsToAdd = [chart.__button];
  }
  if (data.keep_view) figure.layout.uirevision = data.keep_view;
  const kept = data.keep_view && !chart._fullLayout ? KEPT_VIEWS[data.keep_view] : null;
  const call = (chart.__call = (chart.__call || 0) + 1);
  if (data.locale) config.locale = data.locale;
  Promise.all([chartLibrary(), chartLocale(data.locale)]).then(
    ([Plotly]) => {
      if (chart.__call !== call || !chart.isConnected) return;
      if (!chart._fullLayout) chart.textContent = "";  // an earlier call's message that the library did not load
      Plotly.react(chart, figure.data || [], figure.layout, config);
      chart.__keep = data.keep_view;
      // Listened to again after each drawing: a drawing from scratch (a new config) drops plotly's listeners.
      chart.__onRelayout = chart.__onRelayout || ((edit) => chart.__keep && keepView(chart.__keep, edit));
      chart.removeListener("plotly_relayout", chart.__onRelayout);
      chart.on("plotly_relayout", chart.__onRelayout);
      // a new element for a chart the user had zoomed: as they left it
      if (kept && Object.keys(kept).length) Plotly.relayout(chart, kept);
      if (!chart.__resize) {
        chart.__resize = new ResizeObserver(() => chart.isConnected && chart.clientWidth && Plotly.Plots.resize(chart));
        chart.__resize.observe(chart);
      }
    },
    () => {
      if (chart.__call === call) chart.textContent = data.failed;
    },
  );
  return () => {
    chart.__resize?.disconnect();
    chart.__resize = null;
  };
}
"""
)


@functools.cache
def _chart():
    """Registered at first use, in a page run (not at import: outside a run Streamlit warns)."""
    return st.components.v2.component("resnet_lab.chart", js=_CHART_JS, isolate_styles=False)


def png_name(figure: go.Figure, key: str) -> str:
    """The file name the mode bar's PNG download gets: the chart's title (markup dropped; Chinese kept), or the
    page's key for it — never plotly's "newplot"."""
    title = re.sub(r"<[^>]*>", " ", figure.layout.title.text or "") or key
    return "resnet-lab-" + (re.sub(r"[\W_]+", "-", title).strip("-").lower()[:80] or "chart")


def show_chart(figure: go.Figure, *, key: str, config: dict | None = None, keep_view: str | None = None) -> None:
    """`figure` drawn the width of its container; `config`: plotly.js's (e.g. no mode bar). While `keep_view`
    stays the same, a redraw keeps what the user did to the chart — a zoom, a trace hidden from the legend —
    (plotly.js's `uirevision`): a live chart updating every few seconds would otherwise undo it each time."""
    png = {"filename": png_name(figure, key), "scale": 2}  # twice the size on screen: sharp on a slide
    # plotly.js 4 offers to upload a chart to Plotly Cloud ("Share chart..."): an app that works offline and keeps
    # a learner's runs on their machine shows no such button.
    config = {"displaylogo": False, "showSendToCloud": False, "toImageButtonOptions": png, **(config or {})}
    if any(trace.type not in CARTESIAN_TRACES for trace in figure.data):
        st.plotly_chart(figure, width="stretch", key=key, config=config)
        return
    _chart()(
        key=key,
        data={
            "figure": pio.to_json(figure, validate=False),
            "config": config,
            "keep_view": f"{key} {keep_view}" if keep_view else None,  # one chart's, not its neighbour's
            "locale": CHART_LOCALES.get(language()),
            "failed": _("The chart could not be drawn: the chart library did not load. Reload the page."),
            "fullscreen": _("Full screen"),
        },
    )
