"""Benchmark: the trainer against the net's raw speed and against a textbook PyTorch loop.

For each model (ResNet-20 and ResNet-56 by default) on CIFAR-shaped random uint8 images it measures
training images/s of four variants, side by side in one process:

- trainer:   `train()` as the app runs it (device-resident data, whole-batch augmentation, no probes);
- probes:    the same with the default probes on (gradient norms every `grad_norm_every` steps);
- raw:       the same net, precision and memory format: forward + backward + SGD step on one batch
             that is already on the device — the ceiling for any data pipeline;
- textbook:  a torchvision `DataLoader` (2 workers) over a CIFAR10-style dataset that makes a PIL image
             per item and applies RandomCrop(32, padding=4), RandomHorizontalFlip, ToTensor, Normalize;
             fp32, contiguous tensors, `loss.item()` every step (as in the PyTorch CIFAR-10 tutorial).

Every variant times the same number of steps of the same batch size after one untimed warm-up per model.
A shared machine is noisy, so the variants are interleaved (rotated each repeat) and the report gives
medians of rates and medians of per-repeat ratios (variants measured seconds apart). The trainer's rate
is its own "epoch" event (training steps only); the textbook's timing includes starting its worker
processes, which a real epoch pays too.

Probe overhead is reported two ways: measured, trainer vs probes (gradient norms only, at the bench's
rate of one per `steps` or `grad_norm_every` steps — too small to see through the noise on a busy CPU),
and estimated from the probes' own costs, each timed directly, for a CIFAR-sized epoch of 50,000 images
with the trainer's defaults: one gradient-norm copy every `grad_norm_every` steps and one responses
probe per epoch.

    python -m resnet_core bench                 # ResNet-20 and -56, a few minutes on a laptop CPU
    python -m resnet_core bench --quick         # a smoke run: tiny step counts
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms as T
from PIL import Image

from ..analysis.probes import WeightGradNorms
from ..data.datasets import ImageDataset
from ..data.pixels import normalize, normalizer
from ..model.net import build_net
from ..model.spec import NetSpec
from ..training.device import describe_device, pick_device
from ..training.train import (
    TrainConfig,
    autocast,
    compiled,
    make_optimizer,
    resolve_channels_last,
    resolve_precision,
    train,
)

VARIANTS = ("trainer", "probes", "raw", "textbook")
CIFAR_TRAIN_IMAGES = 50_000  # an epoch of CIFAR-10, to express rates as seconds per epoch
MEAN, STD = (0.49, 0.48, 0.45), (0.25, 0.24, 0.26)  # CIFAR-10-like; the images are random anyway


@dataclass(frozen=True)
class BenchConfig:
    models: tuple[int, ...] = (20, 56)  # CIFAR ResNet depths (6n+2)
    steps: int | None = None  # timed steps per variant and repeat; None: 16 on a CPU, 200 on a GPU
    repeats: int = 5  # medians over this many interleaved repeats
    warmup_steps: int = 3  # untimed steps per variant and model, before the first repeat
    batch_size: int = 128  # the paper's mini-batch
    device: str = "auto"
    workers: int = 2  # the textbook DataLoader's worker processes
    compile: bool = False  # torch.compile the trainer's and the raw loop's net
    width: int | None = None  # first-stage width (None: 16, the paper's); smaller in --quick
    grad_norm_every: int = TrainConfig.grad_norm_every  # the probes variant's gradient-norm interval
    probe_batch_size: int = TrainConfig.probe_batch_size  # the responses probe's images

    @classmethod
    def quick(cls, **changes) -> BenchConfig:
        """A smoke run for tests: one small model, two steps, one repeat."""
        base = cls(
            models=(20,),
            steps=2,
            repeats=1,
            warmup_steps=1,
            batch_size=16,
            width=4,
            grad_norm_every=1,
            probe_batch_size=16,
        )
        return dataclasses.replace(base, **changes)


@dataclass
class ModelResult:
    model: str  # "ResNet-20"
    params: int
    batch_size: int
    rates: dict[str, list[float]]  # variant -> images/s of each repeat
    responses_seconds: list[float]  # one responses probe (eval-mode forward of the probe batch), per repeat
    grad_norm_seconds: list[float]  # one in-loop gradient-norm computation and host copy, per repeat
    grad_norm_every: int = TrainConfig.grad_norm_every  # the trainer's default, for the estimate

    @property
    def medians(self) -> dict[str, float]:
        return {variant: statistics.median(values) for variant, values in self.rates.items()}

    def ratio(self, a: str, b: str) -> float:
        """Median over repeats of rate(a) / rate(b): each pair was measured seconds apart."""
        return statistics.median(x / y for x, y in zip(self.rates[a], self.rates[b]))

    @property
    def summary(self) -> dict[str, float]:
        """Ratios, probe overheads in % of a 50,000-image epoch, and that epoch's seconds."""
        epoch_seconds = CIFAR_TRAIN_IMAGES / self.medians["trainer"]
        norms_per_epoch = math.ceil(math.ceil(CIFAR_TRAIN_IMAGES / self.batch_size) / self.grad_norm_every)
        grad_norms = norms_per_epoch * statistics.median(self.grad_norm_seconds) / epoch_seconds * 100.0
        responses = statistics.median(self.responses_seconds) / epoch_seconds * 100.0
        return {
            "trainer_vs_raw": self.ratio("trainer", "raw"),
            "trainer_vs_textbook": self.ratio("trainer", "textbook"),
            "probes_measured_pct": (self.ratio("trainer", "probes") - 1.0) * 100.0,  # extra time per image
            "grad_norms_pct": grad_norms,
            "responses_pct": responses,
            "probe_overhead_pct": grad_norms + responses,
            "epoch_seconds_50k": epoch_seconds,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "medians": self.medians, "summary": self.summary}


