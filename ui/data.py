"""Datasets shared by pages, loaded once per server (the embedded `shapes` set is rendered once, then cached)."""

from __future__ import annotations

import streamlit as st

from resnet_core.data.datasets import DATASETS, ImageDataset, load_dataset
from resnet_core.presentation.i18n import N_
from resnet_core.studies.experiments import dataset_problem
from ui.language import spinning


@spinning(N_("Loading the embedded dataset…"))
@st.cache_resource(show_spinner=False)
def shapes() -> ImageDataset:
    return load_dataset("shapes")


@st.cache_data(ttl=300, show_spinner=False)
def dataset_problem_here(name: str) -> Exception | None:
    """Why a built-in dataset cannot be loaded here (None: it can) — the Train and Degradation pickers ask.
    Its files are checked on disk (CIFAR: loaded once); nothing is downloaded."""
    return dataset_problem(name)


def warm() -> None:
    """What pages' first opens would load otherwise: the embedded set (the Gradients page's probe batch) and
    each built-in dataset's check (the Train and Degradation pickers), which reads the files of those that are
    here once for the process (data/idx.py). For ui/warm.py's background thread."""
    shapes()
    for name in DATASETS:
        dataset_problem_here(name)
