"""`python -m resnet_core` end to end in a temporary runs folder, and its answers to bad arguments."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import train_args

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "resnet_core", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def runs_dir(tmp_path):
    return str(tmp_path / "runs")


def test_train_runs_json_stop_delete(runs_dir, shapes_root):
    out = cli(*train_args(shapes_root, runs_dir, epochs=2, name="cli run"))
    run_id = out.stdout.split()[1].rstrip(":")
    assert "completed" in out.stdout and "test error" in out.stdout
    assert "epoch 2:" in out.stderr  # per-epoch lines beside the progress bar

    listing = json.loads(cli("runs", "--json", "--runs-dir", runs_dir).stdout)
    assert len(listing) == 1
    run = listing[0]
    assert run["id"] == run_id and run["name"] == "cli run" and run["status"] == "completed"
    assert run["spec"]["depth"] == 8 and run["config"]["epochs"] == 2
    assert {"created_at", "updated_at", "error"} <= set(run)
    assert [e["epoch"] for e in run["epochs"]] == [1, 2]
    assert set(run["epochs"][0]) == {
        "epoch",
        "train_loss",
        "train_error",
        "test_loss",
        "test_error",
        "seconds",
        "images_per_second",
    }
    table = cli("runs", "--runs-dir", runs_dir).stdout
    assert run_id in table and "ResNet-8" in table

    bad = cli("resume", run_id, "--runs-dir", runs_dir, check=False)
    assert bad.returncode == 2 and "only stopped or interrupted" in bad.stderr
    bad = cli("stop", run_id, "--runs-dir", runs_dir, check=False)
    assert bad.returncode == 2 and "not queued or running" in bad.stderr
    cli("delete", run_id[:12], "--runs-dir", runs_dir)
    assert json.loads(cli("runs", "--json", "--runs-dir", runs_dir).stdout) == []


def test_a_run_that_cannot_load_its_data_fails_cleanly(runs_dir, tmp_path):
    proc = cli(
        "train",
        "--depth",
        "8",
        "--dataset",
        "cifar10",
        "--data-dir",
        str(tmp_path / "none"),
        "--runs-dir",
        runs_dir,
        check=False,
    )
    assert proc.returncode == 1
    assert "cifar-10-python.tar.gz" in proc.stderr and "shapes" in proc.stderr
    run = json.loads(cli("runs", "--json", "--runs-dir", runs_dir).stdout)[0]
    assert run["status"] == "failed" and "DatasetUnavailable" in run["error"]


@pytest.mark.parametrize(
    "args, words",
    [
        (["train", "--depth", "21"], ["20, 26"]),
        (["train", "--depth", "50", "--stem", "imagenet"], ["18, 34"]),
        (["train", "--block", "dense"], ["basic", "bottleneck"]),
        (["train", "--dataset", "svhn"], ["shapes", "cifar10", "cifar100", "fashion-mnist", "mnist"]),
        (["train", "--device", "tpu"], ["auto", "cpu", "cuda", "mps"]),
        (["train", "--epochs", "0"], ["epochs"]),
        (["train", "--train-size", "0"], ["train-size"]),
        (["resume", "nosuchrun"], ["no run"]),
        (["delete", "nosuchrun"], ["no run"]),
        (["frobnicate"], ["train", "runs"]),
    ],
)
def test_bad_arguments_exit_2_naming_the_valid_values(args, words, runs_dir):
    proc = cli(*args, "--runs-dir", runs_dir, check=False) if args[0] != "frobnicate" else cli(*args, check=False)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    for word in words:
        assert word in proc.stderr
