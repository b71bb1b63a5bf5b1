"""`python -m resnet_core bench`: its arguments, and which benchmark of resnet_core/bench/ they run."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from .args import add_device, depths_arg, positive_int


def add_bench(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "bench",
        help="measure the trainer's images/s against the raw net and a textbook DataLoader loop",
        description="Benchmark the trainer (resnet_core/bench/; BENCHMARKS.md records the results).",
    )
    p.add_argument("--quick", action="store_true", help="a smoke run with tiny step counts (for tests)")
    add_device(p)
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
        "on the CPU against one after another (resnet_core/bench/twins.py; --models takes one depth)",
    )
    p.add_argument(
        "--executors",
        action="store_true",
        help="instead: the executors' overhead per run, a sweep of tiny runs on local worker processes vs Ray "
        "tasks (resnet_core/bench/executors.py; --runs, --repeats)",
    )
    p.add_argument("--runs", type=positive_int, default=8, help="--executors: tiny runs per repeat (default: 8)")
    p.set_defaults(handler=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    from ..bench import trainer as bench  # imported here: `python -m resnet_core runs` should not pay for torchvision

    if args.pages:
        from ..bench.pages import run_page_benchmarks
        from ..data.datasets import load_dataset

        log = (lambda line: print(line, file=sys.stderr)) if args.json else print
        page_report = run_page_benchmarks(load_dataset("shapes"), log=log)
        if args.json:
            print(json.dumps(page_report, indent=2))
        return 0
    if args.twins:
        return run_twins_bench(args)
    if args.executors:
        from ..bench.executors import main as executors_main

        return executors_main(["--runs", str(args.runs), "--repeats", str(args.repeats or 3)])
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
    from ..bench.twins import TwinsConfig, format_twins_report, run_twins_benchmark

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
