"""ResNet Lab: the entry point builds the navigation and the sidebar; the pages do the rest."""

import streamlit as st

import resnet_core as rc
from resnet_core.runs.store import StoreCorrupt
from ui.navigation import PAGES, leave_pages_directory_mode, page
from ui.runs import damaged_store, shared_runner
from ui.sidebar import active_runs


def main() -> None:
    leave_pages_directory_mode()
    st.set_page_config(page_title="ResNet Lab", page_icon=":material/hub:", layout="wide")
    navigation = st.navigation([page(name) for name in PAGES])
    with st.sidebar:
        st.caption(f"Device: {rc.describe_device()}")
        try:
            active_runs(shared_runner().store.list(["running", "queued"]))  # also starts the runner after a restart
        except StoreCorrupt:  # the pages that need the store say what to do; the others still work
            st.caption(":red[The run store is damaged:] the Train page says what to do.")
    try:
        navigation.run()
    except StoreCorrupt as err:  # met while a page read the store
        damaged_store(err)


main()
