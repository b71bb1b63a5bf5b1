"""Responses: how strongly each 3×3 layer responds in trained nets, as in the paper's Fig. 7."""

import numpy as np
import streamlit as st

from resnet_core.analysis.explorer import fig7_findings
from resnet_core.model.net import layout_of
from resnet_core.presentation.charts import LayerSeries, responses_figure
from resnet_core.presentation.palette import shade
from resnet_core.presentation.reports import run_label
from ui.navigation import leave_pages_directory_mode
from ui.reference import reference_note, runs_view
from ui.runs import selected_ids

leave_pages_directory_mode()  # before anything else: see ui/navigation.py

st.title("Responses")
st.markdown(
    "A residual block only has to learn what to *add* to its input. If identity is close to the best it can do, "
    "its layers should respond weakly. The paper measured this (Fig. 7): the standard deviation of each 3×3 "
    "layer's output — after BN, before the ReLU or the addition — on the test set."
)
store = runs_view("responses")  # the user's runs and, unless hidden in the sidebar, the reference runs
recorded = store.runs_with_probe("responses")
runs = [r for r in store.list() if r.id in recorded]
if not runs:
    st.info(
        "No run has finished an epoch yet. Train a few nets on the Train page — e.g. plain and residual "
        "twins at 20 and 56 layers — and come back: the trainer measures responses after every epoch."
    )
    st.stop()

by_id = {r.id: r for r in runs}
preferred = [i for i in selected_ids() if i in by_id] or [r.id for r in runs if r.status == "completed"][-5:]
chosen = st.multiselect(
    "Runs",
    list(reversed(by_id)),
    default=preferred or list(by_id)[-1:],
    format_func=lambda i: f"{run_label(by_id[i])} · {by_id[i].status} · {i}",
    key="resp.runs",
)
if not chosen:
    st.info("Choose one or more runs above.")
    st.stop()

reference_note(store, [by_id[i] for i in chosen])
records = {i: store.probe(i, "responses") for i in chosen}  # (names, epochs, values (E, layers))
last_epoch = max(int(r[1].max()) for r in records.values())
epoch = (
    last_epoch
    if last_epoch == 1
    else st.slider(
        "Epoch",
        1,
        last_epoch,
        last_epoch,
        key="resp.epoch",
        help="Responses after this epoch (a run that has not reached it shows its latest).",
    )
)

series, means = [], {}
for skip in (False, True):
    group = sorted((i for i in chosen if by_id[i].spec.skip == skip), key=lambda i: by_id[i].spec.depth)
    for k, run_id in enumerate(group):
        names, epochs, values = records[run_id]
        row = int(np.searchsorted(epochs, epoch, side="right")) - 1
        row = max(row, 0)
        label = f"{run_label(by_id[run_id])} (epoch {epochs[row]})"
        series.append(
            LayerSeries(
                label,
                shade(skip, k, len(group)),
                names,
                values[row],
                layout_of(by_id[run_id].spec).layer_indices(names),
                dash="solid" if skip else "dash",
            )
        )
        means[by_id[run_id].spec] = values[row]  # per layer: the verdicts resample the layers

st.plotly_chart(responses_figure(series), width="stretch", key="resp.chart")
shown = sorted({(by_id[i].spec.depth, len(records[i][0])) for i in chosen})
counts = "; ".join(f"{n} of the {depth} layers of a {depth}-layer net" for depth, n in shown)
st.caption(
    "Blue: ResNets (solid), orange: plain nets (dashed); darker = deeper. Measured on fixed test images "
    "with the net in evaluation mode. Compare nets trained on the same data for the same time. "
    f"Each line has a point per 3×3 conv ({counts}), at the layer's number in the Architecture diagram; "
    "1×1 convs and the fc layer have no Fig. 7 response."
)

st.subheader("What the paper found, and what your runs show")
st.markdown(
    "He et al. (§4.2): *ResNets have generally smaller responses than their plain counterparts*, and *the "
    "deeper ResNet has smaller magnitudes of responses* — the residual functions stay close to zero."
)
findings = fig7_findings(means)
if not findings:
    st.info("To compare, show a plain net with its residual twin, or two ResNets that differ only in depth.")
for agrees, sentence in findings:
    if agrees is None:
        st.info("Too close to call: " + sentence.replace(" — too close to call:", " —", 1) + " (mean std over layers).")
    else:
        (st.success if agrees else st.warning)(
            ("Agrees: " if agrees else "Does not agree: ") + sentence + " (mean std over layers)."
        )
