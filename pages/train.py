"""Train: start runs in the background, watch their curves live, compare residual and plain nets."""

import streamlit as st

import resnet_core as rc
from resnet_core.presentation.i18n import _
from resnet_core.studies.experiments import quick_recipe
from ui.auth import class_mode
from ui.language import use_language
from ui.live import live_fragment
from ui.navigation import leave_pages_directory_mode
from ui.runs import default_selection, get_runner, read_runs, selected_ids, set_selected
from ui.views import train as views

leave_pages_directory_mode()  # before anything else: see ui/navigation.py
use_language()  # the words of this run: see ui/language.py

POLL_SECONDS = 2.0  # while runs train, the live view (progress bars) is read this often
STARTING_POLL_SECONDS = 0.5  # … and while a shown run is in its first steps: its first point shows at once

runner = get_runner()
store = runner.store
all_runs = read_runs(store)  # this rerun's one read: the sidebar, the chips and the table agree

st.title(_("Train"))
st.markdown(
    _(
        "Train a net in the background and watch it learn. Start a *residual* net and its *plain twin* together "
        "to see the paper's finding: at depth, the plain net's **training** error stays higher (degradation). "
        "Runs keep going when you close the tab; everything is saved."
    )
)
views.toast()
views.start_form(runner, quick_recipe(rc.pick_device().type), expanded=not all_runs)
if not all_runs:
    st.info(_("No runs yet. Pick a net above and press **Train**."))
    st.stop()

by_id = {r.id: r for r in all_runs}
chosen = views.choose_shown(by_id, selected_ids() or default_selection(all_runs))  # from the link, or the default
set_selected(chosen)

# Every open tab reruns this view at each poll, and each rerun costs the tab's browser tens of ms of CPU (on
# the same cores as the training, on a laptop): poll every POLL_SECONDS, more often only while a shown run is
# in its first steps (BENCHMARKS.md, "Ten viewers", "Time to first point"); the page reruns once when that ends.
active = any(by_id[i].active for i in chosen)
st.session_state["train.starting.was_active"] = active and views.starting(views.shown_runs(chosen))
live_fragment(
    lambda: views.live_view(runner, chosen),
    "train",
    active,
    every=STARTING_POLL_SECONDS if st.session_state["train.starting.was_active"] else POLL_SECONDS,
)

st.subheader(_("All runs"))
views.runs_table(store, all_runs, owners=class_mode())
views.manage_panel(runner, by_id)
views.teacher_panel(runner)  # class mode, for a teacher: the whole queue, a student's queue cleared, the cap
