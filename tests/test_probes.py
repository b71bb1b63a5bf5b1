"""The probes against direct computations, and their promise to leave the net exactly as it was."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from resnet_core.analysis.probes import (
    WeightGradNorms,
    gradient_norms,
    layer_responses,
    response_modules,
    weight_modules,
)
from resnet_core.model.net import build_net
from resnet_core.model.spec import NetSpec

SPECS = {
    "residual": NetSpec(depth=8, width=4),
    "plain": NetSpec(depth=8, width=4, skip=False),
    "preact": NetSpec(depth=8, width=4, preact=True),
    "bottleneck": NetSpec(depth=11, width=4, block="bottleneck", shortcut="B"),
    "preact-bottleneck": NetSpec(depth=11, width=4, block="bottleneck", preact=True, shortcut="B"),
    "no-norm": NetSpec(depth=8, width=4, norm="none"),
    "projection-C": NetSpec(depth=8, width=4, shortcut="C"),
}


def make_net(kind: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return build_net(SPECS[kind])


def batch(n: int = 6, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g)


def snapshot(net: nn.Module) -> dict:
    return {
        "state": {k: v.clone() for k, v in net.state_dict().items()},
        "training": [m.training for m in net.modules()],
        "grads": [None if p.grad is None else p.grad.clone() for p in net.parameters()],
    }


def assert_unchanged(net: nn.Module, before: dict) -> None:
    after = snapshot(net)
    assert before["state"].keys() == after["state"].keys()
    for key, value in before["state"].items():
        assert torch.equal(value, after["state"][key]), f"{key} changed"
    assert before["training"] == after["training"]
    for old, new in zip(before["grads"], after["grads"]):
        assert (old is None and new is None) or torch.equal(old, new)


def with_some_grads(net: nn.Module) -> nn.Module:
    """Give every other parameter an existing .grad, which the probes must not touch."""
    for i, p in enumerate(net.parameters()):
        p.grad = torch.randn_like(p) if i % 2 == 0 else None
    return net


@pytest.mark.parametrize("kind", SPECS)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_gradient_norms_match_a_backward_pass_on_a_copy(kind, mode):
    net = make_net(kind).train(mode == "train")
    images, labels = batch()
    twin = copy.deepcopy(net)
    F.cross_entropy(twin(images), labels).backward()
    expected = {name: m.weight.grad.norm().item() for name, m in weight_modules(twin)}

    norms = gradient_norms(net, images, labels)
    assert list(norms) == list(expected)  # every Conv2d/Linear, named_modules order == forward order
    assert norms == pytest.approx(expected, rel=1e-5, abs=1e-8)
    assert all(v > 0 for v in norms.values())


@pytest.mark.parametrize("kind", ["residual", "plain", "preact"])
def test_gradient_norm_keys_are_the_weighted_layers_input_to_output(kind):
    net = make_net(kind)
    norms = gradient_norms(net, *batch())
    assert list(norms) == list(net.layout.weighted_layers)  # option A: no shortcut convs
    assert next(iter(norms)) == "stem.conv" and list(norms)[-1] == "fc"


def test_gradient_norms_include_projection_shortcuts_in_forward_order():
    net = make_net("projection-C")
    names = list(gradient_norms(net, *batch()))
    block = "stage2.block1"
    positions = [names.index(n) for n in (f"{block}.conv2", f"{block}.shortcut.conv", "stage3.block1.conv1")]
    assert positions == sorted(positions)


def test_forward_order_comes_from_the_calls_not_the_registration():
    class Reversed(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(4, 3)
            self.body = nn.Conv2d(3, 4, 3, padding=1)

        def forward(self, x):
            return self.head(self.body(x).mean(dim=(2, 3)))

    norms = gradient_norms(Reversed(), torch.randn(2, 3, 8, 8), torch.tensor([0, 2]))
    assert list(norms) == ["body", "head"]


@pytest.mark.parametrize("kind", SPECS)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_probes_leave_the_net_exactly_as_they_found_it(kind, mode):
    net = with_some_grads(make_net(kind).train(mode == "train"))
    before = snapshot(net)
    images, labels = batch()
    gradient_norms(net, images, labels)
    assert_unchanged(net, before)
    layer_responses(net, images)
    assert_unchanged(net, before)


def test_mixed_train_eval_flags_survive():
    net = make_net("residual").train()
    net.stage2.eval()
    before = snapshot(net)
    gradient_norms(net, *batch())
    layer_responses(net, batch()[0])
    assert_unchanged(net, before)


def hooked_std(net: nn.Module, module_name: str, images: torch.Tensor) -> float:
    """The std of one module's output, by a hand-written forward hook on a copy."""
    twin = copy.deepcopy(net)
    seen = {}
    module = twin.get_submodule(module_name)

    def hook(module, inputs, output):
        seen["std"] = output.std().item()

    module.register_forward_hook(hook)
    with torch.no_grad():
        twin(images)
    return seen["std"]


