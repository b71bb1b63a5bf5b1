"""The lesion study (Veit et al. 2016) against known answers: a block whose residual branch is zero is
unchanged by deletion, deletion equals zeroing the branch, a plain net's deleted block is the identity /
option-A mapping, and the caller's net is left exactly as it was."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import resnet_core as rc
from resnet_core.analysis.lesion import (
    analysis_copy,
    deleted,
    evaluate,
    evaluate_deletions,
    folded_copy,
    lesion,
    lesion_random,
)
from resnet_core.model.layers import ZeroPadShortcut

RESIDUAL_SPECS = {
    "A": rc.NetSpec(depth=14, width=4),
    "B-bottleneck": rc.NetSpec(depth=11, width=4, block="bottleneck", shortcut="B"),
    "C": rc.NetSpec(depth=8, width=4, shortcut="C"),
    "preact": rc.NetSpec(depth=8, width=4, preact=True),
    "preact-bottleneck": rc.NetSpec(depth=11, width=4, block="bottleneck", preact=True, shortcut="B"),
    "sigmoid": rc.NetSpec(depth=8, width=4, activation="sigmoid"),
    "no-norm": rc.NetSpec(depth=8, width=4, norm="none"),
}


def batch(n: int = 40, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g)


def make_net(spec: rc.NetSpec, seed: int = 0) -> nn.Module:
    """A net with BN running statistics of real batches (as after training), in eval mode."""
    torch.manual_seed(seed)
    net = rc.build_net(spec)
    net.train()
    with torch.no_grad():
        for s in range(3):
            net(batch(32, seed=100 + s)[0])
    return net.eval()


def zero_branch(net: nn.Module, name: str) -> None:
    """Make block `name`'s residual branch output exactly 0: the last BN's γ and β (post-activation), or
    the last conv's weight and bias (pre-activation, or without BN)."""
    block = net.get_submodule(name)
    last = block.convs[-1]  # "conv2" or "conv3"
    norm = getattr(block, last.replace("conv", "norm"), None)
    with torch.no_grad():
        if isinstance(norm, nn.BatchNorm2d) and not net.spec.preact:
            norm.weight.zero_()
            norm.bias.zero_()
        else:
            conv = getattr(block, last)
            conv.weight.zero_()
            if conv.bias is not None:
                conv.bias.zero_()


def snapshot(net: nn.Module) -> dict:
    return {
        "state": {k: v.clone() for k, v in net.state_dict().items()},
        "training": [m.training for m in net.modules()],
        "grads": [None if p.grad is None else p.grad.clone() for p in net.parameters()],
        "requires_grad": [p.requires_grad for p in net.parameters()],
        "hooks": [(len(m._forward_hooks), len(m._forward_pre_hooks)) for m in net.modules()],
    }


def assert_unchanged(net: nn.Module, before: dict) -> None:
    after = snapshot(net)
    for key, value in before["state"].items():
        assert torch.equal(value, after["state"][key]), f"{key} changed"
    for name in ("training", "requires_grad", "hooks"):
        assert before[name] == after[name], f"{name} changed"
    for old, new in zip(before["grads"], after["grads"]):
        assert (old is None and new is None) or torch.equal(old, new)


def outputs(net: nn.Module, images: torch.Tensor, delete: list[str] | None = None) -> torch.Tensor:
    model = analysis_copy(net)
    with deleted(model, delete or []), torch.no_grad():
        return model(images)


# --- known answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(RESIDUAL_SPECS))
def test_zero_branches_make_deletion_a_no_op(kind):
    net = make_net(RESIDUAL_SPECS[kind])
    for info in net.layout.blocks:
        zero_branch(net, info.name)
    images, labels = batch()
    intact = outputs(net, images)
    for info in net.layout.blocks:
        assert torch.equal(outputs(net, images, [info.name]), intact), info.name
    result = lesion(net, images, labels)
    assert list(result) == ["intact"] + [b.name for b in net.layout.blocks]
    for name, metrics in result.items():
        assert metrics == result["intact"], name


@pytest.mark.parametrize("kind", list(RESIDUAL_SPECS))
def test_deleting_a_block_equals_zeroing_its_branch(kind):
    """Deletion removes the residual branch F and keeps everything else, trained projections included."""
    net = make_net(RESIDUAL_SPECS[kind])
    images, _ = batch(8)
    for info in net.layout.blocks:
        zeroed = analysis_copy(net)
        zero_branch(zeroed, info.name)
        with torch.no_grad():
            expected = zeroed(images)
        torch.testing.assert_close(outputs(net, images, [info.name]), expected, rtol=1e-5, atol=1e-6)


def test_a_trained_like_resnet_block_deletion_changes_the_output():
    net = make_net(RESIDUAL_SPECS["A"])
    images, _ = batch(8)
    intact = outputs(net, images)
    for info in net.layout.blocks:
        assert not torch.allclose(outputs(net, images, [info.name]), intact, atol=1e-4), info.name


