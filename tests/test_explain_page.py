"""The Explain page through AppTest: trained runs and their twins, every method, the upload matrix
through the real file uploader, ImageNet models offline and cached, no runs at all."""

import socket
from pathlib import Path

import pytest
import torch
from helpers import SHAPES_BUNDLE, charts
from PIL import Image
from streamlit.testing.v1 import AppTest
from test_attributions import make_run
from test_images import encode, malformed_uploads, photo

import resnet_core as rc
from resnet_core.analysis import pretrained as pt
from resnet_core.analysis.attributions import METHODS
from resnet_core.execution.worker import execute_run
from resnet_core.presentation.explain_figures import SIGN_LABELS
from resnet_core.presentation.palette import PLAIN_COLOR, RESIDUAL_COLOR
from resnet_core.presentation.text import markdown_text
from resnet_core.store.run_store import RunStore
from resnet_core.training.train import TrainConfig

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "explain.py")
SPEC = rc.NetSpec(depth=8, width=8)


def _shutdown_runner(root: Path) -> None:
    from ui.runs import release_runner

    release_runner(str(root.resolve()))  # the page's (cached) runner


@pytest.fixture(scope="module")
def trained(tmp_path_factory, shapes_root):
    """A runs folder with a ResNet-8 and its plain twin, each really trained for one epoch."""
    root = tmp_path_factory.mktemp("explain") / "runs"
    store = RunStore(root)
    config = TrainConfig(epochs=1, batch_size=100, device="cpu").to_dict()
    config.update(train_size=500, test_size=100, data_dir=str(shapes_root))
    ids = []
    for skip in (True, False):
        ids.append(store.create(SPEC.replace(skip=skip), config, dataset="shapes", status="queued"))
        assert execute_run(store, ids[-1]) == "completed"
    yield root, ids
    _shutdown_runner(root)


@pytest.fixture
def env(tmp_path, shapes_root, monkeypatch):
    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("RESNET_LAB_DATA", str(shapes_root))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    yield tmp_path
    _shutdown_runner(tmp_path / "runs")


@pytest.fixture
def with_runs(trained, env, monkeypatch):
    monkeypatch.setenv("RESNET_LAB_RUNS", str(trained[0]))
    return trained


def open_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def figures(at: AppTest) -> list[dict]:
    return [c.figure for c in charts(at)]


UNTRAINED = ":material/block:"  # the icon of the verdict naming a net that did not learn (ui/views/render.py)


def other_warnings(at: AppTest) -> list[str]:
    """The warnings besides the one naming a net that did not learn (the one-epoch nets here did not)."""
    return [w.value for w in at.warning if w.icon != UNTRAINED]


def image_tiles(at: AppTest) -> int:
    """Image traces in the attribution figure (the last chart): rows × (input + methods)."""
    return sum(t.get("type") == "image" for t in figures(at)[-1]["data"])


def test_no_runs_invites_training_and_the_imagenet_download_fails_cleanly(env, monkeypatch):
    at = open_page()
    assert "Train" in at.info[0].value and "No trained net yet" in at.info[0].value
    model = at.selectbox(key="explain.model")
    assert model.options == [pt.label(name) + " — not downloaded" for name in pt.PRETRAINED]
    assert "not on this machine" in at.warning[0].value
    with socket.socket() as s:  # a port nobody listens on: offline, quickly
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(pt, "weights_url", lambda name: f"http://127.0.0.1:{port}/resnet18-f37072fd.pth")
    at.button(key="explain.download").click().run()
    assert not at.exception
    assert "Could not download" in at.error[0].value


def test_a_trained_run_is_explained_beside_its_twin(with_runs):
    root, (residual_id, plain_id) = with_runs
    at = open_page()
    assert at.selectbox(key="explain.model").value == plain_id  # the newest completed run
    text = " ".join(m.value for m in at.markdown)
    assert "plain-8" in text and "final test error" in text
    assert at.radio(key="explain.source.False").value == "Test image"
    shown = figures(at)
    assert len(shown) == 4  # input, two top-5 bar charts, the maps
    bars = [f for f in shown if f["data"][0].get("type") == "bar"]
    assert [b["data"][0]["marker"]["color"] for b in bars] == [PLAIN_COLOR, RESIDUAL_COLOR]
    assert all(len(b["data"][0]["y"]) == 5 for b in bars)
    assert image_tiles(at) == 2 * (1 + 3)  # plain and residual rows × (input + IG, Grad-CAM, saliency)
    assert "What the nets look at" in shown[-1]["layout"]["title"]["text"]
    assert any("convergence error" in c.value for c in at.caption)
    assert at.get("download_button")[0].proto.label == "Download the figure (PNG)"


