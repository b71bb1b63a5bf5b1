"""Explain: upload an image and see which pixels a trained net's prediction depends on."""

from pathlib import Path

import numpy as np
import streamlit as st
import torch
from PIL import Image

from resnet_core.analysis import pretrained as pt
from resnet_core.analysis.attributions import METHODS, SIGNS, explain, layer_choices, predict, top_k
from resnet_core.analysis.classifier import Classifier
from resnet_core.data.datasets import sample_test_images
from resnet_core.data.images import EXTENSIONS, FORMAT_NAMES, ImageError, fit_square, open_image, to_uint8_tensor
from resnet_core.data.pixels import to_input
from resnet_core.presentation.explain_figures import (
    SIGN_LABELS,
    MapRow,
    attribution_figure,
    attribution_png,
    image_figure,
    top_k_figure,
)
from resnet_core.presentation.palette import net_color
from resnet_core.presentation.reports import run_label
from resnet_core.presentation.text import markdown_text, plot_text
from resnet_core.store import loading
from resnet_core.store.status import ACTIVE
from resnet_core.studies.reference import is_reference
from ui.navigation import leave_pages_directory_mode, page
from ui.reference import reference_note, runs_view
from ui.spec_state import remember_spec
from ui.threads import share_cpu_with_training

leave_pages_directory_mode()  # before anything else: see ui/navigation.py
share_cpu_with_training()  # torch threads beside the runs training here: see ui/threads.py

SAMPLES = Path(__file__).resolve().parent.parent / "assets" / "samples"
IMAGENET = "imagenet:"  # prefix of the ImageNet models' keys in the model picker
# Waiting for an upload (or after one it cannot read) the page used to stop before its controls: the browser
# dropped them, forgetting their values, while the server kept them, so back they showed their defaults beside
# a figure drawn from the kept values (issue 15.9). The controls are drawn whatever the image now, and "page"
# keeps a value while its widget is hidden (another source's picker) and tells the browser to show it.
KEEP = "page"


@st.cache_resource(max_entries=6, show_spinner="Loading the trained net and its dataset…")
def load_run(root: str, run_id: str, _store):
    """(Classifier, a few test images (n, 3, S, S) uint8, their labels) of a completed run of the store
    `_store` (the user's or the reference runs'), whose folder is `root`."""
    store = _store
    run = store.get(run_id)
    data = loading.run_dataset(run)
    images, labels = sample_test_images(data, n=min(20, len(data.test_labels)))
    return loading.classifier_from_run(store, run, data), images, labels.tolist()


@st.cache_resource(max_entries=2, show_spinner="Loading the ImageNet weights…")
def load_imagenet(name: str) -> Classifier:
    return pt.load_pretrained(name)


@st.cache_data(max_entries=256, show_spinner=False)
def attribution(model_key: str, _clf: Classifier, pixels: np.ndarray, method: str, target, options: dict):
    x = to_input(torch.from_numpy(pixels), _clf.mean, _clf.std)
    return explain(_clf.net, x, method, target=target, **options)


st.title("Explain")
st.markdown(
    "Pick a trained net and an image, and see **which pixels its prediction depends on**. Each method "
    "below answers that question differently; where they agree, you can trust the answer more."
)

store = runs_view("explain")  # the user's runs and, unless hidden in the sidebar, the reference runs
runs = {r.id: r for r in reversed(store.list(["completed"]))}
if not runs:
    st.info(
        "No trained net yet. Train one on the **Train** page (a ResNet-8 on 1,000 *shapes* images takes "
        "about a minute on a CPU); it appears here when it completes. Meanwhile you can explain photos "
        "with an ImageNet ResNet below, once its weights are downloaded."
    )
    st.page_link(page("train"), label="Train a net", icon=":material/model_training:")
choices = list(runs) + [IMAGENET + name for name in pt.PRETRAINED]