@dataclass
class BenchReport:
    config: BenchConfig
    steps: int  # the resolved step count
    machine: dict[str, Any]
    results: list[ModelResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": dataclasses.asdict(self.config),
            "steps": self.steps,
            "machine": self.machine,
            "results": [r.to_dict() for r in self.results],
        }


def run_benchmark(config: BenchConfig | None = None, log: Callable[[str], None] = print) -> BenchReport:
    """Measure every model and variant (see the module docstring); `log` gets progress lines."""
    config = config or BenchConfig()
    device = pick_device(config.device)
    steps = config.steps or (16 if device.type == "cpu" else 200)
    report = BenchReport(config, steps, machine_info(device))
    for depth in config.models:
        spec = NetSpec(depth=depth, width=config.width)
        log(f"{spec.name}: warming up")
        variants = _Variants(spec, device, config, steps)
        for variant in VARIANTS:
            variants.measure(variant, warmup=True)
        rates: dict[str, list[float]] = {v: [] for v in VARIANTS}
        responses: list[float] = []
        grad_norms: list[float] = []
        for r in range(config.repeats):
            order = VARIANTS[r % len(VARIANTS) :] + VARIANTS[: r % len(VARIANTS)]  # rotate: spread drift
            for variant in order:
                rate, probe_seconds = variants.measure(variant)
                rates[variant].append(rate)
                if probe_seconds is not None:
                    responses.append(probe_seconds)
            grad_norms.append(variants.time_grad_norms())
            log(
                f"{spec.name} repeat {r + 1}/{config.repeats}: "
                + ", ".join(f"{v} {rates[v][-1]:.0f}" for v in VARIANTS)
                + " images/s"
            )
        report.results.append(ModelResult(spec.name, variants.params, config.batch_size, rates, responses, grad_norms))
    return report


