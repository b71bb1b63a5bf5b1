"""`TrainConfig`: how to train — the paper's recipe and the knobs around it. Apart from train.py so the
run store and the command line read and check configs without importing torch."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ..data.catalog import PAD_MODES

SCHEDULES = ("step", "cosine", "constant")
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class TrainConfig:
    """How to train. Defaults are the paper's CIFAR-10 recipe (He et al. 2015, §4.2)."""

    epochs: int = 10  # passes over the training set (the paper: 64k steps of 128 = 164 epochs)
    batch_size: int = 128  # images per SGD step (§4.2: mini-batch size 128)
    lr: float = 0.1  # learning rate at the start, per step of `batch_size` images (§4.2: 0.1)
    momentum: float = 0.9  # SGD momentum (§4.2)
    weight_decay: float = 1e-4  # L2 penalty on every parameter, BN's included, as in Caffe (§4.2)
    schedule: str = "step"  # "step": lr ÷10 at 50% and 75% of the steps (§4.2: 32k, 48k of 64k);
    #                         "cosine": half a cosine from lr to 0; "constant"
    warmup_epochs: float = 0.0  # first run at lr/10 for this many epochs: §4.2's ResNet-110 trick (0.01
    #                             "until the training error is below 80% (about 400 iterations)"), as a
    #                             fixed length — 400 iterations of 128 on CIFAR-10 ≈ 1 epoch
    warmup_until_error: float = 0.0  # or the rule itself: lr/10 until the training error (a "step" event's
    #                                  running mean) falls below this fraction — §4.2: 0.8; 0: off
    seed: int = 0  # weight init, batch order and augmentation
    device: str = "auto"  # "auto" (CUDA > MPS > CPU), "cpu", "cuda", "mps"
    augment: bool = True  # pad 4, random 32×32 crop, horizontal flip (§4.2); False: the raw images
    pad_mode: str = "zeros"  # "zeros" (black, like torchvision's RandomCrop(padding=4)) or "reflect"
    log_every: int = 10  # steps per "step" event; each is one host-device sync, so not every step
    grad_norm_every: int = 25  # steps between "grad_norms" events (the first step always has one); 0: off
    probe_batch_size: int = 256  # fixed test images (the first ones) for the "responses" probe; 0: off
    eval_batch_size: int = 1000  # images per forward in the test pass (memory only, same results)
    checkpoint_every: int = 1  # epochs between "checkpoint" events (the last epoch always has one); 0: off
    compile: bool = False  # torch.compile the net (on a GPU with CUDA graphs): 15–35 s at the start, then
    #                        several times faster on a GPU (BENCHMARKS.md, "CUDA graphs")
    precision: str = "auto"  # "auto": bf16 autocast on CUDA, fp32 elsewhere; or "fp32", "bf16"
    channels_last: bool | None = None  # NHWC tensors; None: on CUDA and CPU (faster on both here)
    head_init_scale: float = 1.0  # multiplies the classifier's initial weights (fresh nets only); < 1 starts
    #                               every net near chance loss: a post-activation ResNet's stream grows with
    #                               depth, so at 1.0 ResNet-56 starts at loss ~3.5 vs ~2.6 for ResNet-20

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "log_every", "eval_batch_size"):
            _check_int(name, getattr(self, name), minimum=1)
        for name in ("grad_norm_every", "probe_batch_size", "checkpoint_every", "seed"):
            _check_int(name, getattr(self, name), minimum=0)
        for name, choices in (("schedule", SCHEDULES), ("precision", PRECISIONS), ("pad_mode", PAD_MODES)):
            value = getattr(self, name)
            if value not in choices:
                raise ValueError(f"{name} {value!r} is not valid; choose one of: {', '.join(choices)}")
        for name in ("lr", "momentum", "weight_decay", "warmup_epochs", "warmup_until_error", "head_init_scale"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.warmup_until_error > 1:
            raise ValueError(
                f"warmup_until_error is a fraction of the images (0.8 = 80%), got {self.warmup_until_error!r}"
            )

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
