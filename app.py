"""ResNet Lab: the entry point builds the navigation and the sidebar; the pages do the rest."""

import streamlit as st

import resnet_core as rc
from ui.navigation import PAGES, leave_pages_directory_mode, page
from ui.runs import get_runner
from ui.sidebar import active_runs


def main() -> None:
    leave_pages_directory_mode()
    st.set_page_config(page_title="ResNet Lab", page_icon=":material/hub:", layout="wide")
    navigation = st.navigation([page(name) for name in PAGES])
    with st.sidebar:
        st.caption(f"Device: {rc.describe_device()}")
        active_runs(get_runner().store.list(["running", "queued"]))  # also starts the runner after a restart
    navigation.run()


main()
