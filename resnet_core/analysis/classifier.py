"""`Classifier`: a trained net with what it takes to feed it and read its answer — the one thing the
Explain page and `explain` callers need, whether the net is a stored run or torchvision's ImageNet model."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ..model.spec import NetSpec


@dataclass(frozen=True, eq=False)
class Classifier:
    """A trained net and what it takes to feed it and read its answer."""

    net: nn.Module
    name: str  # e.g. "ResNet-56 · shapes" or "ResNet-18 (ImageNet, torchvision)"
    classes: tuple[str, ...]
    mean: tuple[float, ...]  # per channel, on [0, 1]: the normalisation it was trained with
    std: tuple[float, ...]
    input_size: int  # side of the square image it sees
    resize_size: int | None = None  # shorter side before the centre crop (ImageNet: 256); None: input_size
    skip: bool = True  # residual (True) or plain net, for the colours
    spec: NetSpec | None = None  # our nets only
    run_id: str | None = None
    dataset: str | None = None  # the dataset it was trained on (our nets): its class names' words (presentation)
