"""Benchmark: training a plain + residual pair side by side on the CPU, against one after another.

The Train page's "Train plain + residual twins" starts two runs that should grow their curves together.
On a CPU the cores must then be shared; this measures how, on the same nets, batches and step code:

- one after another: one process with all the cores trains the residual net, then the plain one
                     (what a runner with one slot does);
- side by side:      one process per net, the cores split between them (`cores // 2` torch threads
                     each) — what the JobRunner and its workers do (worker.ThreadShare);
- unsplit:           one process per net, each with all the cores (no thread management): the cores
                     are oversubscribed;
- lockstep:          one process with all the cores stepping both nets in turn on the same batch.

Each way trains `steps` steps of each net per repeat, timed from one "go" sent to every process at the
same moment to the last one's end (processes start, load and warm up before, untimed: that cost is the
same in every way). A step is the trainer's own: a `DeviceLoader` batch (the Train page's CPU recipe),
forward, cross-entropy, backward, SGD with momentum, the loss kept on the device and read every
`log_every` steps. Throughput is the pair's images (both nets) per second of wall time. The ways are
interleaved (rotated each repeat) and the report gives medians of rates and of per-repeat ratios to
"one after another", measured seconds apart.

    python -m resnet_core bench --twins [--models 20] [--steps 30] [--repeats 5]
    python -m resnet_core bench --twins --quick      # a smoke run (tests)
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

WAYS = ("one after another", "side by side", "unsplit", "lockstep")
BASELINE = "one after another"


@dataclass(frozen=True)
class TwinsConfig:
    depth: int = 20  # the Train page's default net, ResNet-20
    width: int | None = None  # None: the paper's 16
    steps: int = 30  # timed steps of each net per repeat
    repeats: int = 5
    warmup_steps: int = 5  # untimed, per process, before the first repeat
    batch_size: int | None = None  # None: the Train page's CPU recipe (runs/experiments.quick_recipe)
    log_every: int = 10  # the trainer's default: one host copy of the losses every 10 steps
    cores: int | None = None  # None: os.cpu_count()

    @classmethod
    def quick(cls, **changes) -> TwinsConfig:
        base = cls(depth=8, width=4, steps=2, repeats=1, warmup_steps=1, batch_size=16)
        return dataclasses.replace(base, **changes)


@dataclass
class TwinsReport:
    config: TwinsConfig
    machine: dict[str, Any]
    batch_size: int
    rates: dict[str, list[float]] = field(default_factory=dict)  # way -> pair images/s per repeat

    @property
    def medians(self) -> dict[str, float]:
        return {way: statistics.median(v) for way, v in self.rates.items()}

    def ratio(self, way: str, base: str = BASELINE) -> float:
        return statistics.median(a / b for a, b in zip(self.rates[way], self.rates[base]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": dataclasses.asdict(self.config),
            "machine": self.machine,
            "batch_size": self.batch_size,
            "rates": self.rates,
            "medians": self.medians,
            "ratios": {way: self.ratio(way) for way in self.rates},
        }


# --------------------------------------------------------------------------------- the child process


def child(args: argparse.Namespace) -> None:
    """A process training one or two nets on command: each "go" line on stdin times `steps` steps of
    every net it holds (in turn, or in lockstep) and answers one JSON line."""
    import torch
    import torch.nn.functional as F

    from ..data.loader import DeviceLoader
    from ..model.net import build_net
    from ..model.spec import NetSpec
    from ..training.train import TrainConfig, make_optimizer
    from .trainer import MEAN, STD, random_dataset

    torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    data = random_dataset(args.batch_size * (args.steps + args.warmup), 16, seed=0)
    loader = DeviceLoader(
        data.train_images,
        data.train_labels,
        batch_size=args.batch_size,
        device=device,
        mean=MEAN,
        std=STD,
        shuffle=True,
        seed=0,
        channels_last=True,
    )
    nets = []
    for skip in args.skips:
        net = build_net(NetSpec(depth=args.depth, width=args.width, skip=skip))
        net = net.to(device).to(memory_format=torch.channels_last)
        nets.append((net, make_optimizer(net, TrainConfig())))

    def step(net, optimizer, images, labels, losses) -> None:
        loss = F.cross_entropy(net(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
        if len(losses) == args.log_every:
            torch.stack(losses).tolist()  # the trainer's one host copy per logging point
            losses.clear()

    def train(steps: int, epoch: int) -> None:
        pending: list[list[torch.Tensor]] = [[] for _ in nets]  # each net's losses since its last host copy
        if args.lockstep:  # one batch, every net steps on it
            for i, (images, labels) in enumerate(loader.batches(epoch)):
                if i == steps:
                    break
                for (net, optimizer), losses in zip(nets, pending):
                    step(net, optimizer, images, labels, losses)
        else:  # each net its whole share, then the next
            for (net, optimizer), losses in zip(nets, pending):
                for i, (images, labels) in enumerate(loader.batches(epoch)):
                    if i == steps:
                        break
                    step(net, optimizer, images, labels, losses)
        for losses in pending:
            if losses:
                torch.stack(losses).tolist()

    for net, _ in nets:
        net.train()
    train(args.warmup, 0)
    print("ready", flush=True)
    for epoch, line in enumerate(sys.stdin, start=1):
        if line.strip() != "go":
            break
        started = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of the machine
        train(args.steps, epoch)
        print(
            json.dumps({"start": started, "end": time.monotonic(), "images": args.steps * args.batch_size * len(nets)}),
            flush=True,
        )


# -------------------------------------------------------------------------------------- the parent


class _Way:
    """The processes of one way of training the pair, started and warmed up once, then timed on demand."""

    def __init__(self, way: str, config: TwinsConfig, batch_size: int, cores: int) -> None:
        def spawn(skips: list[bool], threads: int, lockstep: bool = False) -> subprocess.Popen[str]:
            command = [
                sys.executable,
                "-m",
                "resnet_core.bench.twins",
                "--child",
                "--threads",
                str(threads),
                "--depth",
                str(config.depth),
                "--batch-size",
                str(batch_size),
                "--steps",
                str(config.steps),
                "--warmup",
                str(config.warmup_steps),
                "--log-every",
                str(config.log_every),
                "--skips",
                ",".join(str(int(s)) for s in skips),
            ]
            if config.width is not None:
                command += ["--width", str(config.width)]
            if lockstep:
                command.append("--lockstep")
            return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

        if way == "one after another":
            self.procs = [spawn([True, False], cores)]
        elif way == "side by side":
            self.procs = [spawn([True], max(1, cores // 2)), spawn([False], max(1, cores // 2))]
        elif way == "unsplit":
            self.procs = [spawn([True], cores), spawn([False], cores)]
        elif way == "lockstep":
            self.procs = [spawn([True, False], cores, lockstep=True)]
        else:
            raise ValueError(f"unknown way {way!r}; choose from {', '.join(WAYS)}")
        for p in self.procs:
            self._expect(p, "ready")

    @staticmethod
    def _expect(proc: subprocess.Popen[str], what: str) -> str:
        assert proc.stdout is not None, "spawned with stdout=PIPE"
        line = proc.stdout.readline()
        if not line or (what == "ready" and line.strip() != "ready"):
            raise RuntimeError(f"a benchmark process ended early (exit code {proc.wait()})")
        return line

    @staticmethod
    def _stdin(proc: subprocess.Popen[str]) -> IO[str]:
        assert proc.stdin is not None, "spawned with stdin=PIPE"
        return proc.stdin

    def measure(self) -> float:
        """The pair's images per second of wall time, from the common start to the last end."""
        stdins = [self._stdin(p) for p in self.procs]
        for stdin in stdins:
            stdin.write("go\n")
        for stdin in stdins:
            stdin.flush()
        results = [json.loads(self._expect(p, "result")) for p in self.procs]
        wall = max(r["end"] for r in results) - min(r["start"] for r in results)
        return sum(r["images"] for r in results) / wall

    def close(self) -> None:
        for p in self.procs:
            try:
                self._stdin(p).close()
            except OSError:
                pass
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def run_twins_benchmark(
    config: TwinsConfig | None = None, ways: tuple[str, ...] = WAYS, log: Callable[[str], None] = print
) -> TwinsReport:
    from ..studies.experiments import quick_recipe

    unknown = [way for way in ways if way not in WAYS]
    if unknown:
        raise ValueError(f"unknown way {unknown[0]!r}; choose from {', '.join(WAYS)}")
    config = config or TwinsConfig()
    cores = config.cores or os.cpu_count() or 1
    batch_size = config.batch_size or quick_recipe("cpu")["batch_size"]
    if BASELINE not in ways:
        ways = (BASELINE, *ways)
    report = TwinsReport(config, machine_info(cores), batch_size, {way: [] for way in ways})
    log(f"starting and warming up {sum(2 if w in ('side by side', 'unsplit') else 1 for w in ways)} processes")
    started: dict[str, _Way] = {}
    try:
        for way in ways:
            started[way] = _Way(way, config, batch_size, cores)
        for r in range(config.repeats):
            order = ways[r % len(ways) :] + ways[: r % len(ways)]  # rotate: spread drift over the ways
            for way in order:
                report.rates[way].append(started[way].measure())
            log(
                f"repeat {r + 1}/{config.repeats}: "
                + ", ".join(f"{w} {report.rates[w][-1]:.0f}" for w in ways)
                + " images/s (the pair)"
            )
    finally:
        for w in started.values():
            w.close()
    return report


