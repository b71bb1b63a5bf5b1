"""The degradation experiment (He et al. 2015, Fig. 6): plain and residual nets at several depths, trained
the same way, compared by their final training and test error.

What it must show: deeper *plain* nets end with a higher *training* error (so it is not overfitting),
and deeper ResNets are no worse than shallower ones. The quick CPU preset finishes in about three minutes on
two cores with the embedded dataset (depths 8 and 44), the longer one (20 and 56) in 10–17; on a GPU with
CIFAR-10 present it uses the paper's schedule (§4.2: batch 128, lr 0.1 ÷10 at 32k and 48k iterations, stop
at 64k ≈ 164 epochs on 50k images).
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field

from ..data.catalog import facts
from ..data.datasets import DatasetUnavailable, load_dataset
from ..model.spec import NetSpec
from ..store.config import RunConfig
from ..store.protocol import RunReader
from ..store.run_store import Run
from ..store.status import ACTIVE
from ..training.train import TrainConfig

PAPER_DEPTHS = (20, 32, 44, 56)


@dataclass(frozen=True)
class Preset:
    name: str  # shown to the user
    dataset: str
    depths: tuple[int, ...]
    config: RunConfig = field(default_factory=RunConfig)
    note: str = ""
    key: str = ""  # stable, never shown: what a record (the reference bundle's provenance) names it by

    def on(self, dataset: str | None) -> Preset:
        """The same preset on another dataset (None: its own); the reference runs are the longer one on
        Fashion-MNIST."""
        return self if dataset is None else dataclasses.replace(self, dataset=dataset)


# Every CPU preset's recipe (BENCHMARKS.md, "Degradation preset"): lr 0.02 with a cosine decay — at lr 0.05
# ResNet-56 sat at chance for its first ~400 steps on the embedded dataset (lr 0.1 for longer still; the paper
# saw the same at 0.1 with ResNet-110, §4.2), while 0.02 starts every net at once; batch 64, for twice the
# steps the budget buys; no augmentation: degradation is about *training* error, and augmentation only slows
# it down here. The classifier starts at 0.1× its usual initial weights, for every net alike: a
# post-activation ResNet's stream adds one unit-variance branch per block, so at the usual init ResNet-56's
# logits are ~2× ResNet-20's and its first loss ~3.5 instead of ~2.6 (plain nets: 2.3); it spent its first
# epochs undoing that. The paper's 64k iterations absorb such a start; minutes on a CPU do not.
_CPU_RECIPE = TrainConfig(
    epochs=14, batch_size=64, lr=0.02, schedule="cosine", augment=False, head_init_scale=0.1, grad_norm_every=10
)


def cpu_preset() -> Preset:
    """The CPU's default: both halves of Fig. 6 in under four minutes on two cores (see BENCHMARKS.md,
    "The quick preset: 8 and 44 layers in under four minutes", for the trials behind every choice here).

    Depths 8 and 44 rather than the paper's 20 and 56: in four minutes ResNet-56 does not yet overtake
    ResNet-20 (a deep ResNet needs more steps than that to pass a 20-layer one), but it does overtake the
    family's shallowest net (8 layers, one block per stage), and 8 + 44 layers cost less per image than
    20 + 56. 44 rather than 32: in this budget plain-32 is not reliably worse than plain-8, while plain-44,
    like plain-56, stays near chance. The 20/56 preset is `cpu_long_preset` (the reference runs)."""
    # 2,800 × 8 and 500 test images: a little less work than 3,000 × 8 with 1,000, which left no margin under
    # four minutes on a machine whose load changes.
    config = RunConfig(_CPU_RECIPE.replace(epochs=8), train_size=2800, test_size=500)
    return Preset(
        "Quick CPU preset",
        "shapes",
        (8, 44),
        config,
        "Two depths, 8 and 44 layers, on 2,800 training images — the family's shallowest net and one of "
        "Fig. 6's, so that four nets train in minutes on a laptop; the longer preset trains the paper's "
        "20 and 56. Compare the training errors: that is what Fig. 6 is about.",
        key="cpu",
    )


def cpu_long_preset() -> Preset:
    """Ten to twenty minutes on a 2-core CPU (BENCHMARKS.md, "Degradation preset"): the paper's depths 20
    and 56, and the recipe of the reference runs the app ships (`python -m resnet_core reference`). Tuned by
    measurement (same section): 4,500 images for 14 epochs rather than 10,000 for 6 — about the same compute,
    but the ResNets get close enough to convergence for depth to show: ResNet-56 starts slower and overtakes
    ResNet-20 in the last epochs (fewer images for more epochs overfitted without separating them; with the
    usual classifier init the two ended within noise of each other)."""
    config = RunConfig(_CPU_RECIPE, train_size=4500, test_size=1000)
    return Preset(
        "Longer CPU preset",
        "shapes",
        (20, 56),
        config,
        "Two depths, 20 and 56 layers, on 4,500 training images: the paper's shallowest and deepest "
        "plain nets, and the recipe of the reference runs, which trained on Fashion-MNIST (there plain-56 "
        "learns; on the embedded shapes it stays near chance). Add 32 and 44 for the paper's four depths "
        "(about twice as long). Compare the training errors: that is what Fig. 6 is about.",
        key="cpu_long",
    )


def cpu_presets() -> tuple[Preset, ...]:
    """The presets a CPU offers, its default first."""
    return cpu_preset(), cpu_long_preset()


def quick_recipe(device_type: str) -> dict:
    """Starting values for a single run (the Train page): the paper's recipe on a GPU; on a CPU the one
    the CPU presets were tuned with, which gets even a 56-layer net off the embedded dataset's initial
    plateau in its first epochs (lr 0.1 kept it at chance for hundreds of steps there)."""
    keys = ("lr", "batch_size", "schedule", "augment", "head_init_scale")
    if device_type == "cuda":
        return {k: getattr(TrainConfig(), k) for k in keys}
    return {k: getattr(_CPU_RECIPE, k) for k in keys}


def paper_preset(dataset: str = "cifar10") -> Preset:
    """The paper's CIFAR-10 schedule, for a GPU: 64k iterations of 128 ≈ 164 epochs of 50k images."""
    config = RunConfig(TrainConfig(epochs=164, batch_size=128, lr=0.1, schedule="step", compile=True))
    return Preset(
        "The paper's schedule (GPU)",
        dataset,
        PAPER_DEPTHS,
        config,
        "He et al. 2015 §4.2: lr 0.1, ÷10 at 50% and 75% of training, weight decay 1e-4, momentum 0.9.",
        key="paper",
    )


