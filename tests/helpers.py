"""Helpers shared by the test files (a helper module, not a test file): tiny training work, random data, the
command line's arguments and exit status, waiting for a condition, a run store as an older release made it."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

import resnet_core as rc
from resnet_core.data.datasets import ImageDataset
from resnet_core.store.config import RunConfig
from resnet_core.store.run_store import RunStore
from resnet_core.training.train import TrainConfig

# The reference bundle the app shipped before it moved to Fashion-MNIST: the longer CPU preset's recipe on the
# embedded `shapes` set, trained on 2026-11-28 (its provenance.json). There plain-56 never learned (85% training
# error, chance 90%), so it is real evidence for the pages' "this net did not learn" verdicts.
SHAPES_BUNDLE = Path(__file__).resolve().parent / "data" / "reference-shapes"

# Training that records only its steps and epochs: no gradient norms, no responses probe, no checkpoint.
NO_PROBES = {"grad_norm_every": 0, "probe_batch_size": 0, "checkpoint_every": 0}

# Runs for the Gradients and Responses pages: two epochs of 300 images, their probes every other step.
PROBED = dict(
    epochs=2, batch_size=50, train_size=300, test_size=100, log_every=2, grad_norm_every=2, probe_batch_size=32
)


def tiny_run(data_dir, **changes) -> RunConfig:
    """ResNet-8 sized work on the CPU: 200 training images in batches of 50 (4 steps an epoch), 100 test
    images, one epoch, no augmentation; `changes` as RunConfig.replace takes them (its own or TrainConfig's)."""
    train = TrainConfig(epochs=1, batch_size=50, lr=0.05, log_every=1, device="cpu", augment=False)
    return RunConfig(train, train_size=200, test_size=100, data_dir=str(data_dir)).replace(**changes)


def random_data(n_train: int = 48, n_test: int = 16, seed: int = 0) -> ImageDataset:
    """Random 32×32 RGB images in ten classes: a net cannot learn them, but trains on them in no time."""
    g = torch.Generator().manual_seed(seed)
    return ImageDataset(
        name="random",
        classes=tuple("abcdefghij"),
        train_images=torch.randint(0, 256, (n_train, 3, 32, 32), dtype=torch.uint8, generator=g),
        train_labels=torch.randint(0, 10, (n_train,), generator=g),
        test_images=torch.randint(0, 256, (n_test, 3, 32, 32), dtype=torch.uint8, generator=g),
        test_labels=torch.randint(0, 10, (n_test,), generator=g),
        mean=(0.5,) * 3,
        std=(0.29,) * 3,
    )


def cli_args(command: str, *flags: str, **options) -> list[str]:
    """`command`'s arguments for `python -m resnet_core`: each option as `--name value` (underscores become
    dashes: train_size= is --train-size), in the order given, then the bare `flags` (`--twins`)."""
    args = [command]
    for name, value in options.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    return args + list(flags)


def train_args(data_dir, runs_dir, **options) -> list[str]:
    """cli_args for `train`: ResNet-8 of width 4 on 300 images (100 to test) in batches of 50, with these data
    and runs folders; `options` add to them or change them."""
    sizes = {"depth": 8, "width": 4, "train_size": 300, "test_size": 100, "batch_size": 50}
    return cli_args("train", **{**sizes, **options}, data_dir=data_dir, runs_dir=runs_dir)


def tiny_cli(command: str, data_dir, runs_dir, *flags: str, **options) -> list[str]:
    """cli_args for `train` or `sweep` on tiny_run's sizes: one epoch of 200 images (100 to test) on the CPU,
    with these data and runs folders; `options` add to them or change them."""
    sizes = {"epochs": 1, "train_size": 200, "test_size": 100, "device": "cpu"}
    return cli_args(command, *flags, **sizes, data_dir=data_dir, runs_dir=runs_dir, **options)


def cli_status(args: list[str]) -> int:
    """The exit status of `python -m resnet_core ARGS` run in this process, argparse's own refusals included."""
    from resnet_core.cli.main import main

    try:
        return main(args)
    except SystemExit as exit_:  # argparse's own checks
        return exit_.code  # type: ignore[return-value]


def wait_for(predicate: Callable[[], object], timeout: float = 60.0, what: str = "the condition") -> None:
    """Until `predicate()` is true, looking every 50 ms; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def old_store(root: Path, create_table: str, spec: rc.NetSpec | None = None) -> RunStore:
    """A runs folder as an older release left it: its runs table made by `create_table` (that release's
    `CREATE TABLE runs …`), holding one completed run of `spec` (a ResNet-8), 'old-run'; opened by this
    release's RunStore."""
    root.mkdir()
    db = sqlite3.connect(root / "runs.sqlite")
    db.execute(create_table)
    db.execute(
        "INSERT INTO runs (id, name, spec, config, dataset, status, created_at, updated_at)"
        " VALUES ('old-run', 'ResNet-8', ?, '{}', 'shapes', 'completed', 1.0, 1.0)",
        (json.dumps((spec or rc.NetSpec(depth=8)).to_dict()),),
    )
    db.commit()
    db.close()
    return RunStore(root)


def drawings(at) -> list[dict]:
    """The data (svg, label, png_label, filename) of each inline drawing an AppTest run shows
    (ui/views/render.show_drawing)."""
    return [
        json.loads(e.proto.json) for e in at.get("bidi_component") if e.proto.component_name == "resnet_lab.drawing"
    ]


@dataclass(frozen=True)
class Chart:
    """A chart an AppTest run shows: its figure (plotly's JSON, as `spec` and parsed) and its element's id, which
    holds the key the page gave it."""

    spec: str
    id: str

    @property
    def figure(self) -> dict:
        return json.loads(self.spec)


def charts(at) -> list[Chart]:
    """The charts an AppTest run shows: ui/views/render.show_chart's elements, then Streamlit's own (a figure
    with a trace plotly.js's 2-D bundle lacks: the loss landscape's 3-D surfaces)."""
    ours = [
        Chart(json.loads(e.proto.json)["figure"], e.proto.id)
        for e in at.get("bidi_component")
        if e.proto.component_name == "resnet_lab.chart"
    ]
    return ours + [Chart(e.proto.spec, e.proto.id) for e in at.get("plotly_chart")]


# In a browser: a chart (ui/views/render.show_chart's element, or Streamlit's for a 3-D figure), and one drawn.
CHART = ".resnet-lab-chart, [data-testid=stPlotlyChart]"
CHART_DRAWN = ".resnet-lab-chart.js-plotly-plot, [data-testid=stPlotlyChart] .js-plotly-plot"
# The figures drawn so far, charts and inline drawings (their SVG in the element's shadow root).
FIGURES_DRAWN = f"""() => document.querySelectorAll('{CHART_DRAWN}').length
  + [...document.querySelectorAll('[data-testid=stBidiComponentIsolated]')]
      .filter(h => h.shadowRoot && h.shadowRoot.querySelector('.drawing svg')).length"""
