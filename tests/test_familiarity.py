"""Explain's out-of-distribution measure (analysis/familiarity.py) on a shipped reference net: a photo is called
unlike the net's training images, its own held-out test images almost never are, and the page says so with
the classes the net knows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib import cbook
from PIL import Image
from streamlit.testing.v1 import AppTest

from resnet_core.analysis.familiarity import LIMIT, MEASURES, FamiliarityModel, image_statistics
from resnet_core.data.images import fit_square, to_uint8_tensor
from resnet_core.presentation.explain_text import familiarity_note
from resnet_core.presentation.text import markdown_text
from resnet_core.store import loading
from resnet_core.studies.reference import DEFAULT_BUNDLE, open_reference

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "explain.py")


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, fashion_files):
    """ResNet-20 of the shipped bundle, its familiarity measure fitted as Explain fits it, and its data."""
    store = open_reference(DEFAULT_BUNDLE, cache=tmp_path_factory.mktemp("ref"))
    run = next(r for r in store.list() if r.spec.name == "ResNet-20")
    data = loading.run_dataset(run)
    clf = loading.classifier_from_run(store, run, data)
    model = FamiliarityModel.fit(
        clf.net, clf.mean, clf.std, data.train_images[:600], data.train_labels[:600], data.test_images[:300]
    )
    return run, clf, data, model


def photo(size: int) -> torch.Tensor:
    """A real photograph (matplotlib's sample of Grace Hopper, installed with captum's matplotlib), as the net
    sees an upload: centre-cropped and resized to its input size."""
    image = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    return to_uint8_tensor(fit_square(image, size))


def test_a_photo_is_unlike_the_training_images_and_held_out_test_images_are_not(fitted):
    run, clf, data, model = fitted
    judged = model.assess(photo(clf.input_size))
    assert judged.unlike and max(judged.ranks.values()) > LIMIT and judged.test_images == 300
    held_out = data.test_images[300:700]  # not among the 300 it was calibrated on
    ranks = model.ranks(held_out)
    flagged = torch.stack([ranks[name] > LIMIT for name in MEASURES]).any(0)
    # Per measure 1% of test images lie beyond the limit by construction; either of two: at most 2%, plus
    # the noise of 300 calibration images.
    assert float(flagged.double().mean()) <= 0.05
    assert model.assess(held_out[0]).ranks == {name: float(ranks[name][0]) for name in MEASURES}
    assert set(judged.ranks) == set(MEASURES) and all(0 <= r <= 1 for r in judged.ranks.values())


def test_the_measure_is_deterministic_and_takes_the_nets_channel_count(fitted):
    _run, clf, data, model = fitted
    image = data.test_images[0]
    assert model.assess(image) == model.assess(image)
    colour = image.expand(3, -1, -1) if image.shape[0] == 1 else image  # an upload is RGB, whatever the net
    assert set(model.assess(colour).ranks) == set(MEASURES)
    stats = image_statistics(data.test_images[:4])
    assert stats.shape[0] == 4 and torch.isfinite(stats).all()


def test_the_note_names_the_classes_and_the_ranks(fitted):
    run, clf, _data, model = fitted
    unlike, text = familiarity_note(model.assess(photo(clf.input_size)), "ResNet-20", run.dataset, clf.classes)
    assert unlike and "unlike the images ResNet-20 learned from" in text
    assert f"the {len(clf.classes)} classes of {markdown_text(run.dataset)}" in text
    assert markdown_text(clf.classes[-1]) in text and "%" in text.split("further than")[1]
    like, text = familiarity_note(model.assess(_data.test_images[301]), "ResNet-20", run.dataset, clf.classes)
    assert ("is like the images" in text) == (not like)


def test_explain_warns_on_an_uploaded_photo_and_not_on_a_test_image(tmp_path, shapes_root, monkeypatch, fashion_files):
    """The page, opened on the reference runs: an uploaded photo gets the warning and the classes the net
    knows; a test image of its dataset gets neither."""
    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("RESNET_LAB_DATA", str(shapes_root))
    monkeypatch.setenv("RESNET_LAB_REFERENCE", str(DEFAULT_BUNDLE))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params["image"] = "Test image"
    at.run()
    assert not at.exception, at.exception
    assert not [w for w in at.warning if "unlike the images" in w.value]
    assert not [c for c in at.caption if "knows only" in c.value]  # a test image is its data: nothing to say
    at.radio(key="explain.source.False").set_value("Upload").run()
    jpeg = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).read_bytes()
    at.file_uploader(key="explain.upload").upload("grace_hopper.jpg", jpeg, "image/jpeg").run()
    assert not at.exception, at.exception
    warned = [w.value for w in at.warning if "unlike the images" in w.value]
    assert len(warned) == 1 and "knows only the 10 classes" in warned[0] and "further than" in warned[0]


def test_pixels_fed_as_the_page_feeds_them(fitted):
    """The page passes the fitted (3, S, S) uint8 array it shows; a grayscale net's measure converts it."""
    _run, clf, _data, model = fitted
    pixels = np.asarray(to_uint8_tensor(fit_square(Image.new("RGB", (40, 30), (200, 30, 30)), clf.input_size)))
    assert model.assess(torch.from_numpy(pixels)).unlike  # one flat red square: like nothing it trained on
