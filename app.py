"""ResNet Lab: the entry point builds the navigation and the sidebar; the pages do the rest."""

import streamlit as st

import resnet_core as rc
from ui.navigation import PAGES, page


def main() -> None:
    st.set_page_config(page_title="ResNet Lab", page_icon=":material/hub:", layout="wide")
    navigation = st.navigation([page(name) for name in PAGES])
    with st.sidebar:
        st.caption(f"Device: {rc.describe_device()}")
    navigation.run()


main()
