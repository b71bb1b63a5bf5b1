"""The Explain page's parts: the model and its header, the image, the predictions of the net and its twin,
the method controls, and the attribution maps. Which model, image, methods and class are in the URL
(`url_state`), so a link reproduces the view (uploads excepted: a file is not in a link)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch
from PIL import Image

from resnet_core.analysis import pretrained as pt
from resnet_core.analysis.attributions import METHODS, SIGNS, explain, layer_choices, predict, top_k
from resnet_core.analysis.classifier import Classifier
from resnet_core.analysis.familiarity import FamiliarityModel
from resnet_core.data.datasets import sample_test_images
from resnet_core.data.images import EXTENSIONS, FORMAT_NAMES, ImageError, fit_square, open_image, to_uint8_tensor
from resnet_core.data.pixels import to_input
from resnet_core.presentation import why_text
from resnet_core.presentation.describe import epochs as describe_epochs
from resnet_core.presentation.describe import number, percent
from resnet_core.presentation.explain_figures import (
    SIGN_LABELS,
    MapRow,
    attribution_figure,
    attribution_png,
    image_figure,
    top_k_figure,
)
from resnet_core.presentation.explain_text import familiarity_note
from resnet_core.presentation.i18n import N_, _, both, ngettext, say
from resnet_core.presentation.palette import net_color
from resnet_core.presentation.reports import run_label
from resnet_core.presentation.spec_words import class_name, spec_words
from resnet_core.presentation.text import markdown_text, plot_text
from resnet_core.store import loading
from resnet_core.store.run_store import runs_dir
from resnet_core.store.status import ACTIVE
from resnet_core.studies.pairs import informative_pair
from resnet_core.studies.reference import is_reference
from ui.language import spinning
from ui.navigation import page
from ui.reference import reference_note, reference_store
from ui.spec_state import remember_spec
from ui.view_state import Param, ViewState
from ui.views.render import show_chart, show_verdict
from ui.views.why import instead, net_facts

SAMPLES = Path(__file__).resolve().parent.parent.parent / "assets" / "samples"
IMAGENET = "imagenet:"  # prefix of the ImageNet models' keys in the model picker
# The image source's choices: English msgids, which are also the values in session state and the URL
# (?image=Upload), shown translated (format_func=_), so a link and a switch of language keep the choice.
SOURCES = {"test": N_("Test image"), "sample": N_("Sample"), "upload": N_("Upload")}
# Waiting for an upload (or after one it cannot read) the page used to stop before its controls: the browser
# dropped them, forgetting their values, while the server kept them, so back they showed their defaults beside
# a figure drawn from the kept values. The controls are drawn whatever the image now, and "page" keeps a value
# while its widget is hidden (another source's picker) and tells the browser to show it.
KEEP = "page"


@spinning(N_("Loading the trained net and its dataset…"))
@st.cache_resource(max_entries=6, show_spinner=False)
def load_run(root: str, run_id: str, _store):
    """(Classifier, a few test images (n, 3, S, S) uint8, their labels) of a completed run of the store
    `_store` (the user's or the reference runs'), whose folder is `root`."""
    run = _store.get(run_id)
    data = loading.run_dataset(run)
    images, labels = sample_test_images(data, n=min(20, len(data.test_labels)))
    return loading.classifier_from_run(_store, run, data), images, labels.tolist()


def model_key(root, key: str) -> str:
    """What names a net in the attributions' cache: the runs folder the page reads and the picker's key."""
    return f"{root}/{key}"


def warm() -> None:
    """The view this page opens on when the visitor has no pair of their own that learned — the reference
    pair, its first test image, the default methods — computed ahead of the first open into the caches the
    page reads, and each net run once on that image (ui/warm.py's background thread: the page's own
    functions)."""
    store = reference_store()
    pair = informative_pair(store)[0] if store is not None else None
    if store is None or pair is None:
        return
    home = str(store.root.resolve())
    nets = [(run, *load_run(home, run.id, store)) for run in pair]
    run, clf, test_images, test_labels = nets[1]  # the page's default: the pair's plain net (model_choices)
    state = url_state(run.id, run, clf, len(test_labels))
    default = {name: param.default for name, param in state.params.items()}
    fitted, pixels = net_pixels(clf, test_picture(clf, test_images, test_labels, default["test"]).image)
    options, root = method_options(default.get), runs_dir().resolve()  # root: the user's folder, as the page's
    for net_run, net_clf, _images, _labels in nets:
        key = model_key(root, net_run.id)
        probabilities(key, net_clf, pixels)
        for method in default["methods"]:
            attribution(key, net_clf, pixels, method, None, options.get(method, {}))


# What the familiarity measure is fitted on (analysis/familiarity.py): enough for the dimensions it has (the
# stage widths' sum), few enough to fit in seconds on a CPU, once per net and server.
FAMILIARITY_IMAGES = {"train": 1000, "test": 500}


@spinning(N_("Measuring how like its training images this image is (once per net)…"))
@st.cache_resource(max_entries=6, show_spinner=False)
def familiarity_model(root: str, run_id: str, _store) -> FamiliarityModel:
    """The run's familiarity measure, fitted on a seeded subset of its training images and calibrated on
    one of its test images (the same each time, so a link's view says the same)."""
    run = _store.get(run_id)
    data = loading.run_dataset(run)
    clf = load_run(root, run_id, _store)[0]
    generator = torch.Generator().manual_seed(0)
    train = torch.randperm(len(data.train_labels), generator=generator)[: FAMILIARITY_IMAGES["train"]]
    test = torch.randperm(len(data.test_labels), generator=generator)[: FAMILIARITY_IMAGES["test"]]
    return FamiliarityModel.fit(
        clf.net, clf.mean, clf.std, data.train_images[train], data.train_labels[train], data.test_images[test]
    )


def familiarity(store, run, clf: Classifier, pixels: np.ndarray) -> None:
    """Whether an image that is not one of the net's test images is like its training images: a warning
    when it is not, with the classes the net knows (every label it gives is one of them)."""
    try:
        home = store.store_of(run)
        model = familiarity_model(str(home.root.resolve()), run.id, home)
        fam = model.assess(torch.from_numpy(pixels))
    except Exception as err:  # a dataset gone since training: the predictions stand, without this note
        st.caption(
            _("How like its training images this image is cannot be measured: {name}: {err}").format(
                name=type(err).__name__, err=markdown_text(say(err))
            )
        )
        return
    unlike, text = familiarity_note(fam, run.spec.name, run.dataset, clf.classes)
    if unlike:
        st.warning(text, icon=":material/help:")
    else:
        st.caption(text)


@spinning(N_("Loading the ImageNet weights…"))
@st.cache_resource(max_entries=2, show_spinner=False)
def load_imagenet(name: str) -> Classifier:
    return pt.load_pretrained(name)


@st.cache_data(max_entries=256, show_spinner=False)
def attribution(model_key: str, _clf: Classifier, pixels: np.ndarray, method: str, target, options: dict):
    x = to_input(torch.from_numpy(pixels), _clf.mean, _clf.std)
    return explain(_clf.net, x, method, target=target, **options)


def sample_files() -> list[str]:
    return sorted(p.stem for p in SAMPLES.glob("*.png"))


def model_choices(store) -> tuple[dict, list[str], str, str]:
    """(completed runs by id, the picker's keys, the one to open on, why): the plain net of the most
    informative pair (studies/pairs.informative_pair: shown beside its ResNet twin), else the newest run."""
    runs = {r.id: r for r in reversed(store.list(["completed"]))}
    choices = list(runs) + [IMAGENET + name for name in pt.PRETRAINED]
    pair, why = informative_pair(store)
    why = _(why)  # studies/pairs.py says it in English; presentation/library_words.py marks it
    if pair is not None:
        return runs, choices, pair[1].id, why
    return runs, choices, choices[0], ""


def describe_choice(store, runs: dict, key: str) -> str:
    if key.startswith(IMAGENET):
        name = key.removeprefix(IMAGENET)
        return pt.label(name) if pt.is_cached(name) else _("{label} — not downloaded").format(label=pt.label(name))
    error = loading.final_test_error(store, runs[key])
    tested = _(" · test error {percent}").format(percent=percent(error)) if error is not None else ""
    return f"{run_label(runs[key])} · {runs[key].dataset}{tested}"


def imagenet_model(name: str) -> Classifier:
    """The ImageNet net (downloading its weights on request) and what it is; stops the page until the
    weights are here."""
    if not pt.is_cached(name):
        st.warning(say(pt.offline_words(name)))
        if st.button(_("Download the {label} weights").format(label=pt.label(name)), key="explain.download"):
            try:
                with st.spinner(_("Downloading…")):
                    pt.download(name)
                st.rerun()
            except pt.PretrainedUnavailable as err:
                st.error(markdown_text(say(err)))  # it quotes the network's own message: text, not Markdown
        st.stop()
    clf = load_imagenet(name)
    st.caption(
        _(
            "torchvision's ImageNet weights: {n} classes, top-1 accuracy {imagenet_accuracy}% on "
            "ImageNet's validation set. It sees {input_size}×{input_size} images (shorter side "
            "resized to {resize_size}, centre crop)."
        ).format(
            n=len(clf.classes),
            imagenet_accuracy=pt.imagenet_accuracy(name),
            input_size=clf.input_size,
            resize_size=clf.resize_size,
        )
    )
    return clf


def run_model(store, run):
    """(Classifier, test images, labels) of a trained run, with a line saying what it is; stops the page
    with a message when it cannot be loaded."""
    try:
        home = store.store_of(run)
        loaded = load_run(str(home.root.resolve()), run.id, home)
    except Exception as err:  # a missing checkpoint or dataset: say so, keep the page alive
        st.error(
            _("This run cannot be loaded: {name}: {err}").format(name=type(err).__name__, err=markdown_text(say(err)))
        )
        st.stop()
    spec, error = run.spec, loading.final_test_error(store, run)
    epochs = len(store.epochs(run.id))
    error_text = _(" · final test error **{percent}**").format(percent=percent(error)) if error is not None else ""
    st.markdown(
        _(
            "<span style='color:{net_color}'>**{name}**</span> · {kind} · trained {epochs} "
            "on {images} {dataset} images{error_text}"
        ).format(
            net_color=net_color(spec.skip),
            name=spec.name,
            kind=_("residual") if spec.skip else _("plain"),
            epochs=describe_epochs(epochs),
            images=run.config.train_size or _("all"),
            dataset=markdown_text(run.dataset),
            error_text=error_text,
        ),
        unsafe_allow_html=True,
    )  # the markup is ours; the stored dataset name is escaped
    st.caption(
        _("{block} · {shortcut} · {norm} · {activation} · width {stage_widths} · {preact}run {id}").format(
            block=spec_words("block", spec.block),
            shortcut=spec_words("shortcut", spec.shortcut if spec.skip else "none"),
            norm=spec_words("norm", spec.norm),
            activation=spec_words("activation", spec.activation),
            stage_widths=spec.stage_widths[0],
            preact=_("pre-activation · ") if spec.preact else "",
            id=run.id,
        )
    )
    reference_note(store, [run])
    return loaded


def url_state(key: str, run, clf: Classifier, test_count: int) -> ViewState:
    """The view's URL parameters once the model is known: the image source, the test image or sample, the
    methods, the class explained and every method setting (their widgets are keyed per kind of model, or per
    model or input size, where their choices differ)."""
    sources = [SOURCES["sample"], SOURCES["upload"]] if run is None else list(SOURCES.values())
    default = ["integrated_gradients", "gradcam", "saliency"] if run is not None else ["gradcam", "saliency"]
    layers = layer_choices(clf.net)
    return ViewState(
        "explain",
        [
            Param("image", sources[0], choices=sources, key=f"explain.source.{run is None}"),
            Param("test", 0, int, choices=range(test_count)),
            Param("sample", sample_files()[0], choices=sample_files()),
            Param("methods", default, choices=list(METHODS), multi=True, key=f"explain.methods.{run is None}"),
            Param("target", "predicted", choices=["predicted", *clf.classes], key=f"explain.class.{key}"),
            # the method settings: the sliders' ranges are their choices
            Param("steps", 50, int, choices=range(10, 201, 10)),
            Param("samples", 25, int, choices=range(5, 51, 5)),
            Param("noise", 0.15, _hundredths, choices=_grid(0.05, 0.5)),
            Param("layer", layers[0], choices=layers, key=f"explain.layer.{key}"),
            Param(
                "window",
                max(2, clf.input_size // 4),
                int,
                choices=range(2, clf.input_size // 2 + 1),
                key=f"explain.window.{clf.input_size}",
            ),
            Param("sign", SIGNS[1], choices=SIGNS),
            Param("opacity", 0.7, _hundredths, choices=_grid(0.0, 1.0)),
        ],
    )


def _hundredths(raw: str) -> float:
    """A slider's fraction from a link, to its 0.05 grid (a float slider can store 0.15000000000000002)."""
    return round(float(raw), 2)


def _grid(low: float, high: float) -> list[float]:
    """A float slider's values, step 0.05, as `_hundredths` reads them."""
    return [round(low + 0.05 * i, 2) for i in range(round((high - low) / 0.05) + 1)]


@dataclass
class Picked:
    image: Image.Image | None  # None: waiting for an upload, or it could not be read
    name: str = ""
    true_class: str | None = None  # known for the dataset's test images


def test_picture(clf: Classifier, test_images, test_labels, index: int) -> Picked:
    """The run's test image `index`, as a picture (RGB) with its true class."""
    label = clf.classes[test_labels[index]]
    pixels = test_images[index].permute(1, 2, 0).numpy()  # (H, W, C); C is 1 for (Fashion-)MNIST
    image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).convert("RGB")
    return Picked(image, f"test-{index + 1}-{label}", label)


def pick_image(state: ViewState, clf: Classifier, test_images, test_labels, present: bool = False) -> Picked:
    """The image the link or the controls name; with `present` (?present=1) no control is drawn."""
    sources = state.params["image"].choices
    if present:
        source = state.value("image")
    else:
        source = st.radio(
            _("Image"), sources, format_func=_, horizontal=True, key=state.key("image"), persist_state=KEEP
        )
    if source == SOURCES["upload"] and present:
        st.info(_("An uploaded image is not part of a link: to present one, share a link to a test image or a sample."))
        return Picked(None)
    if source == SOURCES["upload"]:
        upload = st.file_uploader(
            _("An image: {format_names} (a GIF's first frame), up to 10 MB").format(format_names=say(FORMAT_NAMES)),
            type=list(EXTENSIONS),
            key="explain.upload",
        )
        if upload is None:
            st.info(_("Upload an image to explain (or pick another source above)."))
            return Picked(None)
        try:
            return Picked(open_image(upload.getvalue()), Path(upload.name).stem)
        except ImageError as err:
            st.error(f"**{markdown_text(upload.name)}**: {markdown_text(say(err))}")  # a file's name is text
            return Picked(None)
    if source == SOURCES["test"]:
        index = (
            state.value("test")
            if present
            else st.selectbox(
                _("Test image"),
                range(len(test_labels)),
                key=state.key("test"),
                persist_state=KEEP,
                format_func=lambda i: _("{classes} (test image {value})").format(
                    classes=class_name(clf.classes[test_labels[i]], clf.dataset), value=i + 1
                ),
            )
        )
        return test_picture(clf, test_images, test_labels, index)
    stem = (
        state.value("sample")
        if present
        else st.selectbox(
            _("Sample"),
            sample_files(),
            format_func=_sample_label,
            key=state.key("sample"),
            persist_state=KEEP,
        )
    )
    return Picked(open_image((SAMPLES / f"{stem}.png").read_bytes()), stem)


def _sample_label(stem: str) -> str:
    """ "shapes-circle" -> "shapes: circle" (形状：圆形 … the class in the reader's language)."""
    kind, _dash, name = stem.partition("-")
    return _("{kind}: {name}").format(kind=kind, name=class_name(name, kind)) if name else stem


def twin_of(store, run):
    """The run's twin, completed (a reference run's twin is a reference run, a user run's the user's)."""
    if run is None:
        return None
    return loading.find_twin(
        store, run, among=[r for r in store.list(["completed"]) if is_reference(r) == is_reference(run)]
    )


def net_pixels(clf: Classifier, image: Image.Image) -> tuple[Image.Image, np.ndarray]:
    """The picture resized and cropped to the net's input, and its pixels (3, S, S) uint8: the cache key of
    every attribution."""
    fitted = fit_square(image, clf.input_size, clf.resize_size)
    return fitted, to_uint8_tensor(fitted).numpy()


@st.cache_data(max_entries=256, show_spinner=False)
def probabilities(model_key: str, _clf: Classifier, pixels: np.ndarray) -> torch.Tensor:
    """The net's class probabilities (K,) for the picture as it sees it (`pixels`: net_pixels'), kept per net
    and picture like its attributions: each computation deep-copies the net (attributions.predict), which was
    most of Explain's script on every run of the page."""
    return predict(_clf.net, to_input(torch.from_numpy(pixels), _clf.mean, _clf.std))[0]


def predictions(store, key: str, run, clf: Classifier, twin, picked: Picked):
    """The image as the nets see it and each net's top-5, and for an image not from the run's test set how
    like its training images it is; returns (pixels, shown image, [(key, net, probs)])."""
    fitted, pixels = net_pixels(clf, picked.image)
    nets = [(key, clf)]
    if twin is not None:
        try:
            home = store.store_of(twin)
            nets.append((twin.id, load_run(str(home.root.resolve()), twin.id, home)[0]))
            nets.sort(key=lambda n: n[1].skip)  # plain first, as in the paper's figures
        except Exception as err:
            st.warning(
                _("The twin run {id} cannot be loaded: {name}: {err}").format(
                    id=twin.id, name=type(err).__name__, err=markdown_text(say(err))
                )
            )
    nets_probs = [(k, c, probabilities(model_key(store.root, k), c, pixels)) for k, c in nets]
    cols = st.columns([1] + [1.3] * len(nets), gap="medium")
    seen = _("As the net sees it: {input_size}×{input_size}").format(input_size=clf.input_size)
    seen += (
        _("<br><sup>true class: {plot_text}</sup>").format(
            plot_text=plot_text(class_name(picked.true_class, clf.dataset))
        )
        if picked.true_class
        else ""
    )
    shown = np.asarray(fitted)  # (S, S, 3)
    with cols[0]:
        show_chart(image_figure(shown, seen), config={"displayModeBar": False}, key="explain.input")
    for col, (k, c, p) in zip(cols[1:], nets_probs):
        with col:
            show_chart(
                top_k_figure(
                    [(class_name(name, c.dataset), prob) for name, prob in top_k(p, c.classes)],
                    net_color(c.skip),
                    _("Top-5 predictions · {plot_text}").format(plot_text=plot_text(c.name)),
                ),
                config={"displayModeBar": False},
                key=f"explain.top5.{k}",
            )
    st.caption(
        _(
            "Left: the image resized (and centre-cropped) to the net's input size. Right: the net's five most "
            "probable classes, in percent (softmax of its output)."
        )
    )
    if run is not None and picked.true_class is None:  # an upload or a sample: maybe nothing like its data
        familiarity(store, run, clf, pixels)
    return pixels, shown, nets_probs


@dataclass
class Controls:
    methods: list[str]
    options: dict
    target_class: str  # "predicted" or a class name
    sign: str
    opacity: float


def method_controls(state: ViewState, key: str, clf: Classifier, present: bool = False) -> Controls:
    """The methods, their settings and the display options, as the controls (or, with `present`, the link)
    set them."""
    if not present:
        draw_method_controls(state, clf)
    value = state.value
    return Controls(value("methods"), method_options(value), value("target"), value("sign"), value("opacity"))


def method_options(value: Callable[[str], Any]) -> dict:
    """Each method's settings from the view's values (`value`: a parameter's name to its value)."""
    return {
        "integrated_gradients": {"n_steps": value("steps")},
        "smoothgrad": {"nt_samples": value("samples"), "noise_level": value("noise")},
        "gradcam": {"layer": value("layer")},
        "occlusion": {"window": value("window")},
    }


def draw_method_controls(state: ViewState, clf: Classifier) -> None:
    """The controls, each keyed by its URL parameter (seeded by `state.load()`, so none is given a value)."""
    st.multiselect(
        _("Methods"),
        list(METHODS),
        format_func=lambda m: _(METHODS[m].label),
        key=state.key("methods"),
        persist_state=KEEP,
    )
    with st.expander(_("Method settings"), key="explain.settings"):  # keyed: kept across languages
        c = st.columns(4)  # one column per method with settings
        c[0].slider(_("Integrated gradients: steps"), 10, 200, step=10, key=state.key("steps"), persist_state=KEEP)
        c[1].slider(_("SmoothGrad: noisy samples"), 5, 50, step=5, key=state.key("samples"), persist_state=KEEP)
        c[1].slider(
            _("SmoothGrad: noise (fraction of the range)"),
            0.05,
            0.5,
            step=0.05,
            key=state.key("noise"),
            persist_state=KEEP,
        )
        c[2].selectbox(_("Grad-CAM layer"), layer_choices(clf.net), key=state.key("layer"), persist_state=KEEP)
        c[3].slider(
            _("Occlusion: window (pixels)"), 2, clf.input_size // 2, key=state.key("window"), persist_state=KEEP
        )
        if clf.input_size > 64:
            st.caption(
                _(
                    "On a CPU, integrated gradients, SmoothGrad and occlusion take several seconds on a 224×224 "
                    "image; Grad-CAM and saliency are fast."
                )
            )
    row = st.columns([2, 3, 3])
    row[0].selectbox(
        _("Explain the class"),
        state.params["target"].choices,
        key=state.key("target"),
        persist_state=KEEP,
        format_func=lambda n: _("the predicted class") if n == "predicted" else class_name(n, clf.dataset),
    )
    row[1].radio(
        _("Sign"), SIGNS, horizontal=True, format_func=SIGN_LABELS.get, key=state.key("sign"), persist_state=KEEP
    )
    row[2].slider(_("Map opacity"), 0.0, 1.0, step=0.05, key=state.key("opacity"), persist_state=KEEP)


def attribution_maps(
    root, nets_probs, pixels, shown, controls: Controls, clf: Classifier, image_name: str, present: bool = False
) -> None:
    """Each net's maps for each method, one figure, its legend of methods and (unless `present`) a PNG
    download."""
    target = None if controls.target_class == "predicted" else clf.classes.index(controls.target_class)
    rows, notes = [], []
    with st.spinner(_("Computing attributions…")):
        for k, net_clf, net_probs in nets_probs:
            shown_class = net_clf.classes[int(net_probs.argmax()) if target is None else target]
            row = MapRow(f"{net_clf.name}\n“{class_name(shown_class, net_clf.dataset)}”", net_color(net_clf.skip))
            for method in controls.methods:
                try:
                    options = controls.options.get(method, {})
                    a = attribution(model_key(root, k), net_clf, pixels, method, target, options)
                except ValueError as err:
                    st.warning(
                        _("{label} on {name}: {err}").format(
                            label=_(METHODS[method].label),
                            name=markdown_text(net_clf.name),
                            err=markdown_text(say(err)),
                        )
                    )
                    continue
                row.maps[_(METHODS[method].label)] = a.heatmaps(controls.sign)[0]
                if a.delta is not None:
                    notes.append(f"{markdown_text(net_clf.name)} {number(abs(float(a.delta[0])))}")
            rows.append(row)
    rows = [r for r in rows if r.maps]
    if not rows:
        return
    if target is not None:
        explained = _("the class “{target_class}”").format(target_class=class_name(controls.target_class, clf.dataset))
    else:
        explained = _("each net's predicted class") if len(rows) > 1 else _("its predicted class")
    title = ngettext(
        "What the net looks at, explaining {explained}", "What the nets look at, explaining {explained}", len(rows)
    ).format(explained=explained)
    figure = attribution_figure(shown, rows, controls.sign, controls.opacity, title)
    show_chart(figure, config={"displayModeBar": False}, key="explain.maps")
    # the methods' names with their English, by which the literature and Captum know them
    st.markdown("\n".join(f"- **{both(METHODS[m].label)}** — {_(METHODS[m].summary)}" for m in controls.methods))
    deltas = (
        _(" Integrated gradients' convergence error (logit units; more steps shrink it): {join}.").format(
            join=_(", ").join(notes)
        )
        if notes
        else ""
    )
    st.caption(
        _("Each map is scaled to its own 98th percentile, so compare *where* the maps look, not how strongly.") + deltas
    )
    if present:
        return
    st.download_button(
        _("Download the figure (PNG)"),
        attribution_png(shown, rows, controls.sign, controls.opacity, title),
        file_name=f"explain-{image_name}.png",
        mime="image/png",
        key="explain.png",
    )


def untrained_note(store, run, twin) -> None:
    """Names the nets shown that did not learn: their predictions and maps are an untrained net's, which say
    nothing about what a trained net of their kind looks at."""
    if run is None:
        return
    nets = (run, twin) if twin is not None else (run,)
    verdict = why_text.untrained_verdict([net_facts(store, r) for r in nets], _("explanation"), instead(store, nets))
    if verdict is not None:
        show_verdict(verdict)


def twin_hint(store, run, twin) -> None:
    """Where the twin is, or how to train it."""
    if run is None or twin is not None:
        return
    kind = _("residual") if not run.spec.skip else _("plain")
    pending = loading.find_twin(store, run, statuses=ACTIVE)
    if pending is not None:
        st.info(
            _("The {kind} twin ({name}, {id}) is {status}: it appears here side by side once it completes.").format(
                kind=kind, name=markdown_text(pending.name), id=pending.id, status=pending.status
            )
        )
        return
    st.info(
        _(
            "To compare with the {kind} twin on the same image, train it: on the **Train** page pick "
            "the same net and dataset ({dataset}) and press **Train plain + residual twins** (or "
            "toggle *Skip connections*). It appears here side by side once it completes."
        ).format(kind=kind, dataset=run.dataset)
    )
    if st.button(
        _("Set up the {kind} twin on the Train page").format(kind=kind),
        icon=":material/model_training:",
        key="explain.twin",
    ):
        remember_spec(run.spec.replace(skip=not run.spec.skip))
        st.switch_page(page("train"))
