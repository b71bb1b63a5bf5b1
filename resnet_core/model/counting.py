"""Size and cost of a net: parameters and multiply-accumulates (the paper's "FLOPs", Table 1)."""

from __future__ import annotations

import torch
from torch import nn


def count_params(net: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in net.parameters() if p.requires_grad or not trainable_only)


def count_flops(net: nn.Module, input_size: tuple[int, int, int] = (3, 32, 32)) -> int:
    """Multiply-accumulates of conv and fully-connected layers for one image, as the paper counts
    FLOPs (Table 1: ResNet-18 1.8·10⁹). BN, activations, adds and pooling are left out, as there.

    Measured with forward hooks on one zero image, in eval mode under no_grad, so the net (BN running
    statistics, train/eval mode) is left exactly as it was.
    """
    macs_by_layer = layer_macs(net, input_size)
    return sum(macs_by_layer.values())


def layer_macs(net: nn.Module, input_size: tuple[int, int, int] = (3, 32, 32)) -> dict[str, int]:
    """Multiply-accumulates of each Conv2d and Linear module, keyed by module name, in forward order."""
    macs: dict[str, int] = {}

    def hook_for(name: str):
        def hook(module: nn.Module, inputs, output: torch.Tensor) -> None:
            if isinstance(module, nn.Conv2d):
                kh, kw = module.kernel_size
                per_output = (module.in_channels // module.groups) * kh * kw
                macs[name] = macs.get(name, 0) + output[0].numel() * per_output
            elif isinstance(module, nn.Linear):  # the only other kind the hook is registered on
                macs[name] = macs.get(name, 0) + module.in_features * module.out_features

        return hook

    handles = [
        m.register_forward_hook(hook_for(name))
        for name, m in net.named_modules()
        if isinstance(m, nn.Conv2d | nn.Linear)
    ]
    was_training = net.training
    param = next(net.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    try:
        net.eval()
        with torch.no_grad():
            net(torch.zeros(1, *input_size, device=device))
    finally:
        net.train(was_training)
        for h in handles:
            h.remove()
    return macs
