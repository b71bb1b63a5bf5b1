"""Architecture: build a residual or plain net of any depth; see its structure, size and cost."""

import pandas as pd
import streamlit as st

import resnet_core as rc
from resnet_core.presentation.diagram import architecture_figure, diagram_svg
from resnet_core.presentation.palette import net_color
from ui.navigation import leave_pages_directory_mode
from ui.spec_state import current_spec, remember_spec, spec_editor
from ui.threads import share_cpu_with_training

leave_pages_directory_mode()  # before anything else: see ui/navigation.py
share_cpu_with_training()  # torch threads beside the runs training here: see ui/threads.py


@st.cache_data(max_entries=64, show_spinner="Building the net…")
def cached_summary(spec: rc.NetSpec) -> rc.NetSummary:
    return rc.summarize(spec)


# Building a diagram is plotly validating hundreds of shapes and annotations: a noticeable part of a second of
# the server's CPU per net, more while a run trains, at every rerun for both nets. Kept per spec
# (the figure is only read: st.plotly_chart copies it), so the twin, a toggle back and a revisit cost nothing.
@st.cache_resource(max_entries=64, show_spinner="Drawing the net…")
def cached_diagram(spec: rc.NetSpec) -> tuple:
    """(the diagram of `spec`'s net, its SVG for the download button)."""
    summary = cached_summary(spec)
    figure = architecture_figure(summary.layout, title=f"{spec.name} · {rc.human_count(summary.params)} params")
    return figure, diagram_svg(figure)


st.title("Architecture")
st.markdown(
    "Pick a net. Every choice below is a field of `NetSpec`; the link in your address bar reproduces it. "
    "The chosen net is drawn on the left and its twin — the same layers with the skip connections "
    "toggled — on the right."
)

spec = spec_editor(current_spec(), key="arch")
remember_spec(spec)
twin = spec.replace(skip=not spec.skip)
chosen, other = cached_summary(spec), cached_summary(twin)

kind = "residual" if spec.skip else "plain"
st.markdown(f"### <span style='color:{net_color(spec.skip)}'>{spec.name}</span> · {kind}", unsafe_allow_html=True)
metrics = st.columns(4)
metrics[0].metric("Parameters", rc.human_count(chosen.params), help=f"{chosen.params:,} trainable numbers")
metrics[1].metric(
    "Multiply-adds",
    rc.human_count(chosen.macs),
    help=f"{chosen.macs:,} multiply-accumulates of convs and fc for one "
    f"{chosen.image_size}×{chosen.image_size} image — what the paper calls FLOPs (Table 1).",
)
metrics[2].metric("Weighted layers", spec.depth)
metrics[3].metric("Residual blocks" if spec.skip else "Blocks (no shortcuts)", chosen.blocks)

st.markdown(
    "**Side by side.** Shortcut arcs: solid = identity, dotted = identity with zero-padded channels "
    "(option A), thick = 1×1 projection. Long stages are folded; hover a box for its module names."
)
cols = st.columns(2, gap="medium")
for col, summary in zip(cols, (chosen, other)):
    with col:
        (figure, svg), name = cached_diagram(summary.spec), f"{summary.spec.name}-diagram"
        # The camera button is the only one: plotly draws the PNG in the browser (no export engine needed).
        st.plotly_chart(
            figure,
            width="stretch",
            key=f"diagram.{summary.spec.skip}",
            config={
                "displaylogo": False,
                "modeBarButtons": [["toImage"]],
                "toImageButtonOptions": {"format": "png", "filename": name, "scale": 2},
            },
        )
        st.download_button(
            "Download as SVG",
            svg,
            file_name=f"{name}.svg",
            mime="image/svg+xml",
            key=f"diagram.svg.{summary.spec.skip}",
            icon=":material/download:",
            help="As PNG: the camera button at the diagram's top right.",
        )

st.markdown(
    f"**Stages of {spec.name}** — output size of each part, channels, blocks, parameters and cost for one image."
)
table = pd.DataFrame(
    [
        {
            "part": r.part,
            "output": r.output_size,
            "channels": r.channels,
            "blocks": str(r.blocks) if r.blocks else "–",
            "parameters": f"{r.params:,}",
            "multiply-adds": rc.human_count(r.macs),
        }
        for r in chosen.rows
    ]
)
st.dataframe(table, hide_index=True, width="stretch", placeholder="—")
if spec.shortcut != "A" and spec.skip:
    extra = chosen.params - other.params
    st.caption(
        f"The projection shortcuts add {extra:,} parameters over the plain twin; with option A the "
        "two "
        "have the same size."
    )