def describe(key: str) -> str:
    if key.startswith(IMAGENET):
        name = key.removeprefix(IMAGENET)
        return f"{pt.label(name)}{'' if pt.is_cached(name) else ' — not downloaded'}"
    error = loading.final_test_error(store, runs[key])
    tested = f" · test error {100 * error:.1f}%" if error is not None else ""
    return f"{run_label(runs[key])} · {runs[key].dataset}{tested}"


key = st.selectbox("Model", choices, format_func=describe, key="explain.model")
if key.startswith(IMAGENET):
    name = key.removeprefix(IMAGENET)
    if not pt.is_cached(name):
        st.warning(pt.offline_message(name))
        if st.button(f"Download the {pt.label(name)} weights", key="explain.download"):
            try:
                with st.spinner("Downloading…"):
                    pt.download(name)
                st.rerun()
            except pt.PretrainedUnavailable as err:
                st.error(str(err))
        st.stop()
    run, clf, test_images = None, load_imagenet(name), None
    st.caption(
        f"torchvision's ImageNet weights: {len(clf.classes)} classes, top-1 accuracy "
        f"{pt.imagenet_accuracy(name)}% on ImageNet's validation set. It sees {clf.input_size}×"
        f"{clf.input_size} images (shorter side resized to {clf.resize_size}, centre crop)."
    )
else:
    run = runs[key]
    try:
        home = store.store_of(run)
        clf, test_images, test_labels = load_run(str(home.root.resolve()), run.id, home)
    except Exception as err:  # a missing checkpoint or dataset: say so, keep the page alive
        st.error(f"This run cannot be loaded: {type(err).__name__}: {markdown_text(err)}")
        st.stop()
    spec, error = run.spec, loading.final_test_error(store, run)
    epochs = len(store.epochs(run.id))
    error_text = f" · final test error **{100 * error:.1f}%**" if error is not None else ""
    st.markdown(
        f"<span style='color:{net_color(spec.skip)}'>**{spec.name}**</span> · "
        f"{'residual' if spec.skip else 'plain'} · trained {epochs} epoch{'s' if epochs != 1 else ''} on "
        f"{run.config.train_size or 'all'} {markdown_text(run.dataset)} images{error_text}",
        unsafe_allow_html=True,
    )  # the markup is ours; the stored dataset name is escaped
    st.caption(
        f"{spec.block} blocks · shortcut {spec.shortcut if spec.skip else 'none'} · norm {spec.norm} · "
        f"{spec.activation} · width {spec.stage_widths[0]} · {'pre-activation · ' if spec.preact else ''}"
        f"run {run.id}"
    )
    reference_note(store, [run])

# --- the image --------------------------------------------------------------------------------------
sources = ["Sample", "Upload"] if run is None else ["Test image", "Sample", "Upload"]
source = st.radio("Image", sources, horizontal=True, key=f"explain.source.{run is None}", persist_state=KEEP)
true_class = None  # known for the dataset's test images
if source == "Upload":
    upload = st.file_uploader(
        f"An image: {FORMAT_NAMES} (a GIF's first frame), up to 10 MB", type=list(EXTENSIONS), key="explain.upload"
    )
    image = None  # until a file comes; the controls below are drawn all the same (see KEEP)
    if upload is None:
        st.info("Upload an image to explain (or pick another source above).")
    else:
        try:
            image, image_name = open_image(upload.getvalue()), Path(upload.name).stem
        except ImageError as err:
            st.error(f"**{markdown_text(upload.name)}**: {markdown_text(err)}")  # a file's name is text
elif source == "Test image":
    index = st.selectbox(
        "Test image",
        range(len(test_labels)),
        key="explain.test",
        persist_state=KEEP,
        format_func=lambda i: f"{clf.classes[test_labels[i]]} (test image {i + 1})",
    )
    image = Image.fromarray(test_images[index].permute(1, 2, 0).numpy())
    image_name = f"test-{index + 1}-{clf.classes[test_labels[index]]}"
    true_class = clf.classes[test_labels[index]]