def choose_every_method_and_option(at: AppTest) -> str:
    """On the open page: all six methods, then 10 steps, 5 samples, both signs, opacity 0.3 and the class
    "star", in one rerun; the model the page shows."""
    model = at.selectbox(key="explain.model").value
    at.multiselect(key="explain.methods.False").set_value(list(METHODS)).run()
    at.slider(key="explain.steps").set_value(10)
    at.slider(key="explain.samples").set_value(5)
    at.radio(key="explain.sign").set_value("all")
    at.slider(key="explain.opacity").set_value(0.3)
    at.selectbox(key=f"explain.class.{model}").set_value("star")
    at.run()
    return model


def test_every_method_and_display_option(with_runs):
    at = open_page()
    choose_every_method_and_option(at)
    assert not at.exception and not other_warnings(at)
    assert image_tiles(at) == 2 * (1 + 6)
    assert "“star”" in figures(at)[-1]["layout"]["title"]["text"]


@pytest.mark.parametrize("name", list(malformed_uploads()))
def test_malformed_uploads_through_the_file_uploader(with_runs, name):
    data, words = malformed_uploads()[name]
    at = open_page()
    at.radio(key="explain.source.False").set_value("Upload").run()
    at.file_uploader(key="explain.upload").upload(name, data, "application/octet-stream").run()
    assert not at.exception
    assert markdown_text(name) in at.error[0].value and words in at.error[0].value  # the name shown as text
    assert not figures(at)


def test_a_good_upload_and_a_sample(with_runs):
    at = open_page()
    at.radio(key="explain.source.False").set_value("Upload").run()
    assert "Upload an image" in at.info[0].value
    at.file_uploader(key="explain.upload").upload("photo.webp", encode(photo(300, 200), "WEBP"), "image/webp").run()
    assert not at.exception and not at.error
    assert figures(at)[0]["layout"]["title"]["text"].startswith("As the net sees it:<br><sup>32×32</sup>")
    tiny = encode(Image.new("RGB", (1, 1), (200, 40, 40)))  # 1×1 is a valid image: upscaled
    at.file_uploader(key="explain.upload").set_value(("dot.png", tiny, "image/png")).run()
    assert not at.exception and not at.error and image_tiles(at) == 8
    at.radio(key="explain.source.False").set_value("Sample").run()
    at.selectbox(key="explain.sample").select_index(0).run()
    assert not at.exception and image_tiles(at) == 8


def test_a_run_without_twin_says_how_to_train_one(env, shapes_root):
    store = RunStore(env / "runs")
    make_run(store, SPEC.replace(activation="sigmoid"), shapes_root)
    at = open_page()
    assert any("Train plain + residual twins" in i.value for i in at.info)
    assert image_tiles(at) == 1 + 3
    at.multiselect(key="explain.methods.False").set_value(["guided_backprop", "saliency"]).run()
    assert not at.exception
    assert "ReLU nets only" in other_warnings(at)[0]  # guided backprop on a sigmoid net: said, not raised
    assert image_tiles(at) == 1 + 1
    at.button(key="explain.twin").click().run()  # sets up the plain twin for the Train page
    assert not at.exception
    assert at.session_state["net_spec"] == SPEC.replace(activation="sigmoid", skip=False)


def test_imagenet_model_with_cached_weights(env):
    import torchvision

    hub = env / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    torch.save(torchvision.models.resnet18().state_dict(), hub / "resnet18-f37072fd.pth")  # random weights
    at = open_page()
    model = at.selectbox(key="explain.model")
    assert model.options[0] == pt.label("resnet18")
    assert any("top-1 accuracy" in c.value for c in at.caption)
    assert at.radio(key="explain.source.True").value == "Sample"
    assert figures(at)[0]["layout"]["title"]["text"].startswith("As the net sees it:<br><sup>224×224</sup>")
    assert image_tiles(at) == 1 + 2  # Grad-CAM and saliency by default on 224×224 images


