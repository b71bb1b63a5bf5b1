"""Explain: upload an image and see which pixels a trained net's prediction depends on."""

import streamlit as st

from resnet_core.presentation.i18n import _
from ui.language import use_language, with_language
from ui.navigation import leave_pages_directory_mode, page
from ui.reference import runs_view
from ui.threads import share_cpu_with_training
from ui.view_state import Param, ViewState, presenting
from ui.views import explain as views

leave_pages_directory_mode()  # before anything else: see ui/navigation.py
use_language()  # the words of this run: see ui/language.py
share_cpu_with_training()  # torch threads beside the runs training here: see ui/threads.py

LAST_MODEL = "explain.last_model"  # the model of the previous run: the class explained is the model's own
present = presenting()  # ?present=1: the link's view without its controls

st.title(_("Explain"))
st.markdown(
    _(
        "Pick a trained net and an image, and see **which pixels its prediction depends on**. Each method "
        "below answers that question differently; where they agree, you can trust the answer more."
    )
)

store = runs_view("explain")  # the user's runs and, unless hidden in the sidebar, the reference runs
runs, choices, default, why = views.model_choices(store)
if not runs:
    st.info(
        _(
            "No trained net yet. Train one on the **Train** page (a ResNet-8 on 1,000 *shapes* images takes "
            "about a minute on a CPU); it appears here when it completes. Meanwhile you can explain photos "
            "with an ImageNet ResNet below, once its weights are downloaded."
        )
    )
    st.page_link(page("train"), label=_("Train a net"), icon=":material/model_training:", query_params=with_language())
model_state = ViewState("explain", [Param("model", default, choices=choices)])
model_state.load()
if present:
    key = model_state.value("model")
else:
    key = st.selectbox(
        _("Model"), choices, format_func=lambda k: views.describe_choice(store, runs, k), key=model_state.key("model")
    )
model_state.save()
if key == default and why:
    st.caption(why)
if key.startswith(views.IMAGENET):
    run, clf, test_images, test_labels = None, views.imagenet_model(key.removeprefix(views.IMAGENET)), None, []
else:
    run = runs[key]
    clf, test_images, test_labels = views.run_model(store, run)

if st.session_state.get(LAST_MODEL, key) != key and "target" in st.query_params:
    del st.query_params["target"]  # the previous model's class: this one may not have it
st.session_state[LAST_MODEL] = key
state = views.url_state(key, run, clf, len(test_labels))
state.load()
picked = views.pick_image(state, clf, test_images, test_labels, present)

twin = views.twin_of(store, run)
views.untrained_note(store, run, twin)
if picked.image is not None:  # the image as the nets see it, and their predictions
    pixels, shown, nets_probs = views.predictions(store, key, run, clf, twin, picked)
controls = views.method_controls(state, key, clf, present)
state.save()
if picked.image is None:  # waiting for an upload, or it could not be read (said above)
    st.stop()
if not controls.methods:
    st.info(_("Choose at least one method."))
    st.stop()
views.attribution_maps(store.root, nets_probs, pixels, shown, controls, clf, picked.name, present)
if not present:
    views.twin_hint(store, run, twin)
