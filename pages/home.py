"""Home: what ResNet Lab is for, the way into the lesson, the residual idea, the tools, the device."""

from pathlib import Path

import streamlit as st

import resnet_core as rc
from ui.language import use_language
from ui.navigation import PAGES, leave_pages_directory_mode, page
from ui.navigation import title as title_of

leave_pages_directory_mode()  # before anything else: see ui/navigation.py
use_language()  # the words of this run: see ui/language.py

st.title("ResNet Lab")
st.markdown(
    "See **why residual networks can be so deep**. Build residual or plain nets of any depth, "
    "look at their structure and cost, and compare a net with its *plain twin* — the same layers "
    "without skip connections."
)

with st.container(border=True):
    st.subheader("Start here: the lesson")
    st.markdown(
        "Nine short steps through the paper's argument — degradation, why it is not overfitting nor "
        "vanishing gradients, the residual idea, and why it works. At each step you predict first, then see "
        "the evidence from nets trained on this kind of machine, with a verdict on whether it agrees."
    )
    st.page_link(
        page("lesson"), label="**Start the lesson** — step 1: deeper plain nets train worse", icon=":material/school:"
    )

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("The residual idea")
    st.markdown(
        "A stack of layers in a plain net must learn the whole mapping **H(x)** it is meant to compute. "
        "In a residual block the layers learn only the *residual* **F(x) = H(x) − x**, and a shortcut adds "
        "the input back: the block outputs **F(x) + x**. If the best thing a block can do is nothing, it "
        "only has to push F towards zero — much easier than fitting an identity with a stack of "
        "nonlinear layers (He et al. 2015, §3.1)."
    )
    st.markdown(
        "The paper's surprise was **degradation**: deeper *plain* nets reach a *higher training error* "
        "than shallower ones (Fig. 1 and 6), so it is not overfitting. With shortcuts, deeper is better. "
        "And with BatchNorm, the plain nets' gradients do not vanish: the trouble is optimisation."
    )
with right:
    st.image(
        str(Path(__file__).parent.parent / "assets" / "residual_block.svg"),
        caption="A residual block (after He et al. 2015, Fig. 2).",
    )

st.subheader("The tools")
NEXT = [  # (page, what the link says, one line on what is there, the view's URL parameters)
    ("architecture", None, "build a net of any depth; see its blocks, size and cost beside its plain twin", {}),
    ("train", None, "train nets in the background and watch their curves live", {}),
    ("degradation", None, "the paper's Fig. 6 in one click: do deeper plain nets train worse here?", {}),
    ("gradients", None, "gradient norms layer by layer: do they vanish, with and without BatchNorm?", {}),
    ("responses", None, "how strongly each layer responds in trained nets (Fig. 7)", {}),
    ("explain", None, "upload an image and see what a trained net looks at (Captum attributions)", {}),
    ("why", "Lesion study", "delete a block of a trained net: how much worse does it get?", {"tab": "lesion"}),
    (
        "why",
        "Loss landscape",
        "the loss around the trained weights: smooth or rough, with and without shortcuts?",
        {"tab": "landscape"},
    ),
    ("why", "Shattered gradients", "nearby inputs' gradients: related, or noise?", {"tab": "shattered"}),
]
for name, title, text, query in NEXT:
    page_title, icon = title_of(name), PAGES[name][1]
    st.page_link(page(name), label=f"**{title or page_title}** — {text}", icon=icon, query_params=query)

st.caption(f"Computing on: **{rc.describe_device()}**")
