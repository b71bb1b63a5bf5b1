"""Reference runs: a small run store shipped with the app (assets/reference/), so the pages that look at
trained nets show real results on a fresh install, before the user has trained anything.

The bundle *is* a run store — `runs.sqlite` plus a folder per run with its final checkpoint — so the pages
read reference runs through the same code as the user's own (one source of truth), plus `provenance.json`
(the command, commit, machine, date, torch version, wall time). It is made by `python -m resnet_core
reference` (cli/reference.py), which trains the CPU degradation preset in a scratch store and exports it
with `export_bundle`: the runs' metrics, gradient norms and responses as recorded, the final weights in
fp16 where fp16 weights give the recorded test error (else fp32), and the loss landscapes the "why" page
draws by default, computed on the shipped weights.

The app never writes into the bundle nor into the user's runs folder: `open_reference` copies the bundle
into a cache folder (keyed by its content) and opens the copy, where a landscape the user computes on a
reference run is kept. Reference run ids start with `ref-` (user run ids start with a date): that prefix
is the one marker, and `RunView` (store/view.py) routes every read of a run to the store that holds it.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..store.protocol import RunReader
from ..store.run_store import Run, RunStore

# Their home is store/view.py; the app and the tests import them from here too.
from ..store.view import PREFIX as PREFIX
from ..store.view import RunView as RunView
from ..store.view import is_reference as is_reference

EXPERIMENT = "reference"  # the experiment tag of the bundle's runs (Degradation lists it as one experiment)
NAME = "{net} · reference"  # a bundle run's name, said in the reader's language (presentation/library_words.py)
PROVENANCE = "provenance.json"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BUNDLE = REPO_ROOT / "assets" / "reference"
ENV = "RESNET_LAB_REFERENCE"  # another bundle folder, or "off" for none
OFF = ("", "0", "off", "none", "no", "false")
# The landscape the "why" page asks for by default on a CPU (pages/why.py reads these): precomputed for the
# bundle's runs, so the page shows it at once.
LANDSCAPE_PARAMS = {"steps": 11, "span": 1.0, "seed": 0, "images": 256}
# A shipped checkpoint must give the recorded final test error within this (a fraction: 0.1 point); the
# bundle's test checks it too.
TEST_ERROR_TOLERANCE = 0.001


def bundle_dir() -> Path | None:
    """The bundle the app shows: env RESNET_LAB_REFERENCE (a folder, or "off"), else assets/reference/."""
    value = os.environ.get(ENV)
    if value is None:
        return DEFAULT_BUNDLE
    if value.strip().lower() in OFF:
        return None
    return Path(value).expanduser()


def cache_root() -> Path:
    """Where opened bundles are copied: $XDG_CACHE_HOME/resnet-lab/reference, else ~/.cache/resnet-lab/reference."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "resnet-lab" / "reference"


def read_provenance(folder: str | os.PathLike) -> dict:
    """The bundle's provenance.json ({} if missing or unreadable)."""
    try:
        return json.loads((Path(folder) / PROVENANCE).read_text())
    except (OSError, ValueError):
        return {}


def _digest(bundle: Path) -> str:
    """Names one version of a bundle: its database and provenance (a regenerated bundle gets a new copy)."""
    h = hashlib.sha256()
    for name in ("runs.sqlite", PROVENANCE):
        path = bundle / name
        h.update(path.read_bytes() if path.is_file() else b"")
    return h.hexdigest()[:16]


def open_reference(bundle: str | os.PathLike | None = None, cache: str | os.PathLike | None = None) -> RunStore | None:
    """The reference runs as a RunStore, or None when there is no bundle (or it is turned off).

    Opening a store writes to its folder (WAL files, the schema), so the bundle itself is never opened:
    it is copied once into the cache (into a temporary folder, then renamed, so two servers starting at
    once do not see half a copy) and the copy is opened."""
    bundle = Path(bundle) if bundle is not None else bundle_dir()
    if bundle is None or not (bundle / "runs.sqlite").is_file():
        return None
    target = Path(cache) if cache is not None else cache_root()
    target = target / _digest(bundle)
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.partial-{os.getpid()}-{time.monotonic_ns()}")
        shutil.copytree(bundle, partial)
        try:
            os.replace(partial, target)
        except OSError:  # another process put its copy there first: use that one
            shutil.rmtree(partial, ignore_errors=True)
    return RunStore(target)