else:
    files = sorted(SAMPLES.glob("*.png"))
    path = st.selectbox(
        "Sample", files, format_func=lambda p: p.stem.replace("-", ": ", 1), key="explain.sample", persist_state=KEEP
    )
    image, image_name = open_image(path.read_bytes()), path.stem

if image is not None:  # the image as the nets see it, and their predictions
    fitted = fit_square(image, clf.input_size, clf.resize_size)
    pixels = to_uint8_tensor(fitted).numpy()  # (3, S, S): the cache key of every attribution
    shown = np.asarray(fitted)  # (S, S, 3)
    x = to_input(to_uint8_tensor(fitted), clf.mean, clf.std)
    probs = predict(clf.net, x)[0]

    # --- twins: the same image on the plain and the residual net ---------------------------------------
    nets = [(key, clf)]
    # A reference run's twin is a reference run, a user run's twin the user's (each pair trained together).
    twin = None
    if run is not None:
        twin = loading.find_twin(
            store, run, among=[r for r in store.list(["completed"]) if is_reference(r) == is_reference(run)]
        )
    if twin is not None:
        try:
            nets.append((twin.id, load_run(str(store.store_of(twin).root.resolve()), twin.id, store.store_of(twin))[0]))
            nets.sort(key=lambda n: n[1].skip)  # plain first, as in the paper's figures
        except Exception as err:
            st.warning(f"The twin run {twin.id} cannot be loaded: {type(err).__name__}: {markdown_text(err)}")
    nets_probs = [
        (k, c, probs if k == key else predict(c.net, to_input(to_uint8_tensor(fitted), c.mean, c.std))[0])
        for k, c in nets
    ]

    cols = st.columns([1] + [1.3] * len(nets), gap="medium")
    seen = f"As the net sees it: {clf.input_size}×{clf.input_size}"
    seen += f"<br><sup>true class: {plot_text(true_class)}</sup>" if true_class else ""
    cols[0].plotly_chart(
        image_figure(shown, seen), width="stretch", config={"displayModeBar": False}, key="explain.input"
    )
    for col, (k, c, p) in zip(cols[1:], nets_probs):
        col.plotly_chart(
            top_k_figure(top_k(p, c.classes), net_color(c.skip), f"Top-5 predictions · {plot_text(c.name)}"),
            width="stretch",
            config={"displayModeBar": False},
            key=f"explain.top5.{k}",
        )
    st.caption(
        "Left: the image resized (and centre-cropped) to the net's input size. Right: the net's five most "
        "probable classes, in percent (softmax of its output)."
    )