def machine_info(cores: int) -> dict[str, Any]:
    import torch

    from .trainer import _cpu_model

    return {
        "cpu": _cpu_model(),
        "cores": cores,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "date": datetime.date.today().isoformat(),
    }


def format_twins_report(report: TwinsReport) -> str:
    c, m = report.config, report.machine
    name = f"ResNet-{c.depth}" + (f" (width {c.width})" if c.width else "")
    lines = [
        f"{name} plain + residual pair on the CPU, {c.steps} steps × {report.batch_size} images of each net "
        f"per repeat, median of {c.repeats} interleaved repeats",
        f"CPU: {m['cpu']}, {m['cores']} cores; torch {m['torch']}; load average at start "
        f"{' '.join(f'{x:.2f}' for x in m['load_average'])}; {m['date']}",
        "",
        f"{'way':<20}{'pair images/s':>15}{'vs one after another':>23}",
    ]
    for way, rate in report.medians.items():
        lines.append(f"{way:<20}{rate:>15.0f}{report.ratio(way):>23.2f}")
    return "\n".join(lines)


def _child_main(argv: list[str]) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--child", action="store_true")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--depth", type=int, required=True)
    p.add_argument("--width", type=int, default=None)
    p.add_argument("--batch-size", type=int, required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--warmup", type=int, required=True)
    p.add_argument("--log-every", type=int, required=True)
    p.add_argument("--skips", type=lambda s: [bool(int(x)) for x in s.split(",")], required=True)
    p.add_argument("--lockstep", action="store_true")
    child(p.parse_args(argv))


if __name__ == "__main__":  # the benchmark's own processes (see _Way); the command is `bench --twins`
    _child_main(sys.argv[1:])