# ---------------------------------------------------------------------------------------- making a bundle


def reference_id(run: Run, taken: set[str]) -> str:
    """ "ref-resnet-20", "ref-plain-56" (a suffix if the preset has two runs of one net)."""
    base = PREFIX + run.spec.name.lower().replace(" ", "-").replace("(", "").replace(")", "")
    new, n = base, 2
    while new in taken:
        new, n = f"{base}-{n}", n + 1
    return new


def export_bundle(
    source: RunStore,
    runs: Sequence[Run],
    out: str | os.PathLike,
    provenance: dict | Callable[[], dict],
    landscape: dict | None = None,
    log: Callable[[str], None] = print,
    lesion: dict | None = None,
) -> Path:
    """Write `runs` of `source` (completed) as a bundle in `out` (replaced if it exists): a run store with
        the runs under `ref-` ids, their steps, epochs, probes and final checkpoint, and `provenance.json`
    (`provenance`, or what it returns when called once the rest is written: so it can hold the wall time).

        Each final checkpoint is stored in fp16 if the fp16 weights give the recorded final test error within
        TEST_ERROR_TOLERANCE on the run's own test set, else in fp32 (the numbers shown must be what the
        weights do). With `landscape` (the analysis parameters), each run's loss landscape is computed on the
        shipped weights and kept in the bundle's analyses table; with `lesion` (analyses.LESION_PARAMS), its
        lesion study too (`add_lesion`)."""
    out = Path(out)
    unfinished = [r.id for r in runs if r.status != "completed"]
    if unfinished:
        raise ValueError(f"only completed runs go into a reference bundle; not completed: {', '.join(unfinished)}")
    staging = out.with_name(out.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    bundle = RunStore(staging)
    taken: set[str] = set()
    entries = []
    for run in runs:
        new_id = reference_id(run, taken)
        taken.add(new_id)
        config = run.config.replace(experiment=EXPERIMENT, data_dir=None)  # no path of the machine it came from
        bundle.add_run(
            dataclasses.replace(
                run,
                id=new_id,
                name=NAME.format(net=run.spec.name),
                config=config,
                status="completed",
                error=None,
                progress={},
                stop_requested=False,
                node=None,
            )
        )
        steps = source.steps(run.id)
        bundle.add_steps(new_id, [dict(zip(steps, values)) for values in zip(*steps.values())])
        epochs = source.epochs(run.id)
        for row in epochs:
            bundle.add_epoch(new_id, row)
        for kind in ("grad_norms", "responses"):
            names, positions, values = source.probe(run.id, kind)
            for position, row in zip(positions.tolist(), values):
                bundle.add_probe(new_id, kind, int(position), dict(zip(names, row.tolist())))
        state, _, meta = source.load_checkpoint(run.id)
        recorded = epochs[-1]["test_error"]
        half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        bundle.save_checkpoint(new_id, meta["epoch"], meta["step"], half, None, keep_last=1)
        measured = checkpoint_test_error(bundle, bundle.get(new_id))
        weights = "fp16"
        if abs(measured - recorded) > TEST_ERROR_TOLERANCE:  # fp16 rounding moved a prediction: keep fp32
            bundle.save_checkpoint(new_id, meta["epoch"], meta["step"], state, None, keep_last=1)
            measured, weights = checkpoint_test_error(bundle, bundle.get(new_id)), "fp32"
        if abs(measured - recorded) > TEST_ERROR_TOLERANCE:
            raise RuntimeError(
                f"{run.spec.name}: its final checkpoint gives {100 * measured:.2f}% test error, "
                f"but {100 * recorded:.2f}% was recorded"
            )
        log(
            f"{new_id}: final test error {100 * recorded:.2f}% recorded, {100 * measured:.2f}% from the shipped "
            f"{weights} weights"
        )
        entries.append(
            {
                "id": new_id,
                "net": run.spec.name,
                "source_run": run.id,
                "weights": weights,
                "epochs": len(epochs),
                "train_error": epochs[-1]["train_error"],
                "test_error": recorded,
                "test_error_of_shipped_weights": measured,
                "train_seconds": sum(e["seconds"] or 0.0 for e in epochs),
            }
        )
    if landscape:
        _bundle_analyses(bundle, entries, "landscape", landscape, log)
    if lesion:
        _bundle_analyses(bundle, entries, "lesion", lesion, log)
    _compact(bundle)
    info = provenance() if callable(provenance) else provenance
    (staging / PROVENANCE).write_text(
        json.dumps({**info, "runs": entries, "landscape": landscape or None, "lesion": lesion or None}, indent=2) + "\n"
    )
    if out.exists():
        shutil.rmtree(out)
    os.replace(staging, out)
    return out


def _bundle_analyses(
    bundle: RunStore, entries: list[dict], kind: str, params: dict, log: Callable[[str], None]
) -> None:
    """Each run's analysis `kind` ("landscape", "lesion") with `params`, computed on its shipped weights and
    kept in the bundle's analyses table, unless it is there already; the seconds it took go into the run's
    provenance entry (`<kind>_seconds`)."""
    from .analyses import Analyses, compute

    analyses = Analyses(bundle)
    for entry in entries:
        if (held := analyses.find(entry["id"], kind, params)) is not None and held.status == "completed":
            continue
        started = time.perf_counter()
        status = compute(bundle, analyses.create(entry["id"], kind, dict(params)))
        entry[f"{kind}_seconds"] = round(time.perf_counter() - started, 1)
        log(f"{entry['id']}: {kind} {status} ({entry[f'{kind}_seconds']} s)")
        if status != "completed":
            raise RuntimeError(f"{entry['id']}: the {kind} analysis ended {status}")


def add_lesion(bundle: str | os.PathLike, params: dict, log: Callable[[str], None] = print) -> Path:
    """Compute the lesion study of every run of an existing bundle that lacks it, on its shipped weights, and
    record it in provenance.json — the rest of the bundle (runs, weights, landscapes) as it was. For a bundle
    made before the lesion study was part of it: no retraining."""
    bundle = Path(bundle)
    info = read_provenance(bundle)
    if not info.get("runs"):
        raise ValueError(f"{bundle} is not a reference bundle (no {PROVENANCE} with runs)")
    store = RunStore(bundle)
    _bundle_analyses(store, info["runs"], "lesion", params, log)
    _compact(store)
    info["lesion"] = params
    (bundle / PROVENANCE).write_text(json.dumps(info, indent=2) + "\n")
    return bundle


def _compact(store: RunStore) -> None:
    """One self-contained, small database file: the WAL folded in, rollback journal mode, vacuumed."""
    store.close()
    db = sqlite3.connect(store.db_path, isolation_level=None)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode = DELETE")
        db.execute("VACUUM")
    finally:
        db.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{store.db_path}{suffix}").unlink(missing_ok=True)


def checkpoint_test_error(store: RunReader, run: Run, batch_size: int = 500) -> float:
    """The error fraction of the run's newest checkpoint on the run's own test set (its dataset, subset and
    normalisation), in eval mode, as the trainer evaluates it after each epoch."""
    import torch

    from ..data.pixels import to_input
    from ..store.loading import classifier_from_run, run_dataset

    data = run_dataset(run)
    net = classifier_from_run(store, run, data).net
    wrong = 0
    with torch.no_grad():
        for start in range(0, len(data.test_labels), batch_size):
            images = to_input(data.test_images[start : start + batch_size], data.mean, data.std)
            wrong += int((net(images).argmax(dim=1) != data.test_labels[start : start + batch_size]).sum())
    return wrong / len(data.test_labels)


def provenance(
    command: Sequence[str],
    preset_key: str,
    recipe: str,
    started: float,
    wall_seconds: float,
    load_before: tuple[float, ...],
    load_after: tuple[float, ...],
) -> dict:
    """Where and how a bundle was made: command, commit, machine, date, versions, wall time, load. Facts, not
    sentences: the preset by its key, the machine by its fields (presentation/describe says them in the
    reader's language)."""
    import numpy
    import torch

    return {
        "command": " ".join(command),
        "preset": preset_key,
        "recipe": recipe,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "date": datetime.datetime.fromtimestamp(started, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "wall_seconds": round(wall_seconds, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }


def machine() -> dict:
    """{"cpu": "Intel(R) Xeon(R) Processor", "cores": 2, "virtual": True, "os": "Linux"}: what /proc/cpuinfo says
    (the CPU's model is a name, kept as it is)."""
    model, virtual = platform.processor() or platform.machine(), False
    try:
        info = Path("/proc/cpuinfo").read_text()
        model = next(
            (line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), model
        )
        virtual = " hypervisor" in info
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count() or 1, "virtual": virtual, "os": platform.system()}


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
