"""The Train page's form without Streamlit: the values its widgets hold -> the RunConfig a run trains with,
and the sentences that go with them (the recipe, the optimiser, the §4.2 warm-up advice, the time here).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.spec import NetSpec
from ..store.config import RunConfig
from ..training.train import TrainConfig
from .describe import describe_duration, epochs
from .i18n import N_, Messages, _, ngettext

# Warm-up choices (§4.2): for ResNet-110 the paper used lr 0.01 "until the training error is below 80%
# (about 400 iterations)", then 0.1.
WARMUPS = Messages(
    {
        "none": "none",
        "error": N_("lr ÷10 until the training error is below 80% (§4.2)"),
        "epoch": N_("lr ÷10 for the first epoch"),
    }
)
WARMUP_UNTIL_ERROR = 0.8
TEST_IMAGES = 2000  # at most: a test pass stays a small part of an epoch on a CPU


@dataclass(frozen=True)
class TrainForm:
    """What the form's widgets hold."""

    epochs: int
    train_size: int
    batch_size: int
    lr: float
    schedule: str
    augment: bool
    momentum: float
    weight_decay: float
    seed: int
    warmup: str  # a key of WARMUPS
    head_init_scale: float = 1.0
    # The most a class-balanced subset of the dataset can hold (your own images: the smallest class times
    # the classes); None: the slider's values all fit (the built-in datasets).
    train_most: int | None = None
    test_most: int | None = None

    def config(self) -> RunConfig:
        """The run's recipe: a test set of at most TEST_IMAGES images, never more than the training set;
        both within what the dataset holds."""
        if self.warmup not in WARMUPS:
            raise ValueError(f"warm-up {self.warmup!r} is not one of {', '.join(WARMUPS)}")
        return RunConfig(
            TrainConfig(
                epochs=int(self.epochs),
                batch_size=int(self.batch_size),
                lr=float(self.lr),
                schedule=self.schedule,
                augment=bool(self.augment),
                momentum=float(self.momentum),
                weight_decay=float(self.weight_decay),
                seed=int(self.seed),
                warmup_until_error=WARMUP_UNTIL_ERROR if self.warmup == "error" else 0.0,
                warmup_epochs=1.0 if self.warmup == "epoch" else 0.0,
                head_init_scale=float(self.head_init_scale),
            ),
            train_size=min(int(self.train_size), self.train_most or int(self.train_size)),
            test_size=min(TEST_IMAGES, int(self.train_size), self.test_most or TEST_IMAGES),
        )

    def describe_optimizer(self) -> str:
        """ "SGD with momentum 0.9 and weight decay 0.0001 (§4.2), seed 0"."""
        paper = TrainConfig()
        as_paper = (self.momentum, self.weight_decay) == (paper.momentum, paper.weight_decay)
        return _("SGD with momentum {momentum:g} and weight decay {weight_decay:g}{value}, seed {seed}").format(
            momentum=self.momentum, weight_decay=self.weight_decay, value=" (§4.2)" if as_paper else "", seed=self.seed
        )


def warmup_advice(spec: NetSpec, form: TrainForm) -> str | None:
    """§4.2: at lr 0.1 ResNet-110 did not start converging, so the paper warmed it up at 0.01 first. Said
    for a net that deep, at that rate, without a warm-up; None otherwise."""
    if spec.depth >= 110 and form.warmup == "none" and form.lr >= 0.1:
        return _(
            "The paper warmed ResNet-110 up (lr 0.01 until the training error is below 80%): at lr 0.1 "
            "it did not start converging. See *Warm-up* above."
        )
    return None


def describe_time_here(device: str, seconds: float | None, runs: int, spec: NetSpec, form: TrainForm) -> str:
    """The form's time estimate (execution/estimates.py), or when one will be known."""
    if seconds is None:
        return _("Time on this {device}: known once a run here has finished an epoch.").format(device=device)
    return _(
        "Time on this {device}: {describe_duration} of training ({name}, {epochs} of "
        "{train_size:,} images; from the speed of {runs} here)."
    ).format(
        device=device,
        describe_duration=describe_duration(seconds),
        name=spec.name,
        epochs=epochs(int(form.epochs)),
        train_size=int(form.train_size),
        runs=ngettext("{n} earlier run", "{n} earlier runs", runs).format(n=runs),
    )
