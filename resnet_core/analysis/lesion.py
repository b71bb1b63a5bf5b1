"""Lesion study: delete residual blocks of a trained net at test time and measure the damage.

Veit, Wilber & Belongie 2016, "Residual Networks Behave Like Ensembles of Relatively Shallow Networks", §4:
deleting a single block of a trained ResNet barely changes its test error (Fig. 3), deleting several
blocks at once raises the error smoothly with their number (Fig. 5a), whereas removing a single layer of
a plain (VGG-like) net destroys it. Their reading: a ResNet is a collection of many paths of different
lengths that do not strongly depend on each other, not one deep chain.

What "deleting a block" means here. A block computes `out = F(x) + shortcut(x)` (post-activation
blocks then apply one more activation, pre-activation blocks do not); deleting it removes its residual
branch F, so the block computes

- post-activation: `act(shortcut(x))`; pre-activation: `shortcut(x)`.

For a ResNet the shortcut is the block's own module: identity, option A's zero-pad or its *trained*
projection (options B/C). For the paper's ReLU nets with identity or zero-pad shortcuts this is exactly
"the block's output becomes its shortcut's output": a post-activation block's input is itself a ReLU
output, so `relu(shortcut(x)) == shortcut(x)`. Keeping the activation is what makes a block whose branch
is zero unchanged by deletion, under every shortcut option and activation.

A plain twin has no shortcut. Its deleted block uses the mapping the spec's option A would give, without
parameters: the identity where the block keeps the shape, option A's subsample-and-zero-pad
(`ZeroPadShortcut`) where it changes (first block of stages 2+). That is the only parameter-free way to
pass the signal on, so a plain net and its option-A ResNet twin lose their blocks the same way, and the
comparison is about what the *other* layers learned (a trained plain net was never taught to work
without that layer; a ResNet's later blocks always saw the identity path).

Everything runs on a deep copy in eval mode (BN uses its running statistics, folded into the conv before it:
`folded_copy`), under `torch.inference_mode`:
the caller's net — parameters, buffers, train/eval flags, hooks, `.grad` — is never touched. Deletion is the
replacement mapping called instead of the block where the net is a plain sequence of blocks
(`evaluate_deletions`), otherwise a forward hook on the copy's block that returns the replacement output
(`deleted`; hooks are removed in a `finally`).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ..model.blocks import BasicBlock, BottleneckBlock
from ..model.layers import ZeroPadShortcut, make_activation
from ..model.net import BlockInfo, NetLayout

Metrics = dict[str, float]  # {"loss": mean cross-entropy, "error": top-1 error in percent}


def analysis_copy(net: nn.Module) -> nn.Module:
    """A deep copy of `net` in eval mode, with no hooks, no `.grad` and frozen parameters.

    The analyses mutate (hooks, perturbed weights) or differentiate only this copy. Hooks the caller had
    installed are dropped from the copy so that their side effects (recording activations, say) do not
    fire for thousands of analysis passes.
    """
    model = copy.deepcopy(net)
    model.eval()
    # NHWC: oneDNN's convs are faster in it on a CPU, and these analyses run many forward passes; the trainer
    # uses it for the same reason (see BENCHMARKS.md, 'CPU').
    model.to(memory_format=torch.channels_last)
    for p in model.parameters():
        p.grad = None
        p.requires_grad_(False)  # no weight gradients: input gradients (shattered.py) still flow
    for m in model.modules():
        for name in (
            "_forward_hooks",
            "_forward_hooks_with_kwargs",
            "_forward_hooks_always_called",
            "_forward_pre_hooks",
            "_forward_pre_hooks_with_kwargs",
            "_backward_hooks",
            "_backward_pre_hooks",
        ):
            hooks = getattr(m, name, None)
            if hooks is not None:
                hooks.clear()
    return model


def folded_copy(net: nn.Module) -> nn.Module:
    """An `analysis_copy` whose eval-mode BatchNorms are folded into the conv before them (the block classes'
    `conv_norm_pairs`, the stem's conv → norm): the same function up to float rounding, without BN's share of
    each forward pass (see BENCHMARKS.md, 'Why it works, on the reference runs'). Only for analyses that
    evaluate the net as it is: the landscape perturbs weights BN by BN and needs them apart."""
    model = analysis_copy(net)
    pairs = [
        (module, conv, norm) for module in model.modules() for conv, norm in getattr(module, "conv_norm_pairs", ())
    ]
    stem = getattr(model, "stem", None)
    if stem is not None and hasattr(stem, "conv") and hasattr(stem, "norm"):
        pairs.append((stem, "conv", "norm"))
    for module, conv_name, norm_name in pairs:
        conv, norm = getattr(module, conv_name), getattr(module, norm_name)
        if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d) and norm.running_mean is not None:
            fused = fuse_conv_bn_eval(conv, norm).to(memory_format=torch.channels_last)
            fused.requires_grad_(False)
            setattr(module, conv_name, fused)
            setattr(module, norm_name, nn.Identity())
    # ReLUs in place save a pass over each activation (same section). Safe only where a ReLU's input is a tensor the
    # module has just made: true of the stem and of every post-activation block (each act follows a conv/norm
    # or the sum), never of a pre-activation block (its act1 may see the block's input, which the deletions
    # of `evaluate_deletions` share).
    for owner in [stem, *(m for m in model.modules() if isinstance(m, (BasicBlock, BottleneckBlock)))]:
        for act in owner.children() if owner is not None else ():
            if type(act) is nn.ReLU:
                act.inplace = True
    return model


def device_of(net: nn.Module) -> torch.device:
    param = next(net.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def evaluate(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 250) -> Metrics:
    """Mean cross-entropy and top-1 error (percent) of `net` as it is (mode, hooks) on (images, labels).

    Sums stay on the device until the end: one host sync per evaluation.
    """
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"need as many labels as images, and at least one; got {len(images)} and {len(labels)}")
    device = device_of(net)
    with torch.inference_mode():
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        wrong = torch.zeros((), dtype=torch.int64, device=device)
        for start in range(0, len(images), batch_size):
            x = images[start : start + batch_size].to(
                device=device, dtype=torch.float32, memory_format=torch.channels_last
            )
            y = labels[start : start + batch_size].to(device=device, dtype=torch.long)
            logits = net(x).float()
            loss_sum += F.cross_entropy(logits, y, reduction="sum").double()
            wrong += (logits.argmax(dim=1) != y).sum()
    n = len(images)
    return {"loss": float(loss_sum) / n, "error": 100.0 * int(wrong) / n}


def deleted_block_mapping(net: nn.Module, name: str) -> nn.Module:
    """What block `name` computes once deleted (see the module docstring): its shortcut — or, in a plain
    net, identity / option-A zero-pad — followed, in a post-activation net, by the block's activation."""
    info = _block_infos(net)[name]
    spec = _layout(net).spec
    mapping: nn.Module
    if info.shortcut is not None:
        mapping = net.get_submodule(f"{name}.shortcut")
    elif info.stride != 1 or info.in_channels != info.out_channels:
        mapping = ZeroPadShortcut(info.in_channels, info.out_channels, info.stride)
    else:
        mapping = nn.Identity()
    if spec.preact:
        return mapping
    return nn.Sequential(mapping, make_activation(spec.activation))


@contextmanager
def deleted(net: nn.Module, names: Iterable[str]) -> Iterator[nn.Module]:
    """Inside the `with` statement the blocks `names` of `net` are deleted (forward hooks that replace their
    output); the hooks are removed on exit, even on an error. Use it on an `analysis_copy`: it adds hooks
    to the net it is given."""
    handles = []
    try:
        for name in names:
            mapping = deleted_block_mapping(net, name)
            # A forward hook that returns a value replaces the module's output; args[0] is the block's input.
            handles.append(
                net.get_submodule(name).register_forward_hook(
                    lambda module, args, output, mapping=mapping: mapping(args[0])
                )
            )
        yield net
    finally:
        for handle in handles:
            handle.remove()


def lesion(
    net: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    blocks: Sequence[str] | None = None,
    batch_size: int = 250,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Metrics]:
    """Delete each residual block in turn and evaluate (Veit et al. 2016, §4, Fig. 3).

    `net`: a net from `build_net` (it needs `net.layout`), trained or not; `images` in its input space
    (normalised floats, N×C×H×W) and `labels` (N,). `blocks`: module names such as "stage2.block1"
    (default: every block). `on_progress(done, total)`: see `evaluate_deletions` (with at most `batch_size`
    images, after each evaluation, total = blocks + 1).

    Returns `{"intact": {"loss", "error"}, "stage1.block1": {...}, ...}`: the intact net first, then one
    entry per deleted block in forward order; `loss` is the mean cross-entropy, `error` the top-1 error in
    percent (0–100). The net is left exactly as it was (the work happens on a deep copy).
    """
    names = _select_blocks(net, blocks)
    metrics = evaluate_deletions(folded_copy(net), images, labels, [[name] for name in names], batch_size, on_progress)
    return {"intact": metrics[0], **dict(zip(names, metrics[1:]))}


def lesion_random(
    net: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    k_values: Iterable[int] | None = None,
    *,
    draws: int = 5,
    seed: int = 0,
    blocks: Sequence[str] | None = None,
    batch_size: int = 250,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Delete k randomly chosen blocks at once, `draws` times for each k (Veit et al. 2016, §4, Fig. 5a:
    the error grows smoothly with k in a ResNet).

    `k_values`: how many blocks to delete at once (default 1, 2, …, all). Blocks are drawn without
    replacement from `blocks` (default: all) by a `random.Random(seed)`, so the result depends on the seed
    only, not on global RNG state. `on_progress(done, total)`: see `evaluate_deletions` (with at most
    `batch_size` images, after each evaluation, total = 1 + draws × len(k_values)). Returns, as JSON-ready
    parallel lists:

        {"intact": {"loss", "error"}, "k": [k, ...],
         "error": [[error of each draw] for each k],   # percent
         "loss":  [[mean cross-entropy of each draw] for each k],
         "deleted": [[[block names of each draw]] for each k],
         "draws": draws, "seed": seed}
    """
    names = _select_blocks(net, blocks)
    ks = list(range(1, len(names) + 1)) if k_values is None else [int(k) for k in k_values]
    bad = [k for k in ks if not 1 <= k <= len(names)]
    if bad:
        raise ValueError(f"k must be between 1 and {len(names)} (the number of blocks); got {bad}")
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    rng = random.Random(seed)
    order = {name: i for i, name in enumerate(names)}
    subsets = [[sorted(rng.sample(names, k), key=order.__getitem__) for _ in range(draws)] for k in ks]
    metrics = evaluate_deletions(
        folded_copy(net), images, labels, [s for per_k in subsets for s in per_k], batch_size, on_progress
    )
    result: dict = {
        "intact": metrics[0],
        "k": ks,
        "error": [],
        "loss": [],
        "deleted": subsets,
        "draws": draws,
        "seed": seed,
    }
    for i in range(len(ks)):
        chosen = metrics[1 + i * draws : 1 + (i + 1) * draws]
        result["error"].append([m["error"] for m in chosen])
        result["loss"].append([m["loss"] for m in chosen])
    return result


def evaluate_deletions(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    deletions: Sequence[Sequence[str]],
    batch_size: int = 250,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Metrics]:
    """Metrics of `model` intact, then with each set of blocks in `deletions` deleted (names in forward order).

    A deletion leaves every block before the first deleted one unchanged, so each chunk of images walks the
    intact net forward once, and each deletion branches off it at the input of its first deleted block
    (deletions taken in the order of that block): deleting each of n blocks in turn costs about n/2 passes
    instead of n (27 blocks of ResNet-56: 15 passes instead of 28), and only one intact activation is held
    at a time. Nets whose stages are not plain sequences of their blocks are evaluated whole, one deletion at
    a time (`deleted`). `model`: an `analysis_copy`. `batch_size`: images per chunk (the activations of a
    smaller chunk stay nearer the cores; see BENCHMARKS.md, 'Why it works, on the reference runs'). `on_progress(done,
    total)` is called after each evaluation of a chunk (total = (deletions + 1) × chunks): with one chunk,
    after each evaluation.
    """
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"need as many labels as images, and at least one; got {len(images)} and {len(labels)}")
    blocks = _block_sequence(model)
    if blocks is None:
        metrics = [evaluate(model, images, labels, batch_size)]
        _report(on_progress, 1, len(deletions) + 1)
        for done, names in enumerate(deletions, start=2):
            with deleted(model, names):
                metrics.append(evaluate(model, images, labels, batch_size))
            _report(on_progress, done, len(deletions) + 1)
        return metrics
    position = {name: i for i, (name, _) in enumerate(blocks)}
    starts = [min(position[name] for name in names) for names in deletions]
    order = sorted(range(len(deletions)), key=starts.__getitem__)
    mappings = [{name: deleted_block_mapping(model, name) for name in names} for names in deletions]
    device = device_of(model)
    chunks = range(0, len(images), batch_size)
    loss_sums = torch.zeros(len(deletions) + 1, dtype=torch.float64, device=device)
    wrong = torch.zeros(len(deletions) + 1, dtype=torch.int64, device=device)
    done, total = 0, (len(deletions) + 1) * len(chunks)
    stem = model.get_submodule("stem")

    def score(i: int, logits: torch.Tensor, y: torch.Tensor) -> None:
        nonlocal done
        logits = logits.float()
        loss_sums[i] += F.cross_entropy(logits, y, reduction="sum").double()
        wrong[i] += (logits.argmax(dim=1) != y).sum()
        done += 1
        _report(on_progress, done, total)

    with torch.inference_mode():
        for start in chunks:
            x = images[start : start + batch_size].to(
                device=device, dtype=torch.float32, memory_format=torch.channels_last
            )
            y = labels[start : start + batch_size].to(device=device, dtype=torch.long)
            h, at = stem(x), 0  # h: the intact net's input of block `at`
            for d in order:
                for _, block in blocks[at : starts[d]]:
                    h = block(h)
                at = starts[d]
                g = h
                for name, block in blocks[at:]:
                    # a deleted block is not run at all (a hook would run it, then replace its output)
                    g = mappings[d][name](g) if name in mappings[d] else block(g)
                score(1 + d, _tail(model, g), y)
            for _, block in blocks[at:]:
                h = block(h)
            score(0, _tail(model, h), y)
    n = len(images)
    return [{"loss": loss / n, "error": 100.0 * w / n} for loss, w in zip(loss_sums.tolist(), wrong.tolist())]


def _block_sequence(model: nn.Module) -> list[tuple[str, nn.Module]] | None:
    """The net's blocks in forward order when its forward is exactly stem → blocks → `_tail` (a net from
    `build_net` whose stages are nn.Sequential of its blocks); None otherwise."""
    stage_names = getattr(model, "stage_names", None)
    layout = getattr(model, "layout", None)
    if (
        stage_names is None
        or not isinstance(layout, NetLayout)
        or not all(hasattr(model, part) for part in ("stem", "head", "pool", "flatten", "fc"))
    ):
        return None
    blocks = []
    for stage_name in stage_names:
        stage = model.get_submodule(stage_name)
        if type(stage) is not nn.Sequential:
            return None
        blocks += [(f"{stage_name}.{child}", module) for child, module in stage.named_children()]
    if [name for name, _ in blocks] != [b.name for b in layout.blocks]:
        return None
    return blocks


def _tail(model: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """What ResNet.forward does after the last block."""
    for part in ("head", "pool", "flatten", "fc"):
        h = model.get_submodule(part)(h)
    return h


def _report(on_progress: Callable[[int, int], None] | None, done: int, total: int) -> None:
    if on_progress is not None:
        on_progress(done, total)


def block_names(net: nn.Module) -> list[str]:
    """The residual blocks of a net from `build_net`, forward order (TypeError for any other net)."""
    return list(_block_infos(net))


def _layout(net: nn.Module) -> NetLayout:
    layout = getattr(net, "layout", None)
    if not isinstance(layout, NetLayout):
        raise TypeError("lesion needs a net from resnet_core.build_net (it reads net.layout.blocks)")
    return layout


def _block_infos(net: nn.Module) -> dict[str, BlockInfo]:
    return {b.name: b for b in _layout(net).blocks}


def _select_blocks(net: nn.Module, blocks: Sequence[str] | None) -> list[str]:
    """The requested block names (default all), deduplicated, in forward order."""
    infos = _block_infos(net)
    if blocks is None:
        return list(infos)
    if isinstance(blocks, str):
        blocks = [blocks]
    unknown = [b for b in blocks if b not in infos]
    if unknown:
        raise ValueError(f"unknown blocks {unknown}; this net's blocks are {list(infos)}")
    wanted = set(blocks)
    return [name for name in infos if name in wanted]
