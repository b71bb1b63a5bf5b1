"""`python -m resnet_core degradation`: the paper's Fig. 6 experiment from the shell.

It trains one of the device's presets (experiments.device_presets; on a CPU the quick one unless --preset
long) here with the app's scheduler (jobs.JobRunner:
as many runs at once as the app trains, worker processes), recording every run in the same store the app
reads — the Degradation page shows the experiment too — and ends with the table of final errors by depth
and the verdict the page gives. This is how BENCHMARKS.md's degradation numbers are made, so anyone can
reproduce them.
"""

from __future__ import annotations

import argparse
import sys

from ..data.catalog import DATASETS
from ..store.run_store import RunStore
from ..training.device import describe_device, pick_device
from .args import add_data_dir, add_depths, add_device, add_runs_dir, non_negative_int


def add_degradation(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "degradation",
        help="the paper's Fig. 6: plain and residual nets at several depths, trained here",
        description="Train plain and residual nets at several depths the same way (the device's preset) and "
        "print their final training and test errors by depth.",
    )
    add_depths(p, "the preset's — 8,44 or 20,56 on a CPU")
    add_device(p)
    p.add_argument(
        "--preset",
        choices=("quick", "long"),
        default="quick",
        help="on a CPU: quick (depths 8 and 44, 3–4 minutes on two cores; the default) or long (the "
        "paper's 20 and 56 and the reference runs' recipe, 10–17 minutes); a GPU has one",
    )
    p.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="training seed: initial weights and batch order (default: 0, the preset's)",
    )
    p.add_argument(
        "--dataset",
        choices=DATASETS,
        default=None,
        help="default: the preset's (shapes on a CPU; the reference runs are --preset long on fashion-mnist)",
    )
    add_data_dir(p)
    add_runs_dir(p)
    p.set_defaults(handler=run_degradation)


def run_degradation(args: argparse.Namespace) -> int:
    from ..execution.jobs import JobRunner
    from ..execution.worker import interrupt_on_signals
    from ..presentation.describe import describe_recipe
    from ..studies.experiments import cifar_available, device_presets, plan_experiment
    from .sweep import follow

    device = pick_device(args.device)  # ValueError (exit 2) for a device this machine lacks
    presets = device_presets(device.type, device.type == "cuda" and cifar_available(args.data_dir))
    if args.preset == "long" and len(presets) == 1:
        raise ValueError(
            f"--preset long is a CPU preset; on {describe_device(device)} the experiment has one "
            f"preset: {presets[0].name}"
        )
    preset = (presets[-1] if args.preset == "long" else presets[0]).on(args.dataset)
    data_dir = {"data_dir": args.data_dir} if args.data_dir else {}
    # NetSpec checks each depth here, before anything is stored (ValueError → exit 2).
    experiment, runs = plan_experiment(
        preset, args.depths or preset.depths, device=args.device, seed=args.seed, **data_dir
    )
    store = RunStore(args.runs_dir)
    # Queued, in the plan's order, and trained by the app's own scheduler: as many at once as the app runs
    # (jobs.default_parallel_runs; on a CPU the runs split its threads), so the command takes the time the
    # page's button takes. A runner of the app on the same runs folder may take some of them: they train
    # all the same, and this command follows them in the store.
    ids = [store.create(spec, config, dataset=preset.dataset, name=name) for spec, config, name in runs]
    runner = JobRunner(
        store.root,
        poll_seconds=0.2,
        executor="local",
        standby=False,  # (jobs.py: for clicks)
        only=lambda run: run.config.experiment == experiment,
    )
    print(f"{preset.name}, {preset.dataset}, {describe_device(device)}: {describe_recipe(runs[0][1])}")
    print(f"experiment {experiment}: {len(runs)} runs, up to {runner.max_parallel} at a time (runs dir: {store.root})")
    interrupt_on_signals()  # `kill` (SIGTERM) or a closed terminal (SIGHUP) end the runs like Ctrl-C
    try:
        ok = follow(store, runner, ids, runs[0][1].epochs, retries=0)
    except KeyboardInterrupt as err:
        print(
            f"\nexperiment {experiment}: interrupted — `python -m resnet_core resume RUN` continues a run "
            "(`runs` lists them)",
            file=sys.stderr,
        )
        return 143 if "SIGTERM" in str(err) else 129 if "SIGHUP" in str(err) else 130  # 128 + the signal
    finally:  # interrupted or an error: the workers end their runs `interrupted` (resumable), none outlives this
        runner.shutdown(kill_workers=True)
    print("\n" + format_table(store, experiment))
    return 0 if ok else 1


def format_table(store: RunStore, experiment: str) -> str:
    """The final errors by depth, as the Degradation page's table, then its verdict."""
    from ..presentation.degradation import format_depth_table  # torch: not at start-up
    from ..studies.experiments import depth_table, experiment_runs

    runs = experiment_runs(store, experiment)
    return format_depth_table(depth_table(store, runs), runs[0].spec.num_classes if runs else 10)