def _plain_forward_with_deletion(net: nn.Module, x: torch.Tensor, gone: str) -> torch.Tensor:
    """The plain net's forward written out, block `gone` replaced by ReLU(identity or option-A zero-pad)."""
    with torch.no_grad():
        x = net.stem(x)
        for info in net.layout.blocks:
            if info.name == gone:
                reshapes = info.stride != 1 or info.in_channels != info.out_channels
                x = ZeroPadShortcut(info.in_channels, info.out_channels, info.stride)(x) if reshapes else x
                x = torch.relu(x)
            else:
                x = net.get_submodule(info.name)(x)
        return net.fc(torch.flatten(net.pool(net.head(x)), 1))


def test_plain_net_deletion_is_identity_or_zero_pad_and_changes_the_output():
    net = make_net(rc.NetSpec(depth=14, width=4, skip=False))
    images, labels = batch()
    intact = outputs(net, images)
    result = lesion(net, images, labels)
    kinds = set()
    for info in net.layout.blocks:
        assert info.shortcut is None
        kinds.add(info.stride)
        got = outputs(net, images, [info.name])
        torch.testing.assert_close(got, _plain_forward_with_deletion(net.eval(), images, info.name))
        assert not torch.allclose(got, intact, atol=1e-3), info.name
        assert result[info.name]["loss"] != result["intact"]["loss"], info.name
    assert kinds == {1, 2}  # both the identity and the zero-pad mapping were exercised


def test_intact_metrics_are_mean_cross_entropy_and_percent_error():
    net = make_net(RESIDUAL_SPECS["A"])
    images, labels = batch(50)
    with torch.no_grad():
        logits = copy.deepcopy(net).eval()(images)
    net.train()  # lesion evaluates in eval mode (BN running statistics) whatever mode the net is in
    result = lesion(net, images, labels, blocks=["stage1.block1"], batch_size=7)  # batches of uneven size
    assert result["intact"]["loss"] == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-5)
    wrong = (logits.argmax(1) != labels).sum().item()
    assert result["intact"]["error"] == pytest.approx(100.0 * wrong / 50)
    assert list(result) == ["intact", "stage1.block1"]


def test_blocks_are_selected_in_forward_order_and_validated():
    net = make_net(RESIDUAL_SPECS["A"])
    images, labels = batch(10)
    result = lesion(net, images, labels, blocks=["stage3.block1", "stage1.block2", "stage3.block1"])
    assert list(result) == ["intact", "stage1.block2", "stage3.block1"]
    with pytest.raises(ValueError, match="unknown blocks"):
        lesion(net, images, labels, blocks=["stage9.block1"])


# --- the caller's net is untouched ---------------------------------------------------------------------


@pytest.mark.parametrize("training", [True, False])
def test_lesion_leaves_the_net_exactly_as_it_was(training):
    net = make_net(RESIDUAL_SPECS["B-bottleneck"])
    net.train(training)
    images, labels = batch(12)
    # Existing .grad on some parameters, and a hook of the caller's that must neither fire nor vanish.
    for i, p in enumerate(net.parameters()):
        if i % 2 == 0:
            p.grad = torch.randn_like(p)
    calls = []
    handle = net.stage2.block1.register_forward_hook(lambda *args: calls.append(1))
    before = snapshot(net)
    lesion(net, images, labels)
    lesion_random(net, images, labels, [1, 2], draws=2, seed=3)
    assert_unchanged(net, before)
    assert calls == []
    handle.remove()
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())


def test_hooks_are_removed_even_when_a_forward_fails():
    net = make_net(RESIDUAL_SPECS["A"])
    model = analysis_copy(net)
    with pytest.raises(RuntimeError), deleted(model, ["stage1.block1", "stage2.block1"]):
        model(torch.randn(2, 5, 32, 32))  # wrong channel count
    assert all(not m._forward_hooks for m in model.modules())


# --- random multi-block deletion ----------------------------------------------------------------------


def test_lesion_random_is_deterministic_and_well_formed():
    net = make_net(RESIDUAL_SPECS["A"])
    images, labels = batch(20)
    names = [b.name for b in net.layout.blocks]
    first = lesion_random(net, images, labels, [1, 3, 6], draws=3, seed=7)
    assert first == lesion_random(net, images, labels, [1, 3, 6], draws=3, seed=7)
    other = lesion_random(net, images, labels, [1, 3, 6], draws=3, seed=8)
    assert other["deleted"] != first["deleted"]
    assert first["k"] == [1, 3, 6]
    for k, errors, losses, chosen in zip(first["k"], first["error"], first["loss"], first["deleted"]):
        assert len(errors) == len(losses) == len(chosen) == 3
        for subset in chosen:
            assert len(set(subset)) == k and subset == sorted(subset, key=names.index)
        assert all(0.0 <= e <= 100.0 for e in errors)
    # All blocks deleted: every draw is the same set, the same numbers.
    everything = lesion_random(net, images, labels, [len(names)], draws=2)
    assert everything["deleted"][0] == [names, names]
    assert everything["error"][0][0] == everything["error"][0][1]
    assert lesion_random(net, images[:2], labels[:2], draws=1)["k"] == list(range(1, len(names) + 1))


