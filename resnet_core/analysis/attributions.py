"""`explain(net, images, method)`: which pixels a net's prediction depends on, with Captum.

    import resnet_core as rc
    from resnet_core.data.pixels import to_input
    x = to_input(uint8_images, mean=ds.mean, std=ds.std)   # (N, 3, 32, 32), normalised
    a = rc.explain(net, x, "integrated_gradients", n_steps=50)
    a.maps.shape, a.target, a.delta       # (N, 3, 32, 32), predicted classes (N,), convergence error (N,)
    heat = a.heatmaps("positive")         # (N, 32, 32) numpy on [0, 1], ready to overlay

Methods (`METHODS` lists them with a sentence each for the UI):

    method                options (defaults)                          maps
    integrated_gradients  baseline=0.0, n_steps=50, internal_batch_size  (N, C, H, W); delta (N,)
    saliency              –                                           (N, C, H, W)
    smoothgrad            base="saliency" | "integrated_gradients",   (N, C, H, W); delta with IG
                          nt_samples=25, noise_level=0.15, stdevs,
                          n_steps=20, seed=0
    guided_backprop       – (ReLU nets only: ValueError otherwise)    (N, C, H, W)
    gradcam               layer (default: the last stage),            (N, 1, H, W), upsampled
                          relu_attributions=True
    occlusion             window, stride (default H/4, H/8),          (N, C, H, W)
                          baseline=0.0, perturbations_per_eval

Every method runs on an `eval()` deep copy of the net (BN uses its running statistics, as at test time)
with the copy's parameters frozen, so the caller's net keeps its mode, parameters, buffers and `.grad`.
Images are float tensors in the net's input space — already normalised with the training set's mean and
std — so the zero baseline of integrated gradients is the *mean image*, not black. `data.pixels.to_input`
and `to_display` convert uint8 pixels to that space and back.

Captum is imported inside the functions that use it: `import resnet_core` stays fast.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from ..words import WordedError, Words

SIGNS = ("positive", "absolute", "all")


@dataclass(frozen=True)
class MethodInfo:
    label: str  # for select boxes and figure titles
    summary: str  # one or two sentences for a reader who has not met the method
    options: dict  # option -> default (None: chosen from the image size)
    input_space: bool = True  # False: the maps come from a hidden layer (Grad-CAM), then upsampled


METHODS: dict[str, MethodInfo] = {
    "integrated_gradients": MethodInfo(
        "Integrated gradients",
        "Sums the gradient along a straight path from a baseline (here the dataset's mean image) to the image; "
        "the attributions add up to the change in the class score, up to the reported convergence error.",
        {"baseline": 0.0, "n_steps": 50, "internal_batch_size": None},
    ),
    "saliency": MethodInfo(
        "Saliency (gradient)",
        "The gradient of the class score with respect to each pixel: how much a tiny change of that pixel "
        "would move the score. Fast, but noisy.",
        {},
    ),
    "smoothgrad": MethodInfo(
        "SmoothGrad",
        "Averages the saliency (or integrated gradients) of many noisy copies of the image, which removes "
        "much of the gradient's pixel-to-pixel noise.",
        {"base": "saliency", "nt_samples": 25, "noise_level": 0.15, "stdevs": None, "n_steps": 20, "seed": 0},
    ),
    "guided_backprop": MethodInfo(
        "Guided backprop",
        "The gradient with negative signals stopped at every ReLU on the way back: sharp, edge-like maps. "
        "It shows image structure more than the class decision, and is defined for ReLU nets only.",
        {},
    ),
    "gradcam": MethodInfo(
        "Grad-CAM",
        "Weights the feature maps of a late layer (default: the last stage) by their average gradient and "
        "upsamples the result: coarse (the last stage is 8×8 for a 32×32 image, 7×7 for 224×224), but "
        "class-specific.",
        {"layer": None, "relu_attributions": True},
        input_space=False,
    ),
    "occlusion": MethodInfo(
        "Occlusion",
        "Covers the image with a sliding grey square (the mean image) and records how much the class score "
        "drops: no gradients, just many forward passes.",
        {"window": None, "stride": None, "baseline": 0.0, "perturbations_per_eval": None},
    ),
}

# Guided backprop rewrites the backward pass of ReLU modules only; other activations pass through
# unchanged, which would silently give plain gradients for them.
_NON_RELU_ACTIVATIONS = (
    nn.Sigmoid,
    nn.Tanh,
    nn.GELU,
    nn.SiLU,
    nn.ELU,
    nn.LeakyReLU,
    nn.Softplus,
    nn.Mish,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.PReLU,
    nn.SELU,
    nn.CELU,
)
# Images × steps per batch for gradient methods: 32×32 images go in one batch (IG's 50 steps), 224×224
# ones in batches of about 20, which keeps a ResNet-50's activations near 2 GB.
_PIXEL_BUDGET = 2**20


@dataclass(frozen=True)
class Attribution:
    """What `explain` returns (tensors on the CPU, detached).

    maps:   (N, C, H, W) for input-space methods — one value per pixel and colour channel, in the units
            of the class score (logit) for integrated gradients and occlusion, of its gradient for the
            others; (N, 1, H, W) for Grad-CAM, upsampled from its layer to the image's H×W.
    target: (N,) the class explained for each image (the predicted one unless given).
    delta:  (N,) integrated gradients' convergence error — sum(maps) − (f(x) − f(baseline)) for the
            target logit — or None for the other methods.
    layer:  Grad-CAM's layer (a module name), else None.
    options: the options the method ran with, defaults filled in.
    """

    method: str
    maps: torch.Tensor
    target: torch.Tensor
    delta: torch.Tensor | None = None
    layer: str | None = None
    options: dict = field(default_factory=dict)

    def heatmaps(self, sign: str = "absolute", outlier_perc: float = 2.0) -> np.ndarray:
        """(N, H, W) float32 maps for display: channels summed (as Captum's visualiser does), then
        "positive" keeps what raises the score, "absolute" its size either way, "all" both signs; each map
        is divided by its own (100 − outlier_perc)th percentile of |value| and clipped, so it lies on
        [0, 1] ([−1, 1] for "all"). Compare *where* two maps look, not how strongly."""
        if sign not in SIGNS:
            raise ValueError(f"sign {sign!r} is not valid; choose one of: {', '.join(SIGNS)}")
        combined = self.maps.float().sum(dim=1)  # (N, H, W)
        if sign == "positive":
            combined = combined.clamp(min=0)
        elif sign == "absolute":
            combined = combined.abs()
        flat = combined.abs().flatten(1)
        scale = torch.quantile(flat, 1 - outlier_perc / 100, dim=1) if flat.shape[1] else torch.ones(len(flat))
        scale = torch.where(scale > 0, scale, flat.amax(dim=1).clamp(min=1e-12))
        return (combined / scale[:, None, None]).clamp(-1, 1).numpy().astype(np.float32)


def explain(net: nn.Module, images: torch.Tensor, method: str, target=None, **options) -> Attribution:
    """Attribution maps of `method` for `images` (N, C, H, W) (or one image (C, H, W)) in the net's input
    space; see the module docstring for the methods and their options.

    `target`: None explains each image's predicted class; an int, a sequence or an (N,) tensor picks
    classes. Raises ValueError for an unknown method or option, or guided backprop on a non-ReLU net.

    >>> a = explain(build_net(NetSpec(depth=8)), torch.zeros(1, 3, 32, 32), "gradcam")
    >>> a.maps.shape, a.layer
    (torch.Size([1, 1, 32, 32]), 'stage3')
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    unknown = sorted(set(options) - set(METHODS[method].options))
    if unknown:
        valid = ", ".join(METHODS[method].options) or "none"
        raise ValueError(f"unknown option(s) {unknown} for {method}; valid options: {valid}")
    opts = {**METHODS[method].options, **options}
    if images.ndim == 3:
        images = images.unsqueeze(0)
    if images.ndim != 4 or not images.is_floating_point():
        raise ValueError(
            f"images must be a float tensor (N, C, H, W) in the net's input space, got "
            f"{images.dtype} {tuple(images.shape)}; use to_input() for uint8 pixels"
        )
    model = eval_copy(net)
    if method == "guided_backprop":
        _check_relu_net(model)
    device = next(model.parameters()).device
    x = images.detach().to(device=device, dtype=torch.float32).clone()
    if device.type in ("cpu", "cuda"):  # NHWC convolutions are faster on both (see train.py)
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    n, _, h, w = x.shape
    target_t = _targets(model, x, target)
    tgt = target_t.to(device)
    delta, layer = None, None

    with warnings.catch_warnings():
        # Captum warns that it set requires_grad on the inputs and hooks on the ReLUs: both expected.
        warnings.filterwarnings("ignore", message=".*(required_grads|backward hooks|requires_grad).*")
        if method == "integrated_gradients":
            maps, delta = _integrated_gradients(model, x, tgt, opts)
        elif method == "saliency":
            from captum.attr import Saliency

            maps = Saliency(model).attribute(x, target=tgt, abs=False)
        elif method == "smoothgrad":
            maps, delta = _smoothgrad(model, x, tgt, opts)
        elif method == "guided_backprop":
            from captum.attr import GuidedBackprop

            maps = GuidedBackprop(model).attribute(x, target=tgt)
        elif method == "gradcam":
            from captum.attr import LayerAttribution, LayerGradCam

            layer = opts["layer"] or default_layer(model)
            module = _submodule(model, layer)
            cam = LayerGradCam(model, module).attribute(
                x, target=tgt, relu_attributions=bool(opts["relu_attributions"])
            )
            maps = LayerAttribution.interpolate(cam, (h, w), interpolate_mode="bilinear")
            opts["layer"] = layer
        else:  # occlusion
            maps = _occlusion(model, x, tgt, opts)

    maps = maps.detach().float().contiguous().cpu()
    if delta is not None:
        delta = delta.detach().float().reshape(n).cpu()
    return Attribution(method, maps, target_t.cpu(), delta, layer, opts)


class AttributionError(WordedError, ValueError):
    """A method that cannot explain this net (guided backprop on a non-ReLU net, a layer it lacks), in words the
    Explain page says in the reader's language (words.py)."""


@runtime_checkable
class _InPlace(Protocol):
    """A module with an `inplace` flag (ReLU, LeakyReLU, Dropout, ...)."""

    inplace: bool


def eval_copy(net: nn.Module) -> nn.Module:
    """A deep copy in eval mode with frozen parameters and no in-place activations; `net` is untouched."""
    model = copy.deepcopy(net)
    model.eval()
    for p in model.parameters():
        p.grad = None
        p.requires_grad_(False)  # gradients flow to the inputs only: no weight-gradient work
    for m in model.modules():
        if isinstance(m, _InPlace) and m.inplace:
            m.inplace = False  # torchvision's ReLU(inplace=True) breaks Captum's backward hooks
    return model


def predict(net: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Class probabilities (N, K) of an eval copy of `net` for images in its input space."""
    model = eval_copy(net)
    device = next(model.parameters()).device
    with torch.no_grad():
        logits = model(images.to(device=device, dtype=torch.float32))
    return torch.softmax(logits.float(), dim=1).cpu()


def top_k(probs: torch.Tensor, classes: Sequence[str], k: int = 5) -> list[tuple[str, float]]:
    """The k most probable (class name, probability) of one image's probabilities (K,)."""
    values, indices = probs.flatten().topk(min(k, probs.numel()))
    return [(classes[i] if i < len(classes) else f"class {i}", float(v)) for v, i in zip(values, indices.tolist())]


def default_layer(net: nn.Module) -> str:
    """Grad-CAM's layer: our nets' last stage, torchvision's `layer4`, else the last Conv2d."""
    layout = getattr(net, "layout", None)
    if layout is not None:
        return layout.stages[-1].name
    names = dict(net.named_modules())
    if "layer4" in names:
        return "layer4"
    convs = [name for name, m in net.named_modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise AttributionError("Grad-CAM needs a convolutional layer; this net has none")
    return convs[-1]


def layer_choices(net: nn.Module) -> list[str]:
    """Layers Grad-CAM can use, last stage first (its default), then earlier stages, then blocks."""
    layout = getattr(net, "layout", None)
    if layout is not None:
        stages = [s.name for s in reversed(layout.stages)]
        return stages + ["stem"] + [b.name for b in reversed(layout.blocks)]
    names = [n for n in ("layer4", "layer3", "layer2", "layer1") if n in dict(net.named_modules())]
    return names or [default_layer(net)]


# ------------------------------------------------------------------------------------------- methods


def _targets(model: nn.Module, x: torch.Tensor, target) -> torch.Tensor:
    n = x.shape[0]
    if target is None:
        with torch.no_grad():
            return model(x).argmax(dim=1).cpu()
    t = torch.as_tensor(target, dtype=torch.int64).flatten().cpu()
    if t.numel() == 1:
        t = t.expand(n).clone()
    if t.numel() != n:
        raise ValueError(f"target must be one class or one per image ({n}), got {t.numel()}")
    return t


def _baseline(value, x: torch.Tensor) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.to(device=x.device, dtype=x.dtype).expand_as(x).contiguous(memory_format=torch.channels_last)
    return torch.full_like(x, float(value))


def _batch(x: torch.Tensor, per_image: int) -> int:
    """Examples per forward pass: the whole job for small images, about _PIXEL_BUDGET pixels otherwise."""
    n, _, h, w = x.shape
    return int(max(1, min(n * per_image, _PIXEL_BUDGET // (h * w))))


def _integrated_gradients(model, x, target, opts):
    from captum.attr import IntegratedGradients

    n_steps = int(opts["n_steps"])
    if n_steps < 1:
        raise ValueError(f"n_steps must be at least 1, got {n_steps}")
    batch = opts["internal_batch_size"] or _batch(x, n_steps)
    # A batch that holds every step of every image is one forward-backward pass: the fast path.
    maps, delta = IntegratedGradients(model).attribute(
        x,
        baselines=_baseline(opts["baseline"], x),
        target=target,
        n_steps=n_steps,
        internal_batch_size=int(batch),
        return_convergence_delta=True,
    )
    opts["internal_batch_size"] = int(batch)
    return maps, delta


def _smoothgrad(model, x, target, opts):
    from captum.attr import IntegratedGradients, NoiseTunnel, Saliency

    base, samples = opts["base"], int(opts["nt_samples"])
    if base not in ("saliency", "integrated_gradients"):
        raise ValueError(f"smoothgrad's base must be 'saliency' or 'integrated_gradients', got {base!r}")
    if samples < 1:
        raise ValueError(f"nt_samples must be at least 1, got {samples}")
    # Smilkov et al. 2017 (SmoothGrad) set the noise as a fraction of the input's range: 10-20% works.
    stdevs = opts["stdevs"]
    if stdevs is None:
        stdevs = float(opts["noise_level"]) * float(x.max() - x.min()) or float(opts["noise_level"])
    opts["stdevs"] = float(stdevs)
    devices = [x.device] if x.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):  # the noise is seeded; the caller's RNG is untouched
        torch.manual_seed(int(opts["seed"]))
        if base == "saliency":
            tunnel = NoiseTunnel(Saliency(model))
            maps = tunnel.attribute(
                x,
                nt_type="smoothgrad",
                nt_samples=samples,
                stdevs=float(stdevs),
                nt_samples_batch_size=_batch(x, samples),
                target=target,
                abs=False,
            )
            return maps, None
        n_steps = int(opts["n_steps"])
        tunnel = NoiseTunnel(IntegratedGradients(model))
        # All samples in one partition (IG's internal batch bounds the memory): much faster than one by
        # one, and the deltas come image by image — [image 0's samples, image 1's samples, ...].
        maps, delta = tunnel.attribute(
            x,
            nt_type="smoothgrad",
            nt_samples=samples,
            stdevs=float(stdevs),
            nt_samples_batch_size=samples,
            target=target,
            baselines=_baseline(0.0, x),
            n_steps=n_steps,
            internal_batch_size=_batch(x, n_steps * samples),
            return_convergence_delta=True,
        )
    # One delta per noisy sample (N * nt_samples): report the worst per image.
    return maps, delta.reshape(x.shape[0], samples).abs().amax(dim=1)


def _occlusion(model, x, target, opts) -> torch.Tensor:
    from captum.attr import Occlusion

    c, h, w = x.shape[1:]
    side = min(h, w)
    window = int(opts["window"] or max(2, side // 4))
    stride = int(opts["stride"] or max(1, window // 2))
    if not 1 <= window <= side or stride < 1:
        raise ValueError(f"occlusion needs 1 <= window <= {side} and stride >= 1, got {window} and {stride}")
    positions = ((h - window) // stride + 1) * ((w - window) // stride + 1)
    per_eval = int(opts["perturbations_per_eval"] or min(positions, _batch(x[:1], positions), 64))
    opts.update(window=window, stride=stride, perturbations_per_eval=per_eval)
    # The window covers every channel: one map value per pixel, repeated over the channels.
    return Occlusion(model).attribute(
        x,
        sliding_window_shapes=(c, window, window),
        strides=(c, stride, stride),
        baselines=float(opts["baseline"]),
        target=target,
        perturbations_per_eval=per_eval,
    )


def _check_relu_net(model: nn.Module) -> None:
    others = sorted({type(m).__name__ for m in model.modules() if isinstance(m, _NON_RELU_ACTIVATIONS)})
    has_relu = any(isinstance(m, nn.ReLU) for m in model.modules())
    if others or not has_relu:
        uses = Words("uses {names} activations", names=", ".join(others)) if others else Words("has no nn.ReLU modules")
        raise AttributionError(
            "guided backprop is defined for ReLU nets only (it rewrites the backward pass of nn.ReLU modules), and "
            "this net {uses}. Use saliency, integrated gradients or Grad-CAM instead.",
            uses=uses,
        )


def _submodule(model: nn.Module, name: str) -> nn.Module:
    try:
        return model.get_submodule(name)
    except AttributeError:
        raise AttributionError(
            "the net has no layer {name!r}; choose one of: {choices}",
            name=name,
            choices=", ".join(layer_choices(model)),
        ) from None
