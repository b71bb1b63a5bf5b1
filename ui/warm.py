"""The pages' libraries, imported once per server process in a background thread while the first visitor reads
the page they opened, then the datasets and nets the pages' defaults open on. Without it the first open of
Explain, Architecture or Train on a fresh server pays seconds of imports and loading on a 2-core CPU —
torchvision, Captum, the views, a dataset's files (BENCHMARKS.md, "First open of every page and every lesson
step")."""

from __future__ import annotations

import importlib
import threading

import streamlit as st

from ui.views.render import LOAD_CHART_LIBRARY_JS

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
    # Imported here, in the page's own thread, before the warm-up starts: plotly tests whether a value is a
    # pandas or PIL object by looking the module up in sys.modules (without the import lock), so a chart drawn
    # while the warm-up was still importing pandas met a half-initialised module ("has no attribute 'Series'").
    importlib.import_module("pandas")
    importlib.import_module("PIL.Image")
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


# The browser's side of the same idea. A page's charts load their library (plotly.js's 2-D bundle,
# ui/views/render.py) when the first chart arrives, and evaluating it holds the browser's main thread before
# anything is drawn. This script asks for the file at once (a preload hint: fetched while the page's script runs,
# not run), and evaluates it a second after the page the visitor opened is drawn, when the browser is idle —
# while they read it — so the next page's charts find it ready. Not sooner: on a page opened in a new tab,
# evaluating it early only delayed the page's own first draw (BENCHMARKS.md, "First open of every page…").
# Its element is hidden, so it leaves no gap above the page's title.
_CHARTS_JS = (
    """<span id="resnet-lab-charts"></span>
<style>[data-testid="stElementContainer"]:has(#resnet-lab-charts) { display: none; }</style>
<script>
if (!window.__resnetLabCharts) {
  window.__resnetLabCharts = true;"""
    + LOAD_CHART_LIBRARY_JS
    + """
  const hint = document.createElement("link");
  hint.rel = "preload";
  hint.as = "script";
  hint.href = chartLibraryUrl();
  document.head.appendChild(hint);
  const idle = window.requestIdleCallback || ((f) => setTimeout(f, 0));
  const later = () => setTimeout(() => idle(() => chartLibrary().catch(() => {}), { timeout: 2000 }), 1000);
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
)


def preload_charts() -> None:
    """Have the browser load its chart library once this page is drawn (an invisible element; call it once
    per page run)."""
    st.html(_CHARTS_JS, unsafe_allow_javascript=True)  # our own constants: no user text