def test_lesion_random_agrees_with_single_deletions():
    net = make_net(RESIDUAL_SPECS["A"])
    images, labels = batch(20)
    single = lesion(net, images, labels)
    result = lesion_random(net, images, labels, [1], draws=4, seed=0)
    assert result["intact"] == single["intact"]
    for (name,), error, loss in zip(result["deleted"][0], result["error"][0], result["loss"][0]):
        assert error == single[name]["error"]
        assert loss == pytest.approx(single[name]["loss"], rel=1e-6)


def test_progress_is_reported_after_every_evaluation():
    net = make_net(RESIDUAL_SPECS["C"])
    images, labels = batch(4)
    calls = []
    lesion(net, images, labels, on_progress=lambda done, total: calls.append((done, total)))
    n = len(net.layout.blocks)
    assert calls == [(i, n + 1) for i in range(1, n + 2)]
    calls.clear()
    lesion_random(net, images, labels, [1, 2], draws=3, on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 7) for i in range(1, 8)]


def test_lesion_random_validates_k():
    net = make_net(RESIDUAL_SPECS["C"])
    images, labels = batch(4)
    with pytest.raises(ValueError, match="k must be between"):
        lesion_random(net, images, labels, [0])
    with pytest.raises(ValueError, match="k must be between"):
        lesion_random(net, images, labels, [len(net.layout.blocks) + 1])


def test_evaluate_rejects_mismatched_labels():
    net = make_net(RESIDUAL_SPECS["C"])
    with pytest.raises(ValueError):
        evaluate(net, torch.randn(3, 3, 32, 32), torch.zeros(2, dtype=torch.long))


@pytest.mark.parametrize("kind", [*RESIDUAL_SPECS, "plain", "imagenet"])
def test_restarting_from_the_first_deleted_block_gives_what_the_whole_net_gives(kind):
    """evaluate_deletions runs each deletion from the cached input of its first deleted block; the direct
    computation runs the whole hooked net. Several chunks of images (batch_size 7 of 20) and deletions of
    one, two and all blocks."""
    spec = {
        "plain": rc.NetSpec(depth=14, width=4, skip=False),
        "imagenet": rc.NetSpec(depth=18, width=4, stem="imagenet"),
    }.get(kind) or RESIDUAL_SPECS[kind]
    net = make_net(spec)
    images, labels = batch(20)
    if kind == "imagenet":
        images = torch.nn.functional.interpolate(images, size=64)
    model = analysis_copy(net)
    names = [b.name for b in net.layout.blocks]
    sets = [[names[0]], [names[-1]], [names[1], names[-2]], names]
    progress = []
    fast = evaluate_deletions(
        model, images, labels, sets, batch_size=7, on_progress=lambda done, total: progress.append((done, total))
    )
    direct = [evaluate(model, images, labels)]
    for names_deleted in sets:
        with deleted(model, names_deleted):
            direct.append(evaluate(model, images, labels))
    for got, want in zip(fast, direct, strict=True):
        assert got["error"] == want["error"]
        assert got["loss"] == pytest.approx(want["loss"], rel=1e-5)
    assert progress == [(i, 5 * 3) for i in range(1, 16)]  # 5 evaluations × 3 chunks
    assert not any(m._forward_hooks for m in model.modules())


def test_nets_whose_stages_are_not_plain_sequences_are_evaluated_whole(monkeypatch):
    import resnet_core.analysis.lesion as lesion_module

    net = make_net(RESIDUAL_SPECS["A"])
    images, labels = batch(10)
    shared = lesion(net, images, labels)
    monkeypatch.setattr(lesion_module, "_block_sequence", lambda model: None)
    whole = lesion(net, images, labels)
    assert shared.keys() == whole.keys()
    for name in shared:
        assert shared[name]["error"] == whole[name]["error"]
        assert shared[name]["loss"] == pytest.approx(whole[name]["loss"], rel=1e-5)


@pytest.mark.parametrize("kind", [*RESIDUAL_SPECS, "plain"])
def test_the_folded_copy_computes_what_the_net_computes_without_the_folded_norms(kind):
    """folded_copy folds each eval BN into the conv before it (and makes post-activation ReLUs in-place):
    the same outputs to float rounding, the caller's net untouched, and no BatchNorm left where one
    directly followed a conv."""
    spec = rc.NetSpec(depth=14, width=4, skip=False) if kind == "plain" else RESIDUAL_SPECS[kind]
    net = make_net(spec)
    before = copy.deepcopy(net.state_dict())
    images, _ = batch(16)
    folded = folded_copy(net)
    with torch.inference_mode():
        want, got = net(images), folded(images.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    for module in folded.modules():
        for _, norm in getattr(module, "conv_norm_pairs", ()):
            assert not isinstance(getattr(module, norm), nn.BatchNorm2d)
    kept_norms = sum(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    if spec.norm == "batch" and not spec.preact and spec.shortcut == "A":
        assert kept_norms == 0  # every BN of a post-activation net with parameter-free shortcuts follows a conv
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert not any(getattr(m, "inplace", False) for m in net.modules())