def gpu_shapes_preset() -> Preset:
    config = RunConfig(TrainConfig(epochs=30, batch_size=128, lr=0.1, schedule="step", compile=True))
    return Preset(
        "GPU preset on the embedded dataset",
        "shapes",
        PAPER_DEPTHS,
        config,
        "CIFAR-10 is not available here; the embedded dataset with a 30-epoch step schedule.",
        key="gpu_shapes",
    )


def cifar_available(root=None) -> bool:
    """Whether CIFAR-10 can be loaded here (present on disk; nothing is downloaded)."""
    return dataset_problem("cifar10", root) is None


def dataset_problem(name: str, root=None) -> DatasetUnavailable | ValueError | None:
    """None if the dataset can be loaded here (present on disk; nothing is downloaded), else the error that says
    why not and where to put its files: `str()` is the English, and a page says it in the reader's language
    (`i18n.say`, once the error carries its words: resnet_core/words.py)."""
    try:
        load_dataset(name, root, test_size=10)
        return None
    except (DatasetUnavailable, ValueError) as err:
        return err


def preset_by_key(key: str) -> Preset | None:
    """The preset a record names by its key (None for an unknown one, e.g. an older record's sentence)."""
    return next(
        (p for p in (cpu_preset(), cpu_long_preset(), paper_preset(), gpu_shapes_preset()) if p.key == key), None
    )


