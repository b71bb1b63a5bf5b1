"""Probes that look inside a net: per-layer gradient norms and layer responses.

- `gradient_norms(net, images, labels)`: for every Conv2d and Linear, the L2 norm of its weight gradient
  of the mean cross-entropy loss. Without normalisation, deep nets' gradients vanish toward the input;
  with BN, plain nets keep healthy norms — He et al. 2015 (§4.1) argue that degradation is therefore an
  optimisation difficulty, not vanishing gradients. The app shows both.
- `layer_responses(net, images)`: for every 3×3 conv, the std of its response — "the outputs of each
  3×3 layer, after BN and before other nonlinearity (ReLU/addition)" (2015, §4.2, Fig. 7). Residual
  functions stay closer to zero than their plain counterparts, and more so the deeper the net.

Both take images in the net's input space (normalised float, as the trainer feeds it), run in the mode
the net is in (train mode: batch statistics; eval mode: running statistics — the paper's Fig. 7 measures
on the test set, so the trainer calls `layer_responses` in eval mode), and leave the net exactly as they
found it: parameters, buffers (a train-mode forward updates BN's running statistics, so these are saved
and restored), train/eval flags and every existing `.grad` (gradients come from `torch.autograd.grad`,
which never touches `.grad`).

Keys are module names from `net.named_modules()`, in forward order (the order the modules are called,
recorded by forward hooks). `WeightGradNorms` is the trainer's in-loop version of `gradient_norms`: the
same layers, order and definition, read from the training step's `.grad` on the device.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

# Modules that can be "the normalisation that directly follows" a conv; nn.Identity is the builder's
# stand-in when norm="none" (its output is the conv output, as the contract asks).
NORM_TYPES = (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm, nn.Identity)


def weight_modules(net: nn.Module) -> list[tuple[str, nn.Conv2d | nn.Linear]]:
    """Every Conv2d and Linear module with its name, in `named_modules()` order."""
    return [(name, m) for name, m in net.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)]


def response_modules(net: nn.Module) -> list[tuple[str, nn.Module]]:
    """For every 3×3 Conv2d: (its name, the module whose output is its response).

    The response module is the conv's paired norm when that norm is the conv's next sibling (post-
    activation: `conv1` → `norm1`, the stem's `conv` → `norm`; torchvision's `bn1` is accepted too);
    otherwise the conv itself. A pre-activation block registers `conv1` then `norm2`, which normalises
    the *next* conv's input, so it is not paired and the response is the conv output, as specified.
    """
    found = []
    for parent_name, parent in net.named_modules():
        children = list(parent.named_children())
        for i, (name, child) in enumerate(children):
            if not (isinstance(child, nn.Conv2d) and child.kernel_size == (3, 3)):
                continue
            target: nn.Module = child
            if i + 1 < len(children):
                next_name, next_module = children[i + 1]
                paired = {name.replace("conv", "norm", 1), name.replace("conv", "bn", 1)} - {name}
                if next_name in paired and isinstance(next_module, NORM_TYPES):
                    target = next_module
            found.append((f"{parent_name}.{name}" if parent_name else name, target))
    return found


def stacked_norms(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """L2 norms of many tensors as one (L,) tensor on their device: one fused op, no host sync."""
    if not tensors:
        return torch.zeros(0)
    return torch.stack(torch._foreach_norm(list(tensors))).float()


@contextmanager
def preserved(net: nn.Module) -> Iterator[None]:
    """Restore the net's buffers (BN running statistics) and train/eval flags on exit, bit for bit."""
    flags = [m.training for m in net.modules()]
    saved = [b.detach().clone() for b in net.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for buffer, copy in zip(net.buffers(), saved):
                buffer.copy_(copy)
        for m, flag in zip(net.modules(), flags):
            m.training = flag


@contextmanager
def _recording_calls(modules: Sequence[tuple[str, nn.Module]], on_output=None) -> Iterator[list[str]]:
    """Forward hooks that record the names of `modules` in the order they are first called."""
    order: list[str] = []

    def hook_for(name: str):
        def hook(module: nn.Module, inputs, output) -> None:
            if name not in order:
                order.append(name)
                if on_output is not None:
                    on_output(name, output)

        return hook

    handles = [m.register_forward_hook(hook_for(name)) for name, m in modules]
    try:
        yield order
    finally:
        for h in handles:
            h.remove()


def _device_of(net: nn.Module) -> torch.device:
    param = next(net.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def forward_order(net: nn.Module, images: torch.Tensor, modules: Sequence[tuple[str, nn.Module]]) -> list[str]:
    """Names of `modules` in the order a forward pass on `images` calls them (the net is left as it was);
    modules the forward never calls come last, in `named_modules()` order. The pass runs in eval mode,
    so a batch of one or two images is enough whatever the net's BN layers would need in train mode."""
    with preserved(net), torch.no_grad(), _recording_calls(modules) as order:
        net.eval()
        net(images.to(_device_of(net)))
    return order + [name for name, _ in modules if name not in order]


def gradient_norms(net: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """L2 norm of each Conv2d/Linear weight's gradient of the mean cross-entropy on (images, labels).

    Keys: module names, forward order (for the builder's nets the first is "stem.conv", the last "fc").
    A module whose weight is frozen or unused gets 0.0. See the module docstring for what is preserved.
    """
    modules = weight_modules(net)
    device = _device_of(net)
    trainable = [(name, m.weight) for name, m in modules if m.weight.requires_grad]
    # The backward runs before `preserved` restores the buffers: an eval-mode BN saves its running
    # statistics for the backward, and restoring them (in place) first would invalidate the graph.
    with preserved(net), torch.enable_grad(), _recording_calls(modules) as order:
        loss = F.cross_entropy(net(images.to(device)), labels.to(device))
        grads = torch.autograd.grad(loss, [w for _, w in trainable], allow_unused=True) if trainable else ()
    present = [(name, g) for (name, _), g in zip(trainable, grads) if g is not None]
    values = dict(zip([n for n, _ in present], stacked_norms([g for _, g in present]).tolist()))
    names = order + [name for name, _ in modules if name not in order]
    return {name: values.get(name, 0.0) for name in names}


def layer_responses(net: nn.Module, images: torch.Tensor) -> dict[str, float]:
    """Std (`torch.std` over all elements) of every 3×3 conv's response on `images`, keyed by the conv's
    name, forward order; see `response_modules` for which output is the response."""
    stds: dict[str, torch.Tensor] = {}

    def record(conv_name: str, output: torch.Tensor) -> None:
        stds[conv_name] = output.detach().float().std()  # stays on the device until the end

    # The hooks sit on the response modules but record under the conv's name.
    with preserved(net), torch.no_grad(), _recording_calls(response_modules(net), record) as order:
        net(images.to(_device_of(net)))
    return dict(zip(order, stacked_values([stds[name] for name in order])))


def stacked_values(scalars: Sequence[torch.Tensor]) -> list[float]:
    """Many 0-d device tensors to Python floats with a single host copy."""
    return torch.stack(list(scalars)).tolist() if scalars else []


class WeightGradNorms:
    """The trainer's in-loop `gradient_norms`: the same layers, forward order and definition, read from
    the `.grad` a training step's backward left (so, of that step's mean cross-entropy on its batch,
    before weight decay, which SGD adds inside `step()`).

    `compute()` returns an (L,) tensor on the device without a host sync; `to_dict` copies it over.
    """

    def __init__(self, net: nn.Module, example_images: torch.Tensor) -> None:
        modules = weight_modules(net)
        self.names = forward_order(net, example_images, modules)
        by_name = dict(modules)
        self.weights = [by_name[name].weight for name in self.names]

    def compute(self) -> torch.Tensor:
        grads = [w.grad if w.grad is not None else torch.zeros((), device=w.device) for w in self.weights]
        return stacked_norms(grads)

    def to_dict(self, norms: torch.Tensor) -> dict[str, float]:
        return dict(zip(self.names, norms.tolist()))
