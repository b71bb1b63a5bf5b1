"""The run commands of `python -m resnet_core`: train, runs, resume, stop, delete.

`train` and `resume` train in this process (no worker), recording into the same store the app reads, so
runs made here show up in the app and vice versa. Bad arguments exit 2 with a message naming the valid
values; a run that fails exits 1 with its stored message — never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..data import own
from ..data.catalog import DATASETS, data_root, facts
from ..model.spec import ACTIVATIONS, BLOCKS, NORMS, SHORTCUTS, STEMS, NetSpec
from ..presentation.describe import percent
from ..presentation.text import count
from ..store.config import RunConfig
from ..store.run_store import RunStore, StoreCorrupt, move_aside, runs_dir
from ..training.config import SCHEDULES, TrainConfig
from ..training.device import pick_device
from .args import add_data_dir, add_device, add_runs_dir


def add_train(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train a net here, recording it in the runs store",
        description="Train a residual (or, with --plain, a plain) net; see NetSpec.",
    )
    net = p.add_argument_group("the net (NetSpec)")
    net.add_argument(
        "--depth",
        type=int,
        default=20,
        help="weighted layers: 6n+2 (basic), 9n+2 (bottleneck), or 18/34/50/101/152 with --stem imagenet (default: 20)",
    )
    net.add_argument("--plain", action="store_true", help="the plain twin: no shortcuts (skip=False)")
    net.add_argument("--block", choices=BLOCKS, default="basic")
    net.add_argument("--shortcut", choices=SHORTCUTS, default="A")
    net.add_argument("--preact", action="store_true", help="pre-activation ordering (He et al. 2016)")
    net.add_argument("--stem", choices=STEMS, default="cifar")
    net.add_argument("--norm", choices=NORMS, default="batch")
    net.add_argument("--activation", choices=ACTIVATIONS, default="relu")
    net.add_argument("--width", type=int, default=None, help="channels of the first stage (default: 16 or 64)")
    net.add_argument("--num-classes", type=int, default=None, help="default: the dataset's")
    net.add_argument(
        "--in-channels",
        type=int,
        default=None,
        help="image channels (default: the dataset's: 3, or 1 for (Fashion-)MNIST)",
    )
    data = p.add_argument_group("data")
    data.add_argument(
        "--dataset",
        default="shapes",
        metavar="NAME|PATH",
        help=f"one of {', '.join(DATASETS)}; own:NAME for images you imported; or a folder with one subfolder "
        "of images per class, or a .zip of one, to import now (it is listed as own:NAME afterwards)",
    )
    add_data_dir(data)
    data.add_argument("--train-size", type=int, default=None, help="a class-balanced subset for quick runs")
    data.add_argument("--test-size", type=int, default=None)
    opt = p.add_argument_group("training")
    opt.add_argument("--epochs", type=int, default=10)
    opt.add_argument("--batch-size", type=int, default=128)
    opt.add_argument("--lr", type=float, default=0.1)
    opt.add_argument("--schedule", choices=SCHEDULES, default="step")
    opt.add_argument("--momentum", type=float, default=TrainConfig.momentum, help="SGD momentum (§4.2: 0.9)")
    opt.add_argument("--weight-decay", type=float, default=TrainConfig.weight_decay, help="§4.2: 0.0001")
    opt.add_argument("--warmup-epochs", type=float, default=0.0, help="this many epochs at lr/10 first")
    opt.add_argument(
        "--warmup-until-error",
        type=float,
        default=0.0,
        help="lr/10 until the training error is below this fraction (§4.2, ResNet-110: 0.8)",
    )
    add_device(opt)
    opt.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default=None, help="a name for the run (default: the net and dataset)")
    add_runs_dir(p)
    p.set_defaults(handler=run_train)


def run_train(args: argparse.Namespace) -> int:
    args.dataset = resolve_dataset(args.dataset, args.data_dir)
    data = facts(args.dataset, args.data_dir)
    check_request(args)  # a request that can never train makes no run (it would only be left `failed`)
    spec = NetSpec(
        depth=args.depth,
        skip=not args.plain,
        block=args.block,
        shortcut=args.shortcut,
        preact=args.preact,
        stem=args.stem,
        norm=args.norm,
        activation=args.activation,
        width=args.width,
        num_classes=data.num_classes if args.num_classes is None else args.num_classes,
        in_channels=data.in_channels if args.in_channels is None else args.in_channels,
    )
    config = RunConfig(
        TrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            schedule=args.schedule,
            warmup_epochs=args.warmup_epochs,
            warmup_until_error=args.warmup_until_error,
            momentum=args.momentum,
            weight_decay=args.weight_decay,
            device=args.device,
            seed=args.seed,
        ),
        train_size=args.train_size,
        test_size=args.test_size,
        data_dir=args.data_dir,
    )
    store = RunStore(args.runs_dir)
    run_id = store.create(spec, config, dataset=args.dataset, name=args.name, status="running")
    print(f"run {run_id}: {spec.name} on {args.dataset}, {count(args.epochs, 'epoch')} (runs dir: {store.root})")
    return train_here(store, run_id)


def resolve_dataset(dataset: str, data_dir: str | None) -> str:
    """A dataset's name; a folder or .zip of the user's images is imported first (data/own.py) and
    named own:NAME. ValueError (exit 2) for images that cannot become a dataset, with the reason."""
    if dataset in DATASETS or dataset.startswith(own.PREFIX) or not Path(dataset).exists():
        return dataset
    try:
        info = own.import_images(Path(dataset), data_root(data_dir), replace=True)
    except own.OwnDataError as err:
        raise ValueError(f"{dataset}: {err}") from None
    print(
        f"imported {info.train_size + info.test_size:,} images in {len(info.classes)} classes as {info.dataset} "
        f"({info.train_size:,} to train, {info.test_size:,} held out for testing; {info.skipped} files skipped: "
        f"not images we can read)"
    )
    return info.dataset


def check_request(args: argparse.Namespace) -> None:
    """ValueError (exit 2), before anything is stored, for what training would refuse or cannot do: a net
    that does not fit the dataset, more images than it has, a device this machine lacks."""
    data = facts(args.dataset, args.data_dir)
    if args.num_classes is not None and args.num_classes != data.num_classes:
        raise ValueError(
            f"--num-classes {args.num_classes}: {data.name} has {data.num_classes} classes and the "
            f"net's classifier must match them (leave --num-classes out)"
        )
    if args.in_channels is not None and args.in_channels != data.in_channels:
        raise ValueError(f"--in-channels {args.in_channels}: {data.name} images have {data.in_channels} channels")
    for key, most in (("train_size", data.train_size), ("test_size", data.test_size)):
        value = getattr(args, key)
        if value is not None and not 1 <= value <= most:
            raise ValueError(
                f"--{key.replace('_', '-')} must be between 1 and {most} (the whole {data.name} "
                f"{key.split('_')[0]} set), got {value}"
            )
    pick_device(args.device)  # ValueError naming the choices for a device this machine lacks


def _add_on_one_run(
    subparsers: argparse._SubParsersAction, name: str, handler, help: str, run_help: str | None = None
) -> None:
    """A command that acts on one stored run, named by its id (or a unique prefix)."""
    p = subparsers.add_parser(name, help=help)
    p.add_argument("run", help=run_help)
    add_runs_dir(p)
    p.set_defaults(handler=handler)


def _one_run(args: argparse.Namespace):
    """The store and the run a command of `_add_on_one_run` names."""
    store = RunStore(args.runs_dir)
    return store, _find(store, args.run)


def add_resume(subparsers: argparse._SubParsersAction) -> None:
    _add_on_one_run(
        subparsers,
        "resume",
        run_resume,
        help="continue a stopped or interrupted run from its last checkpoint",
        run_help="run id (or a unique prefix)",
    )


def run_resume(args: argparse.Namespace) -> int:
    store, run = _one_run(args)
    run.require_resumable()
    found = store.latest_checkpoint(run.id)
    where = f"epoch {found[0]}" if found else "the start (no checkpoint yet)"
    print(f"run {run.id}: resuming {run.spec.name} from {where}")
    return train_here(store, run.id)


def add_runs(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("runs", help="list the runs in the store")
    p.add_argument("--json", action="store_true", help="a JSON list, one object per run")
    add_runs_dir(p)
    p.set_defaults(handler=run_runs)


def run_runs(args: argparse.Namespace) -> int:
    from ..presentation.reports import run_json, run_row

    store = RunStore(args.runs_dir)
    runs = store.list()
    if args.json:
        print(json.dumps([run_json(store, r) for r in runs], indent=2))
        return 0
    if not runs:
        print(f"no runs in {store.root}")
        return 0
    rows = [run_row(store, r) for r in runs]
    columns = ("id", "status", "net", "dataset", "epochs", "train error %", "test error %", "name")
    widths = {c: max(len(c), *(len(_cell(r[c])) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(_cell(r[c]).ljust(widths[c]) for c in columns))
    return 0


def add_stop(subparsers: argparse._SubParsersAction) -> None:
    _add_on_one_run(subparsers, "stop", run_stop, help="ask a running run to stop (it ends `stopped`)")


def run_stop(args: argparse.Namespace) -> int:
    store, run = _one_run(args)
    if not run.active:
        raise ValueError(f"run {run.id} is {run.status}, not queued or running")
    store.request_stop(run.id)
    print(f"run {run.id}: stop requested")
    return 0


def add_delete(subparsers: argparse._SubParsersAction) -> None:
    _add_on_one_run(subparsers, "delete", run_delete, help="delete a run, its metrics and its checkpoints")


def run_delete(args: argparse.Namespace) -> int:
    store, run = _one_run(args)
    try:
        store.delete(run.id)  # refuses a queued or running run
    except ValueError as err:
        raise ValueError(f"{err} (python -m resnet_core stop {run.id})") from None
    print(f"run {run.id}: deleted")
    return 0


def add_new_store(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "new-store",
        help="move a damaged runs.sqlite aside (renamed, kept) and start an "
        "empty run store; run folders and checkpoints stay",
    )
    add_runs_dir(p)
    p.set_defaults(handler=run_new_store)


def run_new_store(args: argparse.Namespace) -> int:
    db = runs_dir(args.runs_dir) / "runs.sqlite"
    if not db.exists():
        raise ValueError(f"there is no run store at {db}")
    try:
        RunStore(db.parent).check()
    except StoreCorrupt:
        kept = move_aside(db)
        RunStore(db.parent)
        print(f"moved the damaged run store to {kept} (kept, not deleted); {db} is a new, empty store")
        return 0
    raise ValueError(f"the run store {db} is not damaged: nothing moved")


def damaged_store_advice(err: StoreCorrupt) -> str:
    """What a user can do about a damaged store, from the shell."""
    return (
        f"error: {err}. Nothing was changed. `python -m resnet_core new-store --runs-dir {err.path.parent}` "
        f"renames it to {err.path.name}.damaged-<time> (kept) and starts an empty store; the run folders "
        f"and their checkpoints stay. Or put back a copy of {err.path.name} you trust."
    )


COMMANDS = [add_train, add_runs, add_resume, add_stop, add_delete, add_new_store]


# --------------------------------------------------------------------------------------------- helpers


def _find(store: RunStore, prefix: str):
    try:
        return store.find(prefix)
    except KeyError as err:
        raise ValueError(err.args[0]) from None


def _cell(value) -> str:
    return "–" if value is None or value == "" else str(value)


def train_here(store: RunStore, run_id: str) -> int:
    """Train in this process with a progress bar; Ctrl-C leaves the run `interrupted` (resumable)."""
    from tqdm import tqdm

    from ..execution.worker import execute_run, interrupt_on_signals

    interrupt_on_signals()  # `kill` (SIGTERM) or a closed terminal (SIGHUP) end the run like Ctrl-C
    bar = None

    def progress(event) -> None:
        nonlocal bar
        if event.kind == "step":
            if bar is None:
                run = store.get(run_id)
                bar = tqdm(
                    total=run.progress.get("total_steps") or None,
                    unit="step",
                    dynamic_ncols=True,
                    initial=event.step,
                    file=sys.stderr,
                )
            bar.update(event.step - bar.n)
            bar.set_postfix(loss=f"{event.loss:.3f}", err=percent(event.error), ips=f"{event.images_per_second:.0f}/s")
        elif event.kind == "epoch":
            tqdm.write(
                f"epoch {event.epoch}: train loss {event.train_loss:.3f}, train error "
                f"{percent(event.train_error, 2)}, test error {percent(event.test_error, 2)} "
                f"({event.seconds:.1f} s, {event.images_per_second:.0f} images/s)",
                file=sys.stderr,
            )

    try:
        status = execute_run(store, run_id, extra_listener=progress)  # it records the status, Ctrl-C included
    except KeyboardInterrupt as err:
        print(
            f"\nrun {run_id}: interrupted{f' ({err})' if str(err) else ''} — `python -m resnet_core resume "
            f"{run_id}` continues it",
            file=sys.stderr,
        )
        return 143 if "SIGTERM" in str(err) else 129 if "SIGHUP" in str(err) else 130  # 128 + the signal
    except Exception:
        run = store.get(run_id)
        print(f"\nrun {run_id} failed: {run.error}", file=sys.stderr)
        return 1
    finally:
        if bar is not None:
            bar.close()
    run = store.get(run_id)
    epochs = store.epochs(run_id)
    final = epochs[-1] if epochs else None
    summary = (
        (
            f"train error {percent(final['train_error'], 2)}, test error {percent(final['test_error'], 2)} "
            f"after {count(final['epoch'], 'epoch')}"
        )
        if final
        else "no finished epoch"
    )
    print(f"run {run_id}: {status} — {summary}" + (f" ({run.error})" if run.error else ""))
    return 0 if status in ("completed", "stopped") else 1
