"""Architecture: build a residual or plain net of any depth; see its structure, size and cost."""

import streamlit as st

from resnet_core.presentation.i18n import _
from resnet_core.presentation.palette import net_color
from ui.language import use_language
from ui.navigation import leave_pages_directory_mode
from ui.spec_state import current_spec, remember_spec, spec_editor
from ui.threads import share_cpu_with_training
from ui.view_state import presenting
from ui.views.architecture import twins_view
from ui.views.render import show_drawing

leave_pages_directory_mode()  # before anything else: see ui/navigation.py
use_language()  # the words of this run: see ui/language.py
share_cpu_with_training()  # torch threads beside the runs training here: see ui/threads.py

present = presenting()
st.title(_("Architecture"))
if not present:
    st.markdown(
        _(
            "Pick a net. Every choice below is a field of `NetSpec`; the link in your address bar reproduces it. "
            "The chosen net is drawn on the left and its twin — the same layers with the skip connections "
            "toggled — on the right."
        )
    )
    spec = spec_editor(current_spec(), key="arch")
    remember_spec(spec)
else:
    spec = current_spec()  # the link's net, no controls

view = twins_view(spec)
kind = _("residual") if spec.skip else _("plain")
st.markdown(f"### <span style='color:{net_color(spec.skip)}'>{spec.name}</span> · {kind}", unsafe_allow_html=True)
for col, (label, value, help_text) in zip(st.columns(len(view.metrics)), view.metrics):
    col.metric(label, value, help=help_text or None)

st.markdown(_("**Side by side.** {caption}").format(caption=view.caption))
for col, (net, svg) in zip(st.columns(2, gap="medium"), view.diagrams):
    with col:
        name = f"{net.name}-diagram"
        show_drawing(
            svg,
            key=f"diagram.{net.skip}",
            label=_("Diagram of {name}").format(name=net.name),
            png_label=None if present else _("Download as PNG"),
            filename=name,
        )
        if not present:
            st.download_button(
                _("Download as SVG"),
                svg,
                file_name=f"{name}.svg",
                mime="image/svg+xml",
                key=f"diagram.svg.{net.skip}",
                icon=":material/download:",
            )

st.markdown(
    _("**Stages of {name}** — output size of each part, channels, blocks, parameters and cost for one image.").format(
        name=spec.name
    )
)
# A static table: five rows to read, nothing to scroll or sort, and no data-grid code for the browser to load on
# this page's first open (BENCHMARKS.md, "First open…").
st.table(view.table, hide_index=True)
for note in view.notes:
    st.caption(note)