# --- methods and display ------------------------------------------------------------------------------
default = ["integrated_gradients", "gradcam", "saliency"] if run is not None else ["gradcam", "saliency"]
methods = st.multiselect(
    "Methods",
    list(METHODS),
    default=default,
    format_func=lambda m: METHODS[m].label,
    key=f"explain.methods.{run is None}",
    persist_state=KEEP,
)
with st.expander("Method settings"):
    c = st.columns(4)  # one column per method with settings
    options = {
        "integrated_gradients": {
            "n_steps": c[0].slider(
                "Integrated gradients: steps", 10, 200, 50, 10, key="explain.steps", persist_state=KEEP
            )
        },
        "smoothgrad": {
            "nt_samples": c[1].slider(
                "SmoothGrad: noisy samples", 5, 50, 25, 5, key="explain.samples", persist_state=KEEP
            ),
            "noise_level": c[1].slider(
                "SmoothGrad: noise (fraction of the range)",
                0.05,
                0.5,
                0.15,
                0.05,
                key="explain.noise",
                persist_state=KEEP,
            ),
        },
        "gradcam": {
            "layer": c[2].selectbox(
                "Grad-CAM layer", layer_choices(clf.net), key=f"explain.layer.{key}", persist_state=KEEP
            )
        },
        "occlusion": {
            "window": c[3].slider(
                "Occlusion: window (pixels)",
                2,
                clf.input_size // 2,
                max(2, clf.input_size // 4),
                key=f"explain.window.{clf.input_size}",
                persist_state=KEEP,
            )
        },
    }
    if clf.input_size > 64:
        st.caption(
            "On a CPU, integrated gradients, SmoothGrad and occlusion take several seconds on a 224×224 "
            "image; Grad-CAM and saliency are fast."
        )
controls = st.columns([2, 3, 3])
explain_class = controls[0].selectbox(
    "Explain the class",
    ["predicted"] + list(clf.classes),
    key=f"explain.class.{key}",
    persist_state=KEEP,
    format_func=lambda n: "the predicted class" if n == "predicted" else n,
)
sign = controls[1].radio(
    "Sign", SIGNS, index=1, horizontal=True, format_func=SIGN_LABELS.get, key="explain.sign", persist_state=KEEP
)
opacity = controls[2].slider("Map opacity", 0.0, 1.0, 0.7, 0.05, key="explain.opacity", persist_state=KEEP)
if image is None:  # waiting for an upload, or it could not be read (said above)
    st.stop()
if not methods:
    st.info("Choose at least one method.")
    st.stop()

target = None if explain_class == "predicted" else clf.classes.index(explain_class)
rows, notes = [], []
with st.spinner("Computing attributions…"):
    for k, net_clf, net_probs in nets_probs:
        shown_class = net_clf.classes[int(net_probs.argmax()) if target is None else target]
        row = MapRow(f"{net_clf.name}\n“{shown_class}”", net_color(net_clf.skip))
        for method in methods:
            try:
                a = attribution(f"{store.root}/{k}", net_clf, pixels, method, target, options.get(method, {}))
            except ValueError as err:
                st.warning(f"{METHODS[method].label} on {markdown_text(net_clf.name)}: {markdown_text(err)}")
                continue
            row.maps[METHODS[method].label] = a.heatmaps(sign)[0]
            if a.delta is not None:
                notes.append(f"{markdown_text(net_clf.name)} {abs(float(a.delta[0])):.1e}")
        rows.append(row)
rows = [r for r in rows if r.maps]
if rows:
    explained = (
        f"the class “{explain_class}”"
        if target is not None
        else "each net's predicted class"
        if len(rows) > 1
        else "its predicted class"
    )
    title = f"What the {'nets look' if len(rows) > 1 else 'net looks'} at, explaining {explained}"
    st.plotly_chart(
        attribution_figure(shown, rows, sign, opacity, title),
        width="stretch",
        config={"displayModeBar": False},
        key="explain.maps",
    )
    st.markdown("\n".join(f"- **{METHODS[m].label}** — {METHODS[m].summary}" for m in methods))
    deltas = (
        f" Integrated gradients' convergence error (logit units; more steps shrink it): {', '.join(notes)}."
        if notes
        else ""
    )
    st.caption(
        "Each map is scaled to its own 98th percentile, so compare *where* the maps look, not how strongly." + deltas
    )
    st.download_button(
        "Download the figure (PNG)",
        attribution_png(shown, rows, sign, opacity, title),
        file_name=f"explain-{image_name}.png",
        mime="image/png",
        key="explain.png",
    )

pending = loading.find_twin(store, run, statuses=ACTIVE) if run is not None and twin is None else None
if pending is not None:
    kind = "residual" if not run.spec.skip else "plain"
    st.info(
        f"The {kind} twin ({markdown_text(pending.name)}, {pending.id}) is {pending.status}: it appears here "
        "side by side "
        "once it completes."
    )
elif run is not None and twin is None:
    kind = "residual" if not run.spec.skip else "plain"
    st.info(
        f"To compare with the {kind} twin on the same image, train it: on the **Train** page pick the same "
        f"net and dataset ({run.dataset}) and press **Train plain + residual twins** (or toggle *Skip "
        f"connections*). It appears here side by side once it completes."
    )
    if st.button(f"Set up the {kind} twin on the Train page", icon=":material/model_training:", key="explain.twin"):
        remember_spec(run.spec.replace(skip=not run.spec.skip))
        st.switch_page(page("train"))
