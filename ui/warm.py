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
    "captum.attr",  # resnet_core.analysis.attributions imports it on the first explanation
    "torchvision.models",  # the ImageNet nets' weights (analysis/pretrained.py), named in Explain's picker
)


@st.cache_resource(show_spinner=False)
def warm_imports() -> threading.Thread:
    """Start the imports (once per process: the thread is the cached resource)."""
    thread = threading.Thread(target=_import_all, name="resnet-lab-warm-imports", daemon=True)
    thread.start()
    return thread


def _import_all() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # the page that needs the module imports it again, and says what is wrong
            continue
    # Then the data the pages' informative defaults open on, into the caches they read.
    for warm in ("ui.data", "ui.views.explain"):
        try:
            importlib.import_module(warm).warm()
        except Exception:  # the page loads it again, and says what is wrong
            continue


# The browser's side of the same idea. Streamlit's frontend loads plotly.js (its PlotlyChart chunk, ~4.7 MB) only
# when the first chart arrives, and then spends over a second evaluating it before drawing anything; a page
# opened in a new tab waited for both after its script had finished. This script, in the page's first element,
# imports that chunk as soon as the page starts, by the same URL the frontend's lazy import resolves to: the
# module is evaluated once, while the server runs the page, and the first chart finds it ready. Its element is
# hidden, so it leaves no gap above the page's title.
_CHARTS_JS = """<span id="resnet-lab-charts"></span>
<style>[data-testid="stElementContainer"]:has(#resnet-lab-charts) { display: none; }</style>
<script>
if (!window.__resnetLabCharts) {
  window.__resnetLabCharts = true;
  const entry = document.querySelector('script[type="module"][src*="static/js/index."]');
  if (entry) import(new URL(CHUNK, entry.src).href).catch(() => {});
}
</script>"""


@functools.cache
def _chart_chunk() -> str | None:
    """The file name of the frontend's plotly chunk in the installed Streamlit (hashed per release)."""
    folder = Path(st.__file__).parent / "static" / "static" / "js"
    found = sorted(folder.glob("PlotlyChart.*.js"))
    return found[0].name if found else None


def preload_charts() -> None:
    """Start loading the browser's chart library now (an invisible element; call it once per page run)."""
    chunk = _chart_chunk()
    if chunk is not None:  # our own constant and a file name of the installed package: no user text
        st.html(_CHARTS_JS.replace("CHUNK", json.dumps(chunk)), unsafe_allow_javascript=True)
