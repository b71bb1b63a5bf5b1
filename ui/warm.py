"""The pages' libraries, imported once per server process in a background thread while the first visitor reads
the page they opened. Without it the first open of Explain, Architecture or Train on a fresh server pays seconds
of imports on a 2-core CPU — torchvision, Captum, the views (BENCHMARKS.md, "First open of every page and
every lesson step")."""

from __future__ import annotations

import importlib
import threading

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
