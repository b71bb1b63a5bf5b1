"""Home: what ResNet Lab is for, the way into the lesson, the residual idea, the tools, the device."""

from pathlib import Path

import streamlit as st

from resnet_core.presentation.i18n import _, say, svg_words
from resnet_core.training.device import device_words
from ui.language import use_language, with_language
from ui.navigation import PAGES, leave_pages_directory_mode, page
from ui.navigation import title as title_of

leave_pages_directory_mode()  # before anything else: see ui/navigation.py
use_language()  # the words of this run: see ui/language.py

st.title(_("ResNet Lab"))
st.markdown(
    _(
        "See **why residual networks can be so deep**. Build residual or plain nets of any depth, "
        "look at their structure and cost, and compare a net with its *plain twin* — the same layers "
        "without skip connections."
    )
)

with st.container(border=True):
    st.subheader(_("Start here: the lesson"))
    st.markdown(
        _(
            "Nine short steps through the paper's argument — degradation, why it is not overfitting nor "
            "vanishing gradients, the residual idea, and why it works. At each step you predict first, then see "
            "the evidence from nets trained on this kind of machine, with a verdict on whether it agrees."
        )
    )
    st.page_link(
        page("lesson"),
        label=_("**Start the lesson** — step 1: deeper plain nets train worse"),
        icon=":material/school:",
        query_params=with_language(),
    )

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(_("The residual idea"))
    st.markdown(
        _(
            "A stack of layers in a plain net must learn the whole mapping **H(x)** it is meant to compute. "
            "In a residual block the layers learn only the *residual* **F(x) = H(x) − x**, and a shortcut adds "
            "the input back: the block outputs **F(x) + x**. If the best thing a block can do is nothing, it "
            "only has to push F towards zero — much easier than fitting an identity with a stack of "
            "nonlinear layers (He et al. 2015, §3.1)."
        )
    )
    st.markdown(
        _(
            "The paper's surprise was **degradation**: deeper *plain* nets reach a *higher training error* "
            "than shallower ones (Fig. 1 and 6), so it is not overfitting. With shortcuts, deeper is better. "
            "And with BatchNorm, the plain nets' gradients do not vanish: the trouble is optimisation."
        )
    )
with right:
    st.image(
        svg_words((Path(__file__).parent.parent / "assets" / "residual_block.svg").read_text()),
        caption=_("A residual block (after He et al. 2015, Fig. 2)."),
    )

st.subheader(_("The tools"))
NEXT = [  # (page, what the link says, one line on what is there, the view's URL parameters)
    ("architecture", None, _("build a net of any depth; see its blocks, size and cost beside its plain twin"), {}),
    ("train", None, _("train nets in the background and watch their curves live"), {}),
    ("degradation", None, _("the paper's Fig. 6 in one click: do deeper plain nets train worse here?"), {}),
    ("gradients", None, _("gradient norms layer by layer: do they vanish, with and without BatchNorm?"), {}),
    ("responses", None, _("how strongly each layer responds in trained nets (Fig. 7)"), {}),
    ("explain", None, _("upload an image and see what a trained net looks at (Captum attributions)"), {}),
    ("why", _("Lesion study"), _("delete a block of a trained net: how much worse does it get?"), {"tab": "lesion"}),
    (
        "why",
        _("Loss landscape"),
        _("the loss around the trained weights: smooth or rough, with and without shortcuts?"),
        {"tab": "landscape"},
    ),
    ("why", _("Shattered gradients"), _("nearby inputs' gradients: related, or noise?"), {"tab": "shattered"}),
]
for name, title, text, query in NEXT:
    page_title, icon = title_of(name), PAGES[name][1]
    st.page_link(page(name), label=f"**{title or page_title}** — {text}", icon=icon, query_params=with_language(query))

st.caption(_("Computing on: **{describe_device}**").format(describe_device=say(device_words())))
