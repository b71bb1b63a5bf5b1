"""Streamlit helpers shared by the pages (the library, resnet_core, never imports streamlit)."""
