"""Command line: `python -m resnet_core COMMAND ...` (installed: `resnet-lab COMMAND ...`).

    python -m resnet_core train --depth 56 [--plain] [--epochs 10] [--train-size 5000] ...
    python -m resnet_core runs [--json] | resume RUN | stop RUN | delete RUN
    python -m resnet_core degradation [--depths 20,56] [--device cpu]
    python -m resnet_core reference [--out DIR] [--depths 8,14 --epochs 1 --train-size 200]  (the app's reference runs)
    python -m resnet_core sweep --depths 20,56 --twins --seeds 3 [--executor ray [--address ADDR]]
    python -m resnet_core bench [--quick] [--device cpu] [--models 20,56] [--steps 25] [--json]

Each command is a pair of functions: `add_<name>(subparsers)` declares its flags and sets `handler`,
and the handler takes the parsed arguments and returns the exit status. The run commands live in
cli/runs.py; to add a command, write the pair and append its `add_` function to `COMMANDS`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence

from ..store.run_store import StoreCorrupt
from ..training.device import DEVICE_CHOICES
from .args import depths_arg, positive_int
from .degradation import add_degradation
from .reference import add_reference
from .runs import COMMANDS as RUN_COMMANDS
from .runs import damaged_store_advice
from .sweep import add_sweep


def add_bench(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "bench",
        help="measure the trainer's images/s against the raw net and a textbook DataLoader loop",
        description="Benchmark the trainer (see resnet_core/cli/bench.py and BENCHMARKS.md).",
    )
    p.add_argument("--quick", action="store_true", help="a smoke run with tiny step counts (for tests)")
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    p.add_argument(
        "--models",
        type=depths_arg,
        default=None,
        metavar="DEPTHS",
        help="comma-separated CIFAR ResNet depths (default: 20,56)",
    )
    p.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        help="timed steps per variant and repeat (default: 16 on a CPU, 200 on a GPU)",
    )
    p.add_argument("--repeats", type=positive_int, default=None, help="interleaved repeats (default: 5)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="images per step (default: 128)")
    p.add_argument("--workers", type=int, default=None, help="textbook DataLoader workers (default: 2)")
    p.add_argument("--compile", action="store_true", help="torch.compile the trainer's and raw loop's net")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.add_argument(
        "--pages",
        action="store_true",
        help="instead: the interactive pages' speed targets (gradient profile, attributions, run-store reads)",
    )
    p.add_argument(
        "--twins",
        action="store_true",
        help="instead: a plain + residual pair trained side by side "
        "on the CPU against one after another (cli/bench_twins.py; --models takes one depth)",
    )
    p.set_defaults(handler=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    from . import bench  # imported here: `python -m resnet_core runs` should not pay for torchvision

    if args.pages:
        from ..data.datasets import load_dataset
        from .bench_pages import run_page_benchmarks

        log = (lambda line: print(line, file=sys.stderr)) if args.json else print
        report = run_page_benchmarks(load_dataset("shapes"), log=log)
        if args.json:
            print(json.dumps(report, indent=2))
        return 0
    if args.twins:
        return run_twins_bench(args)
    config = bench.BenchConfig.quick() if args.quick else bench.BenchConfig()
    changes = {
        "models": args.models,
        "steps": args.steps,
        "repeats": args.repeats,
        "batch_size": args.batch_size,
        "workers": args.workers,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    config = dataclasses.replace(config, device=args.device, compile=args.compile, **changes)
    log = (lambda line: print(line, file=sys.stderr)) if args.json else print
    report = bench.run_benchmark(config, log=log)
    print(json.dumps(report.to_dict(), indent=2) if args.json else "\n" + bench.format_report(report))
    return 0


def run_twins_bench(args: argparse.Namespace) -> int:
    from .bench_twins import TwinsConfig, format_twins_report, run_twins_benchmark

    if args.models and len(args.models) != 1:
        raise ValueError("bench --twins trains one pair: give one depth to --models")
    config = TwinsConfig.quick() if args.quick else TwinsConfig()
    changes = {
        "depth": args.models[0] if args.models else None,
        "steps": args.steps,
        "repeats": args.repeats,
        "batch_size": args.batch_size,
    }
    config = dataclasses.replace(config, **{k: v for k, v in changes.items() if v is not None})
    log = (lambda line: print(line, file=sys.stderr)) if args.json else print
    report = run_twins_benchmark(config, log=log)
    print(json.dumps(report.to_dict(), indent=2) if args.json else "\n" + format_twins_report(report))
    return 0


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    *RUN_COMMANDS,
    add_degradation,
    add_reference,
    add_sweep,
    add_bench,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="resnet-lab", description="ResNet Lab from the shell.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as error:  # invalid choices the library reports (bad depth, unavailable device)
        print(f"error: {error}", file=sys.stderr)
        return 2
    except StoreCorrupt as error:  # runs.sqlite damaged: name it and say what to do, no traceback
        print(damaged_store_advice(error), file=sys.stderr)
        return 1


def console() -> None:
    """The `resnet-lab` console script (pyproject.toml)."""
    sys.exit(main())