# (spec, conv, module whose output is its response): after BN in post-activation blocks and the stem;
# the conv itself in pre-activation blocks; Identity (== the conv output) without normalisation.
RESPONSE_CASES = [
    ("residual", "stem.conv", "stem.norm"),
    ("residual", "stage1.block1.conv1", "stage1.block1.norm1"),
    ("residual", "stage3.block1.conv2", "stage3.block1.norm2"),
    ("plain", "stage2.block1.conv2", "stage2.block1.norm2"),
    ("bottleneck", "stage2.block1.conv2", "stage2.block1.norm2"),
    ("preact", "stem.conv", "stem.conv"),
    ("preact", "stage1.block1.conv1", "stage1.block1.conv1"),
    ("preact", "stage2.block1.conv2", "stage2.block1.conv2"),
    ("preact-bottleneck", "stage3.block1.conv2", "stage3.block1.conv2"),
    ("no-norm", "stage2.block1.conv1", "stage2.block1.conv1"),
]


@pytest.mark.parametrize("kind,conv,module", RESPONSE_CASES)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_layer_responses_match_a_hand_written_hook(kind, conv, module, mode):
    net = make_net(kind).train(mode == "train")
    images, _ = batch(8)
    responses = layer_responses(net, images)
    assert responses[conv] == pytest.approx(hooked_std(net, module, images), rel=1e-5)


@pytest.mark.parametrize("kind", SPECS)
def test_layer_responses_cover_every_3x3_conv_in_forward_order(kind):
    net = make_net(kind)
    responses = layer_responses(net, batch()[0])
    convs_3x3 = [n for n, m in net.named_modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    assert list(responses) == convs_3x3
    assert next(iter(responses)) == "stem.conv"
    assert all("shortcut" not in name for name in responses)  # projections are 1×1
    assert all(v > 0 for v in responses.values())


def test_response_modules_pair_post_activation_convs_with_their_own_norm():
    pairs = {name: type(m).__name__ for name, m in response_modules(make_net("residual"))}
    assert pairs["stem.conv"] == pairs["stage1.block1.conv1"] == "BatchNorm2d"
    pairs = {name: type(m).__name__ for name, m in response_modules(make_net("preact"))}
    assert set(pairs.values()) == {"Conv2d"}  # conv1 is followed by norm2, the next conv's pre-activation
    pairs = {name: type(m).__name__ for name, m in response_modules(make_net("no-norm"))}
    assert set(pairs.values()) == {"Identity"}


def test_trainer_in_loop_norms_share_the_probe_definition():
    """The trainer's in-loop norms (from .grad after a backward) equal gradient_norms on that batch."""
    net = make_net("bottleneck").train()
    images, labels = batch()
    expected = gradient_norms(net, images, labels)
    recorder = WeightGradNorms(net, images[:2])
    F.cross_entropy(net(images), labels).backward()
    recorded = recorder.to_dict(recorder.compute())
    assert list(recorded) == list(expected)
    assert recorded == pytest.approx(expected, rel=1e-5)
