"""`python -m resnet_core sweep`: a grid of runs (depths × twins × seeds) on this machine or a Ray cluster.

    python -m resnet_core sweep --depths 20,32,44,56,110 --twins --seeds 3 --executor ray [--address ADDR]

It queues every run of the grid in the store the app reads (tagged with a sweep id, like an experiment),
drives them with a JobRunner on the chosen executor — `local` worker processes, or `ray` tasks whose
events this process writes to the store — shows a line per run as its status changes and one progress bar
over all of them (on stderr; when that is not a terminal, a line per finished epoch instead), and ends
with the depth table: mean ± std over seeds of the final errors (Table 6 / Fig. 6). Runs a lost node or a
killed task leaves `interrupted` resume from their last checkpoint, up to `--retries` times. Ctrl-C ends
the sweep's runs `interrupted` (each can be resumed).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from ..data.catalog import DATASETS
from ..presentation.describe import percent
from ..presentation.text import count
from .args import (
    add_data_dir,
    add_depths,
    add_device,
    add_recipe_sizes,
    add_runs_dir,
    depths_arg,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
)

if TYPE_CHECKING:  # the command imports the execution layer only once it runs
    from ..execution.executors import RemoteExecutor

TABLE6_DEPTHS = (20, 32, 44, 56, 110)
POLL_SECONDS = 0.5


def add_sweep(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="train a grid of depths × twins × seeds, here or on a Ray cluster, then the depth table",
        description="Queue every run of a grid (depths, plain twins, seeds), train them on the local machine or "
        "a Ray cluster, and print mean ± std over seeds of the final errors by depth.",
    )
    add_depths(p, ",".join(map(str, TABLE6_DEPTHS)), depths_arg, TABLE6_DEPTHS)
    p.add_argument("--twins", action="store_true", help="train the plain twin of every depth too")
    p.add_argument("--seeds", type=positive_int, default=1, help="seeds per net: 0…N-1 (default: 1)")
    add_recipe_sizes(p, "the device preset's")
    p.add_argument("--width", type=positive_int, default=None, help="channels of the first stage (default: 16)")
    p.add_argument("--dataset", choices=DATASETS, default=None, help="default: the preset's (shapes on a CPU)")
    add_data_dir(p, " (with ray: on each node)")
    add_device(p, "with ray: chosen on each node")
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local: worker processes here (default); ray: tasks on a Ray cluster",
    )
    p.add_argument(
        "--address",
        default=None,
        help="the Ray cluster (default: env RAY_ADDRESS, else a local cluster started here); only with --executor ray",
    )
    p.add_argument("--cpus-per-run", type=positive_float, default=None, help="Ray CPUs per run (default: 1)")
    p.add_argument(
        "--gpus-per-run",
        type=non_negative_float,
        default=None,
        help="Ray GPUs per run, e.g. 0.25: four runs share a GPU (default: 0)",
    )
    p.add_argument(
        "--parallel",
        type=positive_int,
        default=None,
        help="runs at once (default: local 1 on a CPU, 4 on a GPU; ray: as many as the cluster's resources fit)",
    )
    p.add_argument(
        "--retries",
        type=non_negative_int,
        default=2,
        help="resume a run a lost node or killed task interrupted, up to this many times (default: 2)",
    )
    add_runs_dir(p)
    p.set_defaults(handler=run_sweep)


def run_sweep(args: argparse.Namespace) -> int:
    from ..data.datasets import num_classes
    from ..execution.jobs import JobRunner
    from ..model.spec import NetSpec
    from ..presentation.degradation import format_sweep_table
    from ..presentation.describe import describe_recipe
    from ..store.run_store import RunStore
    from ..studies.experiments import cifar_available, device_presets
    from ..studies.sweeps import plan_sweep, sweep_table
    from ..training.device import describe_device, pick_device

    ray = args.executor == "ray"
    if not ray:
        for flag in ("address", "cpus_per_run", "gpus_per_run"):
            if getattr(args, flag) is not None:
                raise ValueError(f"--{flag.replace('_', '-')} needs --executor ray")
    # The recipe: the preset of the device the runs will use (with ray, chosen on the nodes: a GPU preset
    # when runs get GPUs or --device cuda asks for one).
    if ray:
        device_type = "cuda" if (args.gpus_per_run or args.device == "cuda") else "cpu"
        where = "a Ray cluster"
    else:
        device = pick_device(args.device)  # ValueError (exit 2) for a device this machine lacks
        device_type, where = device.type, describe_device(device)
    # The device's longest preset (on a CPU the 20/56 one: the quick preset's budget is tuned for 8 and 44
    # layers, in which a deep ResNet has not yet passed a 20-layer one; a GPU has one preset).
    preset = device_presets(device_type, device_type == "cuda" and cifar_available(args.data_dir))[-1]
    dataset = args.dataset or preset.dataset
    changes = {
        "epochs": args.epochs,
        "train_size": args.train_size,
        "test_size": args.test_size,
        "data_dir": args.data_dir,
    }
    config = preset.config.replace(device=args.device, **{k: v for k, v in changes.items() if v is not None})
    base = NetSpec(width=args.width, num_classes=num_classes(dataset))
    # NetSpec checks every depth here, before anything is stored (ValueError → exit 2).
    sweep, plan = plan_sweep(args.depths, config, seeds=args.seeds, twins=args.twins, base=base)

    executor: str | RemoteExecutor = "local"
    if ray:
        from ..execution.ray_executor import RayExecutor

        ray_executor = RayExecutor(
            args.address, cpus_per_run=args.cpus_per_run or 1, gpus_per_run=args.gpus_per_run or 0
        )
        ray_executor.connect()  # here, in the main thread: no cluster is a message (exit 2), before runs are queued
        executor = ray_executor
    store = RunStore(args.runs_dir)
    ids = [store.create(spec, run_config, dataset=dataset, name=name) for spec, run_config, name in plan]
    # The preset's name only for its own recipe: `--epochs 1` is not "the longer CPU preset".
    changed = [f"--{k.replace('_', '-')}" for k, v in changes.items() if v is not None and k != "data_dir"]
    changed += ["--dataset"] if dataset != preset.dataset else []
    recipe = f"{preset.name}, changed by {', '.join(changed)}" if changed else preset.name
    print(f"{recipe}, {dataset}, {where}: {describe_recipe(config)}")
    print(
        f"sweep {sweep}: {len(ids)} runs ({len(args.depths)} depths{' × 2 twins' if args.twins else ''}"
        f" × {args.seeds} seeds) on the {args.executor} executor (runs dir: {store.root})",
        flush=True,  # before the progress lines on stderr, also in a log that takes both
    )
    runner = JobRunner(
        store.root,
        max_parallel=args.parallel,
        executor=executor,
        poll_seconds=0.2,
        standby=False,
        only=lambda run: run.config.experiment == sweep,
    )
    try:
        ok = follow(store, runner, ids, config.epochs, args.retries)
    except KeyboardInterrupt:
        runner.shutdown(kill_workers=True)  # local workers and Ray tasks end; their runs `interrupted`
        print(
            f"\nsweep {sweep}: interrupted — `python -m resnet_core resume RUN` continues a run (`runs` lists them)",
            file=sys.stderr,
        )
        return 130
    runner.shutdown()
    runs = [store.get(i) for i in ids]
    print(f"\nsweep {sweep}: final error by depth, mean ± std over {args.seeds} seed(s) (completed runs only)")
    print(format_sweep_table(sweep_table(store, runs)))
    return 0 if ok else 1


def follow(store, runner, ids: list[str], epochs: int, retries: int, stream=None) -> bool:
    """Show the sweep until every run has ended: a line per run each time its status changes and, on a
    terminal, one bar (epochs over all runs); elsewhere (a pipe, a log file) a line per finished epoch instead
    of the bar, whose redraws would pile up there. Resume interrupted runs up to `retries` times. True if
    every run completed (or was stopped on purpose)."""
    from tqdm import tqdm

    stream = stream or sys.stderr
    seen: dict[str, tuple] = {}
    epochs_seen = dict.fromkeys(ids, 0)
    resumed = dict.fromkeys(ids, 0)
    width = len(str(len(ids)))
    bar = None
    if _is_terminal(stream):
        bar = tqdm(
            total=len(ids) * epochs,
            unit="epoch",
            dynamic_ncols=True,
            file=stream,
            bar_format="{l_bar}{bar}| {n:.1f}/{total} epochs [{elapsed}<{remaining}]",
        )

    def say(number: int, run, text: str) -> None:
        line = f"[{number:>{width}}/{len(ids)}] {run.name}: {text}"
        if bar is not None:
            tqdm.write(line, file=stream)
        else:
            print(line, file=stream, flush=True)

    try:
        while True:
            runs = [store.get(i) for i in ids]
            done = 0.0
            for number, run in enumerate(runs, 1):
                finished = store.epochs(run.id)
                step, total = run.progress.get("step", 0), run.progress.get("total_steps")
                partial = step / total * epochs if run.active and total else 0.0
                done += max(len(finished), min(partial, epochs))
                if bar is None:  # a resumed run forgets a partial epoch, never a finished one
                    for record in finished[epochs_seen[run.id] :]:
                        say(number, run, describe_epoch(record, epochs))
                epochs_seen[run.id] = len(finished)
                state = (run.status, run.node)
                if seen.get(run.id) != state:
                    seen[run.id] = state
                    say(number, run, describe(store, run))
                if run.status == "interrupted" and resumed[run.id] < retries:
                    resumed[run.id] += 1
                    say(number, run, f"resuming from its last checkpoint (retry {resumed[run.id]} of {retries})")
                    runner.resume(run.id)
            if bar is not None:
                bar.n = round(done, 2)
                bar.refresh()
            if not any(store.get(i).active for i in ids):
                return all(store.get(i).status in ("completed", "stopped") for i in ids)
            time.sleep(POLL_SECONDS)
    finally:
        if bar is not None:
            bar.close()


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def describe_epoch(record: dict, epochs: int) -> str:
    """ "epoch 3/10 — train error 41.2%, test error 43.0%"."""
    return (
        f"epoch {record['epoch']}/{epochs} — train error {percent(record['train_error'])}, "
        f"test error {percent(record['test_error'])}"
    )


def describe(store, run) -> str:
    """ "running on ray, vm (10.0.0.2), CPU (…)" / "completed — train error 12.3%, test error 14.5%"."""
    if run.status == "running":
        if run.executor and not run.node:
            return f"sent to {run.executor}, waiting for a worker"
        where = f" on {run.executor}, {run.node}" if run.executor else ""
        return f"running{where}" + (f", {run.device}" if run.device else "")
    if run.status == "queued":
        return "queued"
    epochs = store.epochs(run.id)
    text = run.status
    if epochs:
        last = epochs[-1]
        text += (
            f" — train error {percent(last['train_error'])}, test error {percent(last['test_error'])} "
            f"after {count(last['epoch'], 'epoch')}"
        )
    return text + (f" ({run.error})" if run.error else "")
