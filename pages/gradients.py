"""Gradients: per-layer gradient norms at initialisation (plain vs residual) and during training runs."""

import numpy as np
import streamlit as st

import resnet_core as rc
from resnet_core.analysis.explorer import (
    NORM_WORDS,
    aggregate_grid,
    compare_scales,
    describe_profile,
    explain_init_profiles,
    init_gradient_profile,
    probe_batch,
)
from resnet_core.model.net import layout_of
from resnet_core.presentation.charts import LayerSeries, gradient_heatmap_figure, layer_profile_figure
from resnet_core.presentation.palette import net_color
from resnet_core.presentation.reports import run_label
from resnet_core.store.loading import find_twin
from resnet_core.studies.reference import is_reference
from ui.data import shapes
from ui.navigation import leave_pages_directory_mode, page
from ui.reference import reference_note, runs_view
from ui.spec_state import NORM_LABELS
from ui.threads import share_cpu_with_training

leave_pages_directory_mode()  # before anything else: see ui/navigation.py
share_cpu_with_training()  # torch threads beside the runs training here: see ui/threads.py

st.title("Gradients")
st.markdown(
    "How large is each layer's gradient? If gradients *vanished* toward the input, the first layers could not "
    "learn. The paper's point (§4.1) is subtle: with BatchNorm they do **not** vanish, even in deep plain nets — "
    "and yet those nets train worse."
)
at_init, during = st.tabs(["At initialisation", "During training"])


@st.cache_data(max_entries=32, show_spinner="Computing gradients of a fresh net…")
def profiles(depth: int, norm: str, activation: str, preact: bool, batch_size: int) -> list:
    images, labels = probe_batch(shapes(), batch_size)
    spec = rc.NetSpec(depth=depth, norm=norm, activation=activation, preact=preact)
    return [init_gradient_profile(spec.replace(skip=skip), images, labels) for skip in (True, False)]


def ratio_text(ratio: float) -> str:
    if not np.isfinite(ratio):
        return "∞ (overflow)"
    return "≈ 0 (underflow)" if ratio == 0 else f"{ratio:.3g}"


with at_init:
    cols = st.columns([3, 1.4], gap="large") + st.columns(3)  # two rows: at 1024 px one cut the labels
    depth = cols[0].select_slider("Depth", rc.valid_depths("basic", "cifar", 1202), value=56, key="grad.depth")
    norm = cols[2].selectbox("Normalisation", rc.NORMS, format_func=NORM_LABELS.get, key="grad.norm")
    activation = cols[3].selectbox("Activation", rc.ACTIVATIONS, key="grad.activation")
    batch_size = cols[4].selectbox("Batch size", [16, 32, 64, 128], index=2, key="grad.batch")
    preact = cols[1].toggle(
        "Pre-activation",
        key="grad.preact",
        help="He et al. 2016: BN and activation before each conv, nothing after the addition, "
        "so the shortcut path is a clean identity from block to block.",
    )
    shown = (
        st.segmented_control(
            "Nets shown",
            ["residual", "plain"],
            selection_mode="multi",
            default=["residual", "plain"],
            key="grad.shown",
            help="Skip connections on (residual), off (plain), or both overlaid.",
        )
        or []
    )
    residual, plain = profiles(depth, norm, activation, preact, batch_size)
    lines = {
        kind: LayerSeries(p.spec.name, net_color(p.spec.skip), p.names, p.norms, p.indices)
        for kind, p in (("residual", residual), ("plain", plain))
    }
    chart, text = st.columns([3, 1.5], gap="large")
    chart.plotly_chart(
        layer_profile_figure(
            [lines[k] for k in ("residual", "plain") if k in shown],
            title=f"Gradient norm per layer at initialisation ({NORM_WORDS[norm]}, {activation})",
            y_title="‖∇W‖ (L2 norm of the weight gradient)",
        ),
        width="stretch",
        key="grad.init.chart",
    )
    chart.caption(
        f"One batch of {batch_size} images from the embedded dataset; mean cross-entropy loss; "
        + (
            "BatchNorm in training mode (the batch's statistics), as in the first training step. "
            if norm == "batch"
            else "no normalisation layers. "
        )
        + "Log scale."
    )
    with text:
        st.metric(
            "ResNet: first ÷ last layer",
            ratio_text(residual.first_last_ratio),
            help="‖∇W‖ of the first conv divided by that of the final fc layer.",
        )
        st.metric("plain: first ÷ last layer", ratio_text(plain.first_last_ratio))
        for paragraph in explain_init_profiles(residual, plain):
            st.markdown(paragraph)
        if norm == "batch":
            st.page_link(page("degradation"), label="See degradation happen", icon=":material/stacked_line_chart:")

