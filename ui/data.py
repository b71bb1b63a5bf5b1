"""Datasets shared by pages, loaded once per server (the embedded `shapes` set is rendered once, then cached)."""

from __future__ import annotations

import streamlit as st

from resnet_core.data.datasets import ImageDataset, load_dataset
from resnet_core.presentation.i18n import N_
from ui.language import spinning


@spinning(N_("Loading the embedded dataset…"))
@st.cache_resource(show_spinner=False)
def shapes() -> ImageDataset:
    return load_dataset("shapes")