def test_a_twin_in_training_is_not_suggested_again(env, shapes_root):
    """Issue 15: Explain suggested training a twin that was already queued or running."""
    import os

    store = RunStore(env / "runs")
    run = make_run(store, SPEC.replace(activation="sigmoid"), shapes_root)
    twin = store.create(SPEC.replace(activation="sigmoid", skip=False), run.config, dataset="shapes")
    store.set_status(twin, "running", pid=os.getpid())  # a live process: not taken for a lost worker
    at = open_page()
    text = " ".join(i.value for i in at.info)
    assert twin in text and "is running" in text
    assert "Train plain + residual twins" not in text
    assert not [b for b in at.button if b.key == "explain.twin"]


def shown(widget) -> list[str]:
    """What the browser shows in a widget it mounts afresh, read from the element the server sent, as the frontend
    does: the value the server sets (`set_value`) or else the widget's default. A widget the page stopped before
    is removed from the browser, which forgets its value; when it comes back, this is what the user sees."""
    proto, kind = widget.proto, type(widget.proto).__name__
    if kind == "Slider":
        return [str(float(v)) for v in (proto.value if proto.set_value else proto.default)]
    if kind == "MultiSelect":
        return list(proto.raw_values) if proto.set_value else [proto.options[i] for i in proto.default]
    return [proto.raw_value] if proto.set_value else [proto.options[proto.default]]  # Radio, Selectbox


def test_controls_survive_a_new_upload(with_runs):
    """Issue 15.9: after choosing all six methods and 'all' signs, uploading a second image showed the widgets
    at their defaults while the figure showed six signed maps. Replacing a file passes through "no file", where
    the page stopped before its controls: the browser dropped them and forgot their values, the server kept
    them. The controls now stay on the page while it waits, and what the browser shows is what the figure
    is drawn from."""
    at = open_page()
    model = choose_every_method_and_option(at)
    keys = [
        "explain.methods.False",
        "explain.sign",
        "explain.opacity",
        "explain.steps",
        "explain.samples",
        f"explain.class.{model}",
    ]
    expected = {
        "explain.methods.False": [METHODS[m].label for m in METHODS],
        "explain.sign": [SIGN_LABELS["all"]],
        "explain.opacity": ["0.3"],
        "explain.steps": ["10.0"],
        "explain.samples": ["5.0"],
        f"explain.class.{model}": ["star"],
    }

    def on_page() -> set[str]:
        return {w.key for w in _all_widgets(at)} & set(keys)

    at.radio(key="explain.source.False").set_value("Upload").run()  # no file yet: the page waits for one
    for name, color in (("first.png", (200, 40, 40)), ("second.png", (40, 40, 200))):
        assert "Upload an image" in at.info[0].value and not figures(at)
        kept = on_page()  # the browser keeps the value of a widget that stayed on the page
        upload = encode(Image.new("RGB", (40, 40), color))
        at.file_uploader(key="explain.upload").set_value((name, upload, "image/png")).run()
        assert not at.exception and not at.error
        assert at.multiselect(key="explain.methods.False").value == list(METHODS)  # what the figure is drawn from
        assert at.radio(key="explain.sign").value == "all"
        for key in keys:  # what the browser shows: its own value if the widget stayed, else what the server sent
            if key not in kept:
                widget = next(w for w in _all_widgets(at) if w.key == key)
                value = shown(widget)
                assert value == expected[key], (key, value)
        assert set(keys) <= kept  # the controls did not leave the page while it waited
        assert image_tiles(at) == 2 * (1 + 6)  # the figure says what the controls say
        assert "“star”" in figures(at)[-1]["layout"]["title"]["text"]
        at.file_uploader(key="explain.upload").set_value(None).run()  # removed, as when a second file replaces it


def _widgets(node):
    """Every keyed widget under an AppTest node."""
    if getattr(node, "key", None):
        yield node
    for child in getattr(node, "children", {}).values():
        yield from _widgets(child)


def _all_widgets(at: AppTest):
    return list(_widgets(at.main))


def controls(at: AppTest) -> list:
    """The keyed elements a user can act on (the keyed charts are not)."""
    return [w for w in _all_widgets(at) if w.type not in ("plotly_chart", "bidi_component")]


