"""Datasets shared by pages, loaded once per server (the embedded `shapes` set is rendered once, then cached)."""

from __future__ import annotations

import streamlit as st

from resnet_core.data.datasets import ImageDataset, load_dataset


@st.cache_resource(show_spinner="Loading the embedded dataset…")
def shapes() -> ImageDataset:
    return load_dataset("shapes")
