"""The executors' overhead per run: the same sweep of tiny runs, local worker processes vs Ray tasks.

    python -m resnet_core bench --executors [--runs 8] [--repeats 3]

Each repeat trains `--runs` tiny runs (ResNet-8 on the embedded dataset, on the CPU) one at a time in
three ways: the local executor (a fresh worker process per run), Ray tasks of 2 CPUs each on a local
cluster started here (so both train one run at a time with two threads), and — the floor — `execute_run`
in this very process, one run after another (what `train` and `degradation` do), rotating which goes
first. It prints each one's wall time per run (queued to recorded in the store), the part of it spent in
the training steps (the runs' epoch seconds), and the medians over repeats; Ray's overhead per run is
the difference of the medians. Starting the Ray cluster is timed once, apart. BENCHMARKS.md records the
results.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path


def sweep_once(root: Path, executor, runs: int, config) -> dict:
    import resnet_core as rc
    from resnet_core.execution.jobs import JobRunner

    runner = JobRunner(root, max_parallel=1, executor=executor, poll_seconds=0.05, standby=False)
    try:
        started = time.perf_counter()
        ids = [runner.submit(rc.NetSpec(depth=8), config.replace(seed=i)) for i in range(runs)]
        if not runner.wait_idle(timeout=1800):
            raise RuntimeError("the sweep did not finish in 30 minutes")
        wall = time.perf_counter() - started
        store = runner.store
        statuses = {store.get(i).status for i in ids}
        if statuses != {"completed"}:
            raise RuntimeError(f"runs ended {statuses}: {[store.get(i).error for i in ids]}")
        train = sum(e["seconds"] for i in ids for e in store.epochs(i))
    finally:
        runner.shutdown(kill_workers=executor == "local")
    return {"wall_per_run": wall / runs, "train_per_run": train / runs}


def here_once(root: Path, runs: int, config) -> dict:
    """The floor: execute_run in this process, one run after another (no worker, no Ray)."""
    import resnet_core as rc
    from resnet_core.execution.worker import execute_run
    from resnet_core.store.run_store import RunStore

    store = RunStore(root)
    started = time.perf_counter()
    for i in range(runs):
        run_id = store.create(rc.NetSpec(depth=8), config.replace(seed=i), status="running")
        if execute_run(store, run_id) != "completed":
            raise RuntimeError(f"run {run_id} ended {store.get(run_id).status}: {store.get(run_id).error}")
    wall = time.perf_counter() - started
    train = sum(e["seconds"] for r in store.list() for e in store.epochs(r.id))
    return {"wall_per_run": wall / runs, "train_per_run": train / runs}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-size", type=int, default=256)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import resnet_core as rc
    from resnet_core.execution.ray_executor import RayExecutor
    from resnet_core.store.config import RunConfig

    config = RunConfig(
        rc.TrainConfig(epochs=args.epochs, batch_size=64, lr=0.02, device="cpu", augment=False),
        train_size=args.train_size,
        test_size=200,
    )
    rc.load_dataset("shapes", test_size=10)  # rendered (or read) once here, not inside the first timed run
    started = time.perf_counter()
    ray_executor = RayExecutor(cpus_per_run=2)
    ray_executor.connect()  # a local cluster (or RAY_ADDRESS's)
    ray_start = time.perf_counter() - started
    print(f"ray.init: {ray_start:.1f} s (once per driver)", flush=True)
    results: dict[str, list[dict]] = {"local": [], "ray": [], "here": []}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            names = ("local", "ray", "here")
            for name in names[repeat % 3 :] + names[: repeat % 3]:
                root = Path(tmp) / f"{name}-{repeat}"
                if name == "here":
                    result = here_once(root, args.runs, config)
                else:
                    result = sweep_once(root, ray_executor if name == "ray" else "local", args.runs, config)
                results[name].append(result)
                print(
                    f"repeat {repeat + 1} {name:>5}: {result['wall_per_run']:.2f} s per run, of which "
                    f"{result['train_per_run']:.2f} s training steps  (load: {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    ray_executor.shutdown()
    medians = {
        name: {k: statistics.median(r[k] for r in rs) for k in ("wall_per_run", "train_per_run")}
        for name, rs in results.items()
    }
    overhead = medians["ray"]["wall_per_run"] - medians["local"]["wall_per_run"]
    print(f"\nmedian over {args.repeats} repeats of {args.runs} runs:")
    for name, m in medians.items():
        print(f"  {name:>5}: {m['wall_per_run']:.2f} s per run ({m['train_per_run']:.2f} s of training steps)")
    print(f"  Ray's overhead per run: {overhead:+.2f} s")
    if args.json:
        print(
            json.dumps(
                {
                    "ray_init_seconds": ray_start,
                    "results": results,
                    "medians": medians,
                    "ray_overhead_per_run": overhead,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