with during:
    store = runs_view("gradients")  # the user's runs and, unless hidden in the sidebar, the reference runs
    recorded = store.runs_with_probe("grad_norms")
    runs = [r for r in store.list() if r.id in recorded]
    if not runs:
        st.info(
            "No run has recorded gradients yet. Start one on the Train page; the trainer records every "
            "layer's gradient norm every few steps."
        )
        st.stop()
    by_id = {r.id: r for r in runs}
    labels = {r.id: f"{run_label(r)} · {r.status} · {r.id}" for r in runs}
    ids = list(reversed(by_id))
    first = st.selectbox("Run", ids, format_func=labels.get, key="grad.run")
    same_source = [r for r in runs if is_reference(r) == is_reference(by_id[first])]  # reference twins reference
    twin = getattr(find_twin(store, by_id[first], statuses=None, among=same_source), "id", None)
    options = [None] + [i for i in ids if i != first]
    second = st.selectbox(
        "Compare with",
        options,
        index=options.index(twin) if twin else 0,
        format_func=lambda i: "—" if i is None else labels[i],
        key=f"grad.compare.{first}",
        help="Defaults to the run's twin (same net, skip connections toggled, created together "
        "with it or trained the same way) when there is one.",
    )
    shown = [i for i in (first, second) if i]
    reference_note(store, [by_id[i] for i in shown])
    data = {}
    for run_id in shown:
        names, positions, values = store.probe(run_id, "grad_norms")
        weighted = set(layout_of(by_id[run_id].spec).weighted_layers)  # as `depth` counts: no projections
        keep = [i for i, n in enumerate(names) if n in weighted]
        data[run_id] = ([names[i] for i in keep], positions, values[:, keep])
    grids = {i: aggregate_grid(v) for i, (_, _, v) in data.items()}
    lo = min(float(g[0].min()) for g in grids.values())
    hi = max(float(g[0].max()) for g in grids.values())
    st.markdown(
        "**Gradient norm of every layer over training** — one shared colour scale, so colours compare "
        "across the two runs. Long runs and deep nets are averaged into at most 300 × 300 cells."
    )
    for col, run_id in zip(st.columns(len(shown)), shown):
        names, positions, _ = data[run_id]
        grid, col_starts, row_starts = grids[run_id]
        col.plotly_chart(
            gradient_heatmap_figure(grid, positions[col_starts], row_starts, names, (lo, hi), run_label(by_id[run_id])),
            width="stretch",
            key=f"heat.{run_id}",
        )
    steps = sorted(set(np.concatenate([data[i][1] for i in shown]).tolist()))
    step = st.select_slider("Step", steps, value=steps[0], key=f"grad.step.{first}.{second}")
    series = []
    for run_id in shown:
        names, positions, values = data[run_id]
        row = int(np.argmin(np.abs(positions - step)))
        color = net_color(by_id[run_id].spec.skip)
        series.append(
            LayerSeries(
                f"{run_label(by_id[run_id])} @ step {positions[row]}",
                color,
                names,
                values[row],
                layout_of(by_id[run_id].spec).layer_indices(names),
            )
        )
    st.plotly_chart(
        layer_profile_figure(
            series, f"Per-layer gradient norm near step {step}", "‖∇W‖ (L2 norm of the weight gradient)"
        ),
        width="stretch",
        key="grad.step",
    )
    st.caption("Norms of each training step's own mini-batch gradient (before weight decay), recorded by the trainer.")
    drawn = [(s.label, by_id[i].spec, s.values) for s, i in zip(series, shown)]
    st.markdown(
        " ".join([describe_profile(label, values) for label, _, values in drawn] + [compare_scales(drawn) or ""])
    )