def device_presets(device_type: str, cifar_available: bool) -> tuple[Preset, ...]:
    """The presets the Degradation page and command offer on this device, its default first."""
    if device_type == "cuda":
        return (paper_preset() if cifar_available else gpu_shapes_preset(),)
    return cpu_presets()


def default_preset(device_type: str, cifar_available: bool) -> Preset:
    return device_presets(device_type, cifar_available)[0]


def experiment_specs(depths, base: NetSpec | None = None) -> list[NetSpec]:
    """Plain and residual twins at every depth (plain first), otherwise the same net."""
    base = base or NetSpec()
    return [base.replace(depth=d, skip=skip) for d in sorted(depths) for skip in (False, True)]


def new_experiment_id() -> str:
    return "degradation-" + time.strftime("%Y%m%d-%H%M%S")


TWINS_PREFIX = "twins-"


def new_twins_id() -> str:
    """The experiment tag both runs of a "Train plain + residual twins" pair share (runs/loading.find_twin)."""
    return TWINS_PREFIX + time.strftime("%Y%m%d-%H%M%S-") + os.urandom(3).hex()


def plan_experiment(preset: Preset, depths, **config_changes) -> tuple[str, list[tuple[NetSpec, RunConfig, str]]]:
    """A new experiment id and its runs as (spec, config, name): the preset's config tagged with the id,
    named "<net> · <id>". The page and the CLI both start experiments from this, so theirs look the same."""
    experiment = new_experiment_id()
    config = preset.config.replace(**config_changes, experiment=experiment)
    data = facts(preset.dataset, config.data_dir)  # a grayscale dataset's nets take one input channel
    base = NetSpec(in_channels=data.in_channels, num_classes=data.num_classes)
    return experiment, [(spec, config, f"{spec.name} · {experiment}") for spec in experiment_specs(depths, base)]


def experiment_runs(store: RunReader, experiment: str) -> list[Run]:
    return [r for r in store.list() if r.config.experiment == experiment]


def experiments(store: RunReader) -> list[str]:
    """Experiment ids in the store, newest first (not the pair ids of twins trained together)."""
    seen = dict.fromkeys(
        r.config.experiment
        for r in store.list()
        if r.config.experiment and not r.config.experiment.startswith(TWINS_PREFIX)
    )
    return list(reversed(seen))


@dataclass(frozen=True)
class Gap:
    """Why one net of a depth cannot be judged yet: no run (`run` None), a run that did not complete all its
    epochs (`done` of `planned`, `status`), or one trained with another recipe than the rest of the
    experiment (`other_recipe`, its config). presentation/degradation.describe_gap says it in words."""

    net: str  # "plain-56", "ResNet-56"
    planned: int = 0
    done: int = 0
    status: str | None = None  # None: no run
    other_recipe: RunConfig | None = None


@dataclass(frozen=True)
class DepthRow:
    depth: int
    plain_train: float | None  # final training error (fraction), None until an epoch finished
    plain_test: float | None
    residual_train: float | None
    residual_test: float | None
    # What keeps these numbers from a verdict, one Gap per net; empty when both runs completed the
    # experiment's recipe.
    unfinished: tuple[Gap, ...] = ()


def _recipe(run: Run) -> dict:
    """What "trained the same way" compares: the run's config without its experiment tag."""
    return {k: v for k, v in run.config.to_dict().items() if k != "experiment"}


