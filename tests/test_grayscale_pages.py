"""Every page on a 1-channel, 28-pixel run: Fashion-MNIST twins (real files) trained by the real worker code,
each page opened through AppTest with the twins in its URL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import charts
from streamlit.testing.v1 import AppTest

import resnet_core as rc
from resnet_core.data import idx
from resnet_core.execution.worker import execute_run
from resnet_core.store.run_store import RunStore

PAGES = Path(__file__).resolve().parent.parent / "pages"
RECIPE = {"epochs": 1, "batch_size": 50, "train_size": 300, "test_size": 100, "log_every": 2, "grad_norm_every": 2}


@pytest.fixture(scope="module")
def gray_twins(tmp_path_factory):
    if idx.find_files(list(idx.SYSTEM_FOLDERS["fashion-mnist"])) is None:
        reason = "Debian's dataset-fashion-mnist is not installed (`make test` as root installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the Fashion-MNIST page tests must run under CI=true, but {reason}")
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("gray") / "runs"
    store = RunStore(root)
    ids = []
    for skip in (True, False):
        spec = rc.NetSpec(depth=8, width=8, skip=skip, in_channels=1)
        run_id = store.create(spec, dict(RECIPE, experiment="gray-twins"), dataset="fashion-mnist", status="running")
        assert execute_run(store, run_id) == "completed", store.get(run_id).error
        ids.append(run_id)
    return root, ids


@pytest.mark.parametrize(
    ("page", "params"),
    [
        ("architecture", lambda ids: {"in_channels": "1"}),
        ("train", lambda ids: {"runs": ",".join(ids)}),
        ("degradation", lambda ids: {"exp": "gray-twins"}),
        ("gradients", lambda ids: {"tab": "training", "runs": ",".join(ids)}),
        ("responses", lambda ids: {"runs": ",".join(ids)}),
        ("explain", lambda ids: {"model": ids[0], "image": "Test image"}),
        ("explain", lambda ids: {"model": ids[1], "image": "Sample"}),  # a colour image for a grayscale net
        ("why", lambda ids: {"pair": ",".join(ids), "tab": "shattered"}),
        ("lesson", lambda ids: {"step": "6", "src": "mine"}),
    ],
)
def test_every_page_opens_on_a_grayscale_28_pixel_run(gray_twins, page, params, monkeypatch):
    root, ids = gray_twins
    monkeypatch.setenv("RESNET_LAB_RUNS", str(root))
    monkeypatch.setenv("RESNET_LAB_REFERENCE", "off")  # only the grayscale runs: the page must use them
    at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=300)
    for name, value in params(ids).items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    shown = " ".join(str(e.value) for e in (*at.markdown, *at.caption, *at.warning, *at.info, *at.error))
    assert "not one this page can show" not in shown, shown[:2000]
    if page in ("train", "degradation", "gradients", "responses", "why"):
        assert charts(at), f"{page} drew no chart for the grayscale runs"


def test_colour_pixels_reach_a_grayscale_net_as_luma_and_back():
    import torch

    from resnet_core.data.pixels import match_channels, to_input

    red = torch.zeros(1, 3, 2, 2, dtype=torch.uint8)
    red[:, 0] = 200
    gray = match_channels(red, 1)
    assert gray.shape == (1, 1, 2, 2) and int(gray[0, 0, 0, 0]) == round(0.299 * 200)  # Pillow's convert("L")
    assert match_channels(gray, 3).shape == (1, 3, 2, 2)
    assert to_input(red, (0.5,), (0.25,)).shape == (1, 1, 2, 2)
    with pytest.raises(ValueError, match="2 channels"):
        match_channels(torch.zeros(1, 2, 2, 2, dtype=torch.uint8), 3)
