"""`python -m resnet_core reference`: train the longer CPU degradation preset (depths 20 and 56) and write the
app's reference bundle.

The bundle (runs/reference.py) is what the Degradation, Responses, Gradients, Explain and "why" pages show
before the user has trained anything. The runs train here with the app's scheduler (jobs.JobRunner: as many
at once as the app and the degradation command train them), in a scratch run store (a temporary folder,
never the user's runs folder); then the completed runs are exported with their
metrics, probes, final weights (fp16 where that keeps the recorded test error) and precomputed loss
landscapes, and provenance.json says how and where it was made. The flags make a smaller bundle (tests).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from ..data.catalog import DATASETS
from ..store.run_store import RunStore, runs_dir
from .args import add_data_dir, add_depths, add_recipe_sizes, non_negative_int


def add_reference(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "reference",
        help="train the longer CPU degradation preset and write the app's reference runs (assets/reference)",
        description="Train the longer CPU preset of the degradation experiment (depths 20 and 56) here and write "
        "the reference bundle the app shows before any training: the runs with their metrics, "
        "gradient norms, responses, final weights and loss landscapes, plus provenance. The flags "
        "make a smaller bundle.",
    )
    p.add_argument("--out", default=None, help="the bundle's folder, replaced (default: assets/reference)")
    add_depths(p, "the longer CPU preset's")
    add_recipe_sizes(p, "the longer CPU preset's")
    p.add_argument(
        "--landscape-steps",
        type=int,
        default=None,
        metavar="N",
        help="points per side of each run's precomputed loss landscape (default: the Why page's CPU default; 0: none)",
    )
    p.add_argument(
        "--dataset",
        choices=DATASETS,
        default=None,
        help="default: the longer CPU preset's (a bundle on another dataset, e.g. to check the recipe there)",
    )
    p.add_argument(
        "--seed", type=non_negative_int, default=None, help="the nets' initial weights and batch order (default: 0)"
    )
    add_data_dir(p)
    p.add_argument(
        "--add-lesion",
        action="store_true",
        help="train nothing: compute the lesion study of each run of the existing bundle (--out) that "
        "lacks it, as the Why page shows it",
    )
    p.set_defaults(handler=run_reference)


def run_reference(args: argparse.Namespace) -> int:
    from ..execution.jobs import JobRunner
    from ..execution.worker import interrupt_on_signals
    from ..presentation.describe import describe_recipe
    from ..studies.analyses import LESION_PARAMS
    from ..studies.experiments import cpu_long_preset, experiment_runs, plan_experiment
    from ..studies.reference import DEFAULT_BUNDLE, LANDSCAPE_PARAMS, add_lesion, export_bundle, provenance
    from .degradation import format_table
    from .sweep import follow

    started, load_before = time.time(), os.getloadavg()
    out = Path(args.out) if args.out else DEFAULT_BUNDLE
    if out.resolve() == runs_dir().resolve():
        raise ValueError(f"{out} is your runs folder: the reference bundle never goes there; give another --out")
    if args.add_lesion:
        add_lesion(out, LESION_PARAMS)
        print(f"lesion studies added to {out} in {time.time() - started:.0f} s")
        return 0
    preset = cpu_long_preset().on(args.dataset)  # the paper's depths 20 and 56: the runs the Why page looks into
    changes = {
        k: v
        for k, v in (
            ("epochs", args.epochs),
            ("train_size", args.train_size),
            ("test_size", args.test_size),
            ("data_dir", args.data_dir),
            ("seed", args.seed),
        )
        if v is not None
    }
    # NetSpec checks each depth here, before anything is trained (ValueError → exit 2).
    experiment, planned = plan_experiment(preset, args.depths or preset.depths, device="cpu", **changes)
    steps = LANDSCAPE_PARAMS["steps"] if args.landscape_steps is None else args.landscape_steps
    landscape = {**LANDSCAPE_PARAMS, "steps": steps} if steps > 0 else None
    work = Path(tempfile.mkdtemp(prefix="resnet-lab-reference-"))
    runner = None
    try:
        store = RunStore(work)
        ids = [store.create(spec, config, dataset=preset.dataset, name=name) for spec, config, name in planned]
        runner = JobRunner(store.root, poll_seconds=0.2, executor="local", standby=False)
        print(f"{preset.name}, {preset.dataset}, CPU: {describe_recipe(planned[0][1])}")
        print(
            f"{len(planned)} runs, up to {runner.max_parallel} at a time, in a scratch store ({work}); "
            f"the bundle goes to {out}"
        )
        interrupt_on_signals()  # `kill` (SIGTERM) or a closed terminal (SIGHUP) end the runs like Ctrl-C
        try:
            ok = follow(store, runner, ids, planned[0][1].epochs, retries=0)
        except KeyboardInterrupt:
            print("\ninterrupted: no bundle written", file=sys.stderr)
            return 130
        runner.shutdown()
        runner = None
        if not ok or any(store.get(i).status != "completed" for i in ids):
            print(
                "\n" + format_table(store, experiment) + "\nnot every run completed: no bundle written", file=sys.stderr
            )
            return 1
        trained = time.time()
        print("\n" + format_table(store, experiment) + "\n")
        command = ["python -m resnet_core reference"] + [
            f"--{flag.replace('_', '-')} {','.join(map(str, value)) if isinstance(value, tuple) else value}"
            for flag, value in vars(args).items()
            if flag in ("dataset", "seed", "depths", "epochs", "train_size", "test_size", "landscape_steps")
            and value is not None
        ]

        def made() -> dict:  # called when the bundle is complete: the wall time is the whole command's
            info = provenance(
                command,
                preset.key,
                describe_recipe(planned[0][1]),
                started,
                time.time() - started,
                load_before,
                os.getloadavg(),
            )
            return {**info, "train_wall_seconds": round(trained - started, 1)}

        path = export_bundle(store, experiment_runs(store, experiment), out, made, landscape, lesion=LESION_PARAMS)
    finally:
        if runner is not None:  # interrupted, or an error: no worker outlives the scratch store
            runner.shutdown(kill_workers=True)
        shutil.rmtree(work, ignore_errors=True)
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    print(f"\nreference bundle: {path} ({size / 1e6:.1f} MB), in {(time.time() - started) / 60:.1f} min")
    return 0