def depth_table(store: RunReader, runs: list[Run]) -> list[DepthRow]:
    """Final (latest epoch's) train and test error of the plain and residual net at each depth, and for
    each depth what keeps it from a verdict: a run that did not complete all its epochs, a missing run,
    or a run trained with another recipe than the rest of the experiment."""
    final: dict[tuple[int, bool], dict] = {}
    by_net: dict[tuple[int, bool], Run] = {}
    for run in runs:
        epochs = store.epochs(run.id)
        by_net[(run.spec.depth, run.spec.skip)] = run
        if epochs:
            final[(run.spec.depth, run.spec.skip)] = epochs[-1]
    depths = sorted({r.spec.depth for r in runs})
    recipes = [_recipe(r) for r in runs]
    common = max(recipes, key=recipes.count) if recipes else None

    def get(depth, skip, key):
        row = final.get((depth, skip))
        return None if row is None else row[key]

    def gaps(depth) -> tuple[Gap, ...]:
        out = []
        for skip in (False, True):
            name = f"{'ResNet' if skip else 'plain'}-{depth}"
            run = by_net.get((depth, skip))
            if run is None:
                out.append(Gap(name))
                continue
            done = final[(depth, skip)]["epoch"] if (depth, skip) in final else 0
            planned = run.config.epochs
            if run.status != "completed" or done < planned:
                out.append(Gap(name, planned, done, run.status))
            elif _recipe(run) != common:
                out.append(Gap(name, planned, done, run.status, run.config))
        return tuple(out)

    return [
        DepthRow(
            d,
            get(d, False, "train_error"),
            get(d, False, "test_error"),
            get(d, True, "train_error"),
            get(d, True, "test_error"),
            gaps(d),
        )
        for d in depths
    ]


# How far below chance a net's final training error must be for it to count as trained: 10 points (80% with
# 10 classes, where chance is 90%). A judgement, as SAME_WITHIN.
LEARNED_BELOW_CHANCE = 0.10
# A deeper ResNet counts as "no worse" within this margin of training error (one point), for run-to-run
# noise. It is a judgement, not a measured bound.
SAME_WITHIN = 0.01


@dataclass(frozen=True)
class ExperimentProgress:
    epochs_done: int
    epochs_total: int
    runs_ahead: int  # active runs of other experiments before this one's first waiting run, in queue order
    eta_seconds: float | None  # for this experiment's remaining epochs; None until an epoch was timed


def experiment_progress(store: RunReader, runs: list[Run], at_once: int = 1) -> ExperimentProgress:
    """Where an experiment stands: epochs done of planned, the runs it waits behind (the runner starts runs
    in the order they were created, `at_once` at a time), and the time its own remaining epochs should take —
    each run at its measured seconds per epoch, a run not yet started at the experiment's measured seconds
    per epoch and layer times its depth (training time grows about linearly with depth), divided among the
    runs that train at once (their measured epochs already ran at a share of the machine)."""
    ids = {r.id for r in runs}
    done, total, per_epoch, per_layer = 0, 0, {}, []
    for run in runs:
        epochs = store.epochs(run.id)
        done += min(len(epochs), run.config.epochs)
        total += run.config.epochs
        seconds = [e["seconds"] for e in epochs if e.get("seconds")]
        if seconds:
            per_epoch[run.id] = sum(seconds) / len(seconds)
            per_layer.append(per_epoch[run.id] / run.spec.depth)
    waiting = [r for r in runs if r.status == "queued"]
    ahead = 0
    if waiting:
        queue = store.list(ACTIVE)
        first = next((i for i, r in enumerate(queue) if r.id in ids), len(queue))
        ahead = sum(1 for r in queue[:first] if r.id not in ids)
    eta = None
    if per_layer:
        rate = sum(per_layer) / len(per_layer)
        eta = 0.0
        for run in runs:
            if run.active:
                left = run.config.epochs - min(len(store.epochs(run.id)), run.config.epochs)
                eta += left * per_epoch.get(run.id, rate * run.spec.depth)
        eta /= max(1, min(at_once, sum(1 for run in runs if run.active)))
    return ExperimentProgress(done, total, ahead, eta)
