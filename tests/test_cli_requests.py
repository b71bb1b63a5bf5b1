"""Requests that can never train are refused before a run is made (exit 2, nothing stored); a loss that
explodes by orders of magnitude ends the run `diverged`, not `completed`; the listing commands start fast."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import NO_PROBES, random_data

from resnet_core.model.spec import NetSpec
from resnet_core.training.train import TrainConfig, train

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "resnet_core", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_an_exploding_but_finite_loss_is_diverged():
    events = []
    result = train(
        NetSpec(depth=8, width=4),
        random_data(),
        TrainConfig(epochs=4, batch_size=8, lr=1000.0, device="cpu", log_every=2, **NO_PROBES),
        events.append,
    )
    assert result.status == "diverged", [e.loss for e in events if e.kind == "step"]
    diverged = [e for e in events if e.kind == "diverged"]
    assert len(diverged) == 1 and diverged[0].loss > 100 * torch.log(torch.tensor(10.0)).item()


def test_an_ordinary_run_is_not_called_diverged():
    result = train(
        NetSpec(depth=8, width=4),
        random_data(),
        TrainConfig(epochs=3, batch_size=8, lr=0.1, device="cpu", log_every=1, **NO_PROBES),
    )
    assert result.status == "completed"


@pytest.mark.parametrize(
    "args, words",
    [
        (["--num-classes", "0"], ["--num-classes", "10"]),
        (["--num-classes", "7"], ["--num-classes", "10"]),
        (["--in-channels", "1"], ["--in-channels", "3"]),
        (["--train-size", str(10**9)], ["--train-size", "50000"]),
        (["--test-size", "20000"], ["--test-size", "10000"]),
        (["--device", "cuda"] if not torch.cuda.is_available() else ["--device", "mps"], ["device"]),
    ],
)
def test_requests_that_can_never_train_make_no_run(tmp_path, args, words):
    runs = tmp_path / "runs"
    proc = cli("train", "--depth", "8", *args, "--runs-dir", str(runs))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word in proc.stderr
    assert json.loads(cli("runs", "--json", "--runs-dir", str(runs)).stdout) == []


def test_the_listing_commands_do_not_import_torch(tmp_path):
    code = (
        "import sys, runpy; sys.argv = ['resnet_core', 'runs', '--runs-dir', sys.argv[1]];"
        "\ntry:\n    runpy.run_module('resnet_core', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules, 'plotly' in sys.modules, 'captum' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "runs")], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False False False"


def test_the_public_names_still_work_lazily():
    code = (
        "import resnet_core as rc, sys; assert 'torch' not in sys.modules;"
        "names = [getattr(rc, n) for n in rc.__all__]; print(len(names), rc.NetSpec(depth=20).name,"
        " rc.build_net.__name__, 'torch' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[1:] == ["ResNet-20", "build_net", "True"]


def test_the_catalog_agrees_with_the_datasets(shapes_root):
    from resnet_core.data import datasets
    from resnet_core.data.catalog import CATALOG, PAD_MODES
    from resnet_core.data.loader import pad_images

    assert CATALOG["shapes"].num_classes == len(datasets.SHAPES_CLASSES)
    assert (CATALOG["shapes"].train_size, CATALOG["shapes"].test_size) == (
        datasets.SHAPES_TRAIN_SIZE,
        datasets.SHAPES_TEST_SIZE,
    )
    for name, facts in CATALOG.items():
        assert datasets.num_classes(name) == facts.num_classes
    small = datasets.load_dataset("shapes", root=shapes_root, train_size=20, test_size=10)
    assert (small.in_channels, small.image_size) == (CATALOG["shapes"].in_channels, CATALOG["shapes"].image_size)
    for mode in PAD_MODES:
        pad_images(small.test_images[:1], 4, mode)