def test_the_link_holds_the_model_image_methods_and_class(with_runs):
    """Issue 22.3: a link reproduces the view — the run, the test image or sample (not an upload), the methods
    and the class explained; a value the page cannot show falls back with a warning."""
    from ui.views.explain import sample_files

    root, (residual_id, plain_id) = with_runs
    at = open_page()
    assert any("pair" in c.value for c in at.caption)  # which pair it opened on, and why
    at.selectbox(key="explain.model").set_value(residual_id).run()
    at.radio(key="explain.source.False").set_value("Sample").run()
    sample = sample_files()[1]
    at.selectbox(key="explain.sample").set_value(sample)
    at.multiselect(key="explain.methods.False").set_value(["saliency", "gradcam"])
    at.selectbox(key=f"explain.class.{residual_id}").set_value("star").run()
    assert not at.exception
    link = {k: at.query_params[k] for k in ("model", "image", "sample", "methods", "target")}
    link = {k: v[0] if isinstance(v, list) else v for k, v in link.items()}
    assert link == {
        "model": residual_id,
        "image": "Sample",
        "sample": sample,
        "methods": "saliency,gradcam",
        "target": "star",
    }

    cold = AppTest.from_file(PAGE, default_timeout=120)
    for name, value in link.items():
        cold.query_params[name] = value
    cold.run()
    assert not cold.exception and not other_warnings(cold)
    assert cold.selectbox(key="explain.model").value == residual_id
    assert cold.radio(key="explain.source.False").value == "Sample"
    assert cold.selectbox(key="explain.sample").value == sample
    assert cold.multiselect(key="explain.methods.False").value == ["saliency", "gradcam"]
    assert cold.selectbox(key=f"explain.class.{residual_id}").value == "star"
    assert "“star”" in figures(cold)[-1]["layout"]["title"]["text"]

    cold = AppTest.from_file(PAGE, default_timeout=120)
    cold.query_params["model"] = "no-such-run"
    cold.query_params["methods"] = "saliency,**bold**"
    cold.query_params["test"] = "99"
    cold.run()
    assert not cold.exception
    warnings = " ".join(w.value for w in cold.warning)
    assert "not one this page can show" in warnings and "model" in warnings and "methods" in warnings
    assert cold.selectbox(key="explain.model").value in (plain_id, residual_id)
    assert cold.selectbox(key="explain.test").value == 0


def test_the_link_holds_every_method_setting_and_present_hides_the_controls(with_runs):
    """Every control is in the URL, the method settings too; `present=1` draws the same view without a control
    (no download, no twin set-up), and an upload, which a link cannot hold, is said to be missing."""
    from resnet_core.analysis.attributions import layer_choices

    root, (residual_id, plain_id) = with_runs
    at = open_page()
    at.selectbox(key="explain.model").set_value(residual_id).run()
    layer = layer_choices(rc.build_net(SPEC))[-1]
    at.multiselect(key="explain.methods.False").set_value(["smoothgrad", "gradcam", "occlusion"])
    at.slider(key="explain.steps").set_value(30)
    at.slider(key="explain.samples").set_value(10)
    at.slider(key="explain.noise").set_value(0.25)
    at.selectbox(key=f"explain.layer.{residual_id}").set_value(layer)
    at.slider(key="explain.window.32").set_value(5)
    at.radio(key="explain.sign").set_value("all")
    at.slider(key="explain.opacity").set_value(0.4)
    at.selectbox(key="explain.test").set_value(7).run()
    assert not at.exception
    names = ("model", "test", "methods", "steps", "samples", "noise", "layer", "window", "sign", "opacity")
    link = {k: at.query_params[k] for k in names}
    link = {k: v[0] if isinstance(v, list) else v for k, v in link.items()}
    assert link == {
        "model": residual_id,
        "test": "7",
        "methods": "smoothgrad,gradcam,occlusion",
        "steps": "30",
        "samples": "10",
        "noise": "0.25",
        "layer": layer,
        "window": "5",
        "sign": "all",
        "opacity": "0.4",
    }
    drawn = figures(at)[-1]

    cold = AppTest.from_file(PAGE, default_timeout=120)
    for name, value in link.items():
        cold.query_params[name] = value
    cold.run()
    assert not cold.exception and not other_warnings(cold)
    assert cold.slider(key="explain.noise").value == 0.25 and cold.slider(key="explain.window.32").value == 5
    assert cold.selectbox(key=f"explain.layer.{residual_id}").value == layer
    assert figures(cold)[-1] == drawn  # the same maps, the same opacity and sign

    shown = AppTest.from_file(PAGE, default_timeout=120)
    for name, value in {**link, "present": "1"}.items():
        shown.query_params[name] = value
    shown.run()
    assert not shown.exception and not other_warnings(shown)
    assert not controls(shown) and not shown.get("download_button")
    assert figures(shown)[-1] == drawn
    assert "test image 8" not in " ".join(c.value for c in shown.caption)  # no picker: the chart says the class
    assert not [i for i in shown.info if "twin" in i.value]

    upload = AppTest.from_file(PAGE, default_timeout=120)
    upload.query_params.update({"model": residual_id, "image": "Upload", "present": "1"})
    upload.run()
    assert not upload.exception and "not part of a link" in upload.info[0].value
    assert not controls(upload)


