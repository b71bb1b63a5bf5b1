"""ResNet Lab: the entry point builds the navigation and the sidebar; the pages do the rest."""

from pathlib import Path

import streamlit as st

from resnet_core.presentation.i18n import _, say
from resnet_core.store.run_store import StoreCorrupt
from resnet_core.training.device import device_words
from ui.auth import access_for, logged_out, require_login, sidebar_identity
from ui.language import language_selector, use_language
from ui.navigation import PAGES, leave_pages_directory_mode, page
from ui.runs import damaged_store, shared_runner, take_snapshot
from ui.sidebar import active_runs
from ui.warm import preload_charts, warm_imports

FAVICON = Path(__file__).resolve().parent / "assets" / "favicon.png"
# At 1024 px the wide layout's side padding (5 rem each side, beside a 300 px sidebar) left the page 564 px,
# and labels and choices in rows of controls were cut ("A · identi", "Skip con…"): less padding below 1280 px.
NARROW_CSS = """<style>
@media (max-width: 1280px) {
  [data-testid="stMainBlockContainer"] { padding-left: 1.5rem; padding-right: 1.5rem; }
}
</style>"""


def main() -> None:
    leave_pages_directory_mode()
    use_language()  # before any word: the navigation's titles are translated too
    # A local file: an emoji or ":material/…:" icon makes the browser fetch it from a font service (offline:
    # no icon, and a failed request on every page).
    st.set_page_config(page_title="ResNet Lab", page_icon=str(FAVICON), layout="wide")
    st.html(NARROW_CSS)
    warm_imports()  # the other pages' libraries, in the background: see ui/warm.py
    preload_charts()  # and the browser's chart library, once this page is drawn
    # Class mode (an [auth] section in secrets.toml): nothing but the login until logged in — the navigation
    # hidden, not absent (without it Streamlit would list the pages folder's files).
    navigation = st.navigation([page(name) for name in PAGES], position="hidden" if logged_out() else "sidebar")
    require_login()
    with st.sidebar:
        language_selector()
        sidebar_identity()
        st.caption(_("Device: {device}").format(device=say(device_words())))
        try:
            access = access_for(shared_runner())  # also starts the runner after a restart
            runs = take_snapshot(access.store)  # the runs this visitor may see, as the page of this rerun shows
            # The visitor's own (the administrator, alone on their machine: every run, as ever).
            active_runs([r for r in (runs if access.actor.admin else access.mine(runs)) if r.active])
        except StoreCorrupt:  # the pages that need the store say what to do; the others still work
            st.caption(_(":red[The run store is damaged:] the Train page says what to do."))
    try:
        navigation.run()
    except StoreCorrupt as err:  # met while a page read the store
        damaged_store(err)


main()
