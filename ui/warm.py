"""The pages' libraries, imported once per server process in a background thread while the first visitor reads
the page they opened, then the datasets and nets the pages' defaults open on. Without it the first open of
Explain, Architecture or Train on a fresh server pays seconds of imports and loading on a 2-core CPU —
torchvision, Captum, the views, a dataset's files (BENCHMARKS.md, "First open of every page and every lesson
step")."""

from __future__ import annotations

import functools
import importlib
import json
import threading
from pathlib import Path

import streamlit as st

MODULES = (
    "ui.views.architecture",
    "ui.views.train",
    "ui.views.degradation",
    "ui.views.gradients",
    "ui.views.responses",
    "ui.views.why",
    "ui.views.lesson",
    "ui.views.explain",
    "pandas.io.formats.style",  # a view's table (st.table of a Styler): its module compiles jinja templates
    "captum.attr",  # resnet_core.analysis.attributions imports it on the first explanation
    "torchvision.models",  # the ImageNet nets' weights (analysis/pretrained.py), named in Explain's picker
)


@st.cache_resource(show_spinner=False)
def warm_imports() -> threading.Thread:
    """Start the imports and the pages' defaults (once per process: the thread is the cached resource)."""
    thread = threading.Thread(target=_import_all, name="resnet-lab-warm-up", daemon=True)
    thread.start()
    return thread


def _import_all() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # the page that needs the module imports it again, and says what is wrong
            continue
    # Then the words, data and results the pages' informative defaults open on, into the caches they read.
    for warm in (
        "ui.language",
        "ui.data",
        "ui.views.architecture",
        "ui.views.degradation",
        "ui.views.responses",
        "ui.views.explain",
        "ui.views.lesson",
    ):
        try:
            importlib.import_module(warm).warm()
        except Exception:  # the page loads it again, and says what is wrong
            continue


# The browser's side of the same idea. Streamlit's frontend loads plotly.js (its PlotlyChart chunk, ~4.7 MB) only
# when the first chart arrives, and then spends over a second evaluating it before drawing anything: the first
# page with charts a visitor opened in the app waited for it. This script imports that chunk, by the same URL
# the frontend's lazy import resolves to (the module is evaluated once), a second after the page the visitor
# opened is drawn and when the browser is idle — while they read it — so the next page's charts find it
# ready. Not sooner: evaluating it holds the browser's main thread for that second, and on a page opened in
# a new tab it only delayed the page's own first draw (BENCHMARKS.md, "First open of every page…"). What it
# does at once is ask for the file (a modulepreload hint: fetched, and compiled off the main thread, not run):
# a page opened in a new tab with charts then finds it downloaded when its first chart arrives, instead of
# starting the download then. Its element is hidden, so it leaves no gap above the page's title.
_CHARTS_JS = """<span id="resnet-lab-charts"></span>
<style>[data-testid="stElementContainer"]:has(#resnet-lab-charts) { display: none; }</style>
<script>
if (!window.__resnetLabCharts) {
  window.__resnetLabCharts = true;
  const entry = document.querySelector('script[type="module"][src*="static/js/index."]');
  if (entry) {
    const hint = document.createElement("link");
    hint.rel = "modulepreload";
    hint.href = new URL(CHUNK, entry.src).href;
    document.head.appendChild(hint);
  }
  const load = () => entry && import(new URL(CHUNK, entry.src).href).catch(() => {});
  const idle = window.requestIdleCallback || ((f) => setTimeout(f, 0));
  const later = () => setTimeout(() => idle(load, { timeout: 2000 }), 1000);
  const drawn = () => document.querySelector("[data-test-script-state='notRunning']") !== null;
  if (drawn()) later();
  else {
    const watch = new MutationObserver(() => {
      if (drawn()) { watch.disconnect(); later(); }
    });
    watch.observe(document, { subtree: true, attributes: true, attributeFilter: ["data-test-script-state"] });
  }
}
</script>"""


@functools.cache
def _chart_chunk() -> str | None:
    """The file name of the frontend's plotly chunk in the installed Streamlit (hashed per release)."""
    folder = Path(st.__file__).parent / "static" / "static" / "js"
    found = sorted(folder.glob("PlotlyChart.*.js"))
    return found[0].name if found else None


def preload_charts() -> None:
    """Have the browser load its chart library once this page is drawn (an invisible element; call it once
    per page run)."""
    chunk = _chart_chunk()
    if chunk is not None:  # our own constant and a file name of the installed package: no user text
        st.html(_CHARTS_JS.replace("CHUNK", json.dumps(chunk)), unsafe_allow_javascript=True)