def test_a_net_that_did_not_learn_is_named_as_untrained(with_runs, monkeypatch, tmp_path, fashion_files):
    """Its predictions and maps are an untrained net's: said, with a pair that learned to pick instead. Two
    nets trained one epoch on 500 images did not learn; the shipped reference pairs did; in the bundle shipped
    before, on `shapes`, plain-56 did not (tests/helpers.SHAPES_BUNDLE)."""
    from resnet_core.studies.pairs import run_has_learned
    from resnet_core.studies.reference import DEFAULT_BUNDLE, open_reference

    root, ids = with_runs
    store = RunStore(root)
    assert not any(run_has_learned(store, store.get(i)) for i in ids)  # the premise of this test
    at = open_page()
    (verdict,) = [w.value for w in at.warning if w.icon == UNTRAINED]
    assert (
        f"{markdown_text('ResNet-8')} never learned" in verdict
        and f"{markdown_text('plain-8')} never learned" in verdict
    )
    assert "explanation says nothing about trained ResNets and plain nets" in verdict

    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "none"))
    monkeypatch.setenv("RESNET_LAB_REFERENCE", str(DEFAULT_BUNDLE))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    from ui.reference import _reference_for

    _reference_for.clear()
    try:
        at = open_page()  # the reference pair in which both nets learned
        assert not [w for w in at.warning if w.icon == UNTRAINED]
        monkeypatch.setenv("RESNET_LAB_REFERENCE", str(SHAPES_BUNDLE))
        _reference_for.clear()
        at = open_page()
        bundle = open_reference(SHAPES_BUNDLE, tmp_path / "bundle")
        # on `shapes` the longer CPU recipe's plain-56 ends near chance (BENCHMARKS.md "Reference bundle")
        (plain_56,) = [r for r in bundle.list(["completed"]) if r.spec.name == "plain-56"]
        assert run_has_learned(bundle, plain_56) is False
        at.selectbox(key="explain.model").set_value(plain_56.id).run()
        (verdict,) = [w.value for w in at.warning if w.icon == UNTRAINED]
        assert f"{markdown_text('plain-56')} never learned" in verdict
        assert markdown_text("ResNet-56") not in verdict.split(":")[0]  # the twin learned
        assert "Pick a pair in which both nets learned" in verdict
    finally:
        _reference_for.clear()


def test_the_warm_up_computes_the_view_the_page_opens_on(env, monkeypatch, fashion_files):
    """ui/warm.py's background thread calls `warm()` at a server's first visit: the reference pair's nets, test
    image and default maps, through the page's own functions. The page opened afterwards computes no map."""
    from resnet_core.studies.reference import DEFAULT_BUNDLE
    from ui.reference import _reference_for
    from ui.views import explain as views

    monkeypatch.setenv("RESNET_LAB_REFERENCE", str(DEFAULT_BUNDLE))
    monkeypatch.setenv("XDG_CACHE_HOME", str(env / "cache"))
    _reference_for.clear()
    views.attribution.clear()
    views.probabilities.clear()
    computed = []
    real, real_predict = views.explain, views.predict

    def counted(net, images, method, *args, **kwargs):
        computed.append(method)
        return real(net, images, method, *args, **kwargs)

    def counted_predict(net, images):
        computed.append("predict")
        return real_predict(net, images)

    monkeypatch.setattr(views, "explain", counted)
    monkeypatch.setattr(views, "predict", counted_predict)
    try:
        views.warm()
        default = ["integrated_gradients", "gradcam", "saliency"]
        assert sorted(computed) == sorted((default + ["predict"]) * 2)  # both nets of the pair
        computed.clear()
        at = open_page()
        assert not at.exception
        assert any("**plain-56**" in m.value for m in at.markdown)  # the pair the warm-up computed
        assert len(figures(at)) == 4  # the image, both nets' top-5 and the maps
        assert computed == []  # every prediction and map came from what the warm-up computed
        open_page()
        assert computed == []  # nor on the next visit: each net is deep-copied to predict, once per image
    finally:
        _reference_for.clear()