class _Variants:
    """The four ways to train one model, each timed over `steps` steps of `batch_size` images."""

    def __init__(self, spec: NetSpec, device: torch.device, config: BenchConfig, steps: int) -> None:
        self.spec, self.device, self.config, self.steps = spec, device, config, steps
        self.precision = resolve_precision("auto", device)
        self.channels_last = resolve_channels_last(None, device)
        b = config.batch_size
        self.data = random_dataset(steps * b, max(b, config.probe_batch_size), seed=0)
        self.warmup_data = random_dataset(max(config.warmup_steps, 1) * b, max(b, config.probe_batch_size), 1)
        self.raw_net = self._net(channels_last=self.channels_last)
        self.params = sum(p.numel() for p in self.raw_net.parameters())
        self.raw_model = compiled(self.raw_net, device) if config.compile else self.raw_net
        self.raw_optimizer = make_optimizer(self.raw_net, TrainConfig())
        scale, shift = normalizer(MEAN, STD, device)
        self.raw_images = normalize(
            self.data.train_images[:b].to(device), scale, shift, channels_last=self.channels_last
        )
        self.raw_labels = self.data.train_labels[:b].to(device)
        self.textbook_data = textbook_dataset(self.data)
        self.textbook_net = self._net(channels_last=False)
        self.textbook_optimizer = make_optimizer(self.textbook_net, TrainConfig())

    def _net(self, channels_last: bool) -> torch.nn.Module:
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        return build_net(self.spec).to(self.device).to(memory_format=fmt)

    def measure(self, variant: str, warmup: bool = False) -> tuple[float, float | None]:
        """(images/s, seconds of one responses probe or None)."""
        steps = max(self.config.warmup_steps, 1) if warmup else self.steps
        if variant in ("trainer", "probes"):
            return self._trainer(probes=variant == "probes", data=self.warmup_data if warmup else self.data)
        timer = self._raw if variant == "raw" else self._textbook
        seconds = timer(steps)
        return steps * self.config.batch_size / seconds, None

    def _trainer(self, probes: bool, data: ImageDataset) -> tuple[float, float | None]:
        config = TrainConfig(
            epochs=1,
            batch_size=self.config.batch_size,
            device=str(self.device),
            compile=self.config.compile,
            grad_norm_every=self.config.grad_norm_every if probes else 0,
            probe_batch_size=self.config.probe_batch_size if probes else 0,
            checkpoint_every=0,
        )
        marks: dict[str, Any] = {}

        def on_event(event) -> None:
            if event.kind == "epoch":
                marks["epoch"], marks["rate"] = time.perf_counter(), event.images_per_second
            elif event.kind == "responses":
                marks["responses"] = time.perf_counter() - marks["epoch"]

        train(self.spec, data, config, on_event)
        return marks["rate"], marks.get("responses")

    def time_grad_norms(self, calls: int = 10) -> float:
        """Median seconds of the trainer's in-loop gradient norms (one fused op and a host copy)."""
        recorder = WeightGradNorms(self.raw_net, self.raw_images[:2])
        with autocast(self.device, self.precision):
            loss = F.cross_entropy(self.raw_model(self.raw_images), self.raw_labels)
        loss.backward()  # the raw loop's next zero_grad clears these
        times = []
        for _ in range(calls):
            _sync(self.device)
            started = time.perf_counter()
            recorder.to_dict(recorder.compute())
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    def _raw(self, steps: int) -> float:
        model, optimizer, x, y = self.raw_model, self.raw_optimizer, self.raw_images, self.raw_labels
        _sync(self.device)
        started = time.perf_counter()
        for _ in range(steps):
            with autocast(self.device, self.precision):
                loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        _sync(self.device)
        return time.perf_counter() - started

    def _textbook(self, steps: int) -> float:
        net, optimizer = self.textbook_net, self.textbook_optimizer
        loader = torch.utils.data.DataLoader(
            self.textbook_data,
            batch_size=self.config.batch_size,
            shuffle=True,
            num_workers=self.config.workers,
            pin_memory=self.device.type == "cuda",
            drop_last=True,
        )
        started = time.perf_counter()  # includes starting the workers, as every textbook epoch does
        running_loss = 0.0
        for i, (inputs, labels) in enumerate(loader):
            if i == steps:
                break
            inputs, labels = inputs.to(self.device), labels.to(self.device)
            optimizer.zero_grad()
            loss = F.cross_entropy(net(inputs), labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        _sync(self.device)
        return time.perf_counter() - started


class TextbookCIFAR(torch.utils.data.Dataset):
    """What torchvision's `CIFAR10` does per item: a PIL image from an HWC uint8 array, then transforms."""

    def __init__(self, images_hwc: np.ndarray, labels: np.ndarray, transform: Callable) -> None:
        self.images, self.labels, self.transform = images_hwc, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(Image.fromarray(self.images[index])), int(self.labels[index])


def textbook_dataset(data: ImageDataset) -> TextbookCIFAR:
    """The training images as torchvision's CIFAR10 holds them (HWC uint8), with the usual transforms."""
    transform = T.Compose(
        [
            T.RandomCrop(32, padding=4),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize(data.mean, data.std),
        ]
    )
    images_hwc = np.ascontiguousarray(data.train_images.permute(0, 2, 3, 1).numpy())
    return TextbookCIFAR(images_hwc, data.train_labels.numpy(), transform)


def random_dataset(train_size: int, test_size: int, seed: int = 0) -> ImageDataset:
    """CIFAR-shaped random uint8 images and labels: speed does not depend on the pixels."""
    g = torch.Generator().manual_seed(seed)
    return ImageDataset(
        name="random",
        classes=tuple(f"class{i}" for i in range(10)),
        train_images=torch.randint(0, 256, (train_size, 3, 32, 32), dtype=torch.uint8, generator=g),
        train_labels=torch.randint(0, 10, (train_size,), generator=g),
        test_images=torch.randint(0, 256, (test_size, 3, 32, 32), dtype=torch.uint8, generator=g),
        test_labels=torch.randint(0, 10, (test_size,), generator=g),
        mean=MEAN,
        std=STD,
    )


def machine_info(device: torch.device) -> dict[str, Any]:
    return {
        "device": describe_device(device),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "precision": resolve_precision("auto", device),
        "channels_last": resolve_channels_last(None, device),
        "date": datetime.date.today().isoformat(),
    }


def format_report(report: BenchReport) -> str:
    """The report as a plain-text table."""
    m, c = report.machine, report.config
    lines = [
        f"images/s, median of {c.repeats} interleaved repeats of {report.steps} steps × {c.batch_size} images",
        f"device: {m['device']}; CPU: {m['cpu']}, {m['cores']} cores; torch {m['torch']}; "
        f"{m['precision']}{', channels_last' if m['channels_last'] else ''}; {m['date']}",
        "",
        f"{'model':<11}{'trainer':>9}{'+probes':>9}{'raw':>9}{'textbook':>10}"
        f"{'tr/raw':>8}{'tr/text':>9}{'probes %':>10}{'50k epoch s':>13}",
    ]
    for r in report.results:
        md, s = r.medians, r.summary
        lines.append(
            f"{r.model:<11}{md['trainer']:>9.0f}{md['probes']:>9.0f}{md['raw']:>9.0f}{md['textbook']:>10.0f}"
            f"{s['trainer_vs_raw']:>8.2f}{s['trainer_vs_textbook']:>9.2f}{s['probe_overhead_pct']:>10.1f}"
            f"{s['epoch_seconds_50k']:>13.1f}"
        )
    lines += [
        "",
        "tr/raw, tr/text: medians of per-repeat ratios. probes %: estimated for a 50,000-image",
        "epoch from the probes' own timed costs = gradient norms + responses; measured = trainer vs",
        "+probes:",
    ]
    for r in report.results:
        s = r.summary
        lines.append(
            f"  {r.model}: {s['grad_norms_pct']:.2f}% + {s['responses_pct']:.2f}%; "
            f"measured {s['probes_measured_pct']:+.1f}%"
        )
    return "\n".join(lines)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
