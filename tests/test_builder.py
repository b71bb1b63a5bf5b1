"""The network builder against the papers' tables, torchvision, and its own promises."""

import pytest
import torch
import torchvision
from said import in_chinese
from torch import nn

import resnet_core as rc
from resnet_core.words import WordedError

# He et al. 2015, Table 6 (CIFAR-10, option A): depth -> parameters as printed in the paper, and the
# exact count (these are also akamaster/pytorch_resnet_cifar10's self-checked numbers).
TABLE_6 = {
    20: ("0.27M", 269_722),
    32: ("0.46M", 464_154),
    44: ("0.66M", 658_586),
    56: ("0.85M", 853_018),
    110: ("1.7M", 1_727_962),
    1202: ("19.4M", 19_421_274),
}

# He et al. 2015, Table 1: ImageNet FLOPs (multiply-adds) for 224×224 inputs.
TABLE_1_FLOPS = {18: 1.8e9, 34: 3.6e9, 50: 3.8e9, 101: 7.6e9, 152: 11.3e9}


def imagenet_spec(depth: int, **fields) -> rc.NetSpec:
    block = "basic" if depth < 50 else "bottleneck"
    return rc.NetSpec(depth=depth, stem="imagenet", block=block, num_classes=1000, **fields)


@pytest.mark.parametrize("depth", sorted(TABLE_6))
def test_cifar_parameter_counts_match_table_6(depth):
    printed, exact = TABLE_6[depth]
    net = rc.build_net(rc.NetSpec(depth=depth))
    params = rc.count_params(net)
    assert params == exact
    digits = len(printed.split(".")[1]) - 1  # "0.27M" -> 2 decimals
    assert f"{params / 1e6:.{digits}f}M" == printed


@pytest.mark.parametrize("depth", [20, 56])
def test_option_a_plain_twin_has_the_same_size(depth):
    residual = rc.build_net(rc.NetSpec(depth=depth))
    plain = rc.build_net(rc.NetSpec(depth=depth, skip=False))
    assert rc.count_params(plain) == rc.count_params(residual)
    assert rc.count_flops(plain) == rc.count_flops(residual)


@pytest.mark.parametrize("depth", sorted(TABLE_1_FLOPS))
def test_imagenet_flops_match_table_1(depth):
    net = rc.build_net(imagenet_spec(depth, shortcut="B"))
    flops = rc.count_flops(net, input_size=(3, 224, 224))
    assert flops == pytest.approx(TABLE_1_FLOPS[depth], rel=0.03)


@pytest.mark.parametrize("depth", [18, 34, 50, 101, 152])
def test_imagenet_option_b_matches_torchvision_parameter_counts(depth):
    ours = rc.build_net(imagenet_spec(depth, shortcut="B"))
    theirs = getattr(torchvision.models, f"resnet{depth}")(weights=None)
    assert rc.count_params(ours) == rc.count_params(theirs)


def test_flops_of_resnet_18_match_a_hand_count():
    # conv1: 112² outputs × 64 × (3·7·7); checked here apart from the hook-based counter.
    net = rc.build_net(imagenet_spec(18, shortcut="B"))
    macs = rc.layer_macs(net, (3, 224, 224))
    assert macs["stem.conv"] == 112 * 112 * 64 * 3 * 7 * 7
    assert macs["fc"] == 512 * 1000
    assert list(macs)[0] == "stem.conv" and list(macs)[-1] == "fc"


def test_option_c_has_more_parameters_than_b_than_a():
    counts = [rc.count_params(rc.build_net(rc.NetSpec(depth=20, shortcut=o))) for o in "ABC"]
    assert counts[0] < counts[1] < counts[2]


@pytest.mark.parametrize(
    "spec",
    [
        rc.NetSpec(depth=20),
        rc.NetSpec(depth=20, skip=False),
        rc.NetSpec(depth=29, block="bottleneck"),
        rc.NetSpec(depth=20, preact=True),
        rc.NetSpec(depth=29, block="bottleneck", preact=True, shortcut="B"),
        rc.NetSpec(depth=14, norm="none", activation="sigmoid"),
        rc.NetSpec(depth=8, activation="tanh", shortcut="C", width=8, num_classes=100, in_channels=1),
        rc.NetSpec(depth=18, stem="imagenet"),
        rc.NetSpec(depth=50, stem="imagenet", block="bottleneck", preact=True),
    ],
    ids=lambda s: f"{s.name}-{s.block}-{s.stem}-{s.shortcut}-{s.norm}-{s.activation}",
)
def test_forward_shapes_and_depth(spec):
    net = rc.build_net(spec)
    size = 32 if spec.stem == "cifar" else 64
    x = torch.randn(2, spec.in_channels, size, size)
    assert net(x).shape == (2, spec.num_classes)
    # `depth` counts exactly the weighted layers (convs + fc), not the shortcut projections.
    assert len(net.layout.weighted_layers) == spec.depth
    modules = dict(net.named_modules())
    assert all(isinstance(modules[name], nn.Conv2d | nn.Linear) for name in net.layout.weighted_layers)
    weighted = [n for n, m in net.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert [n for n in weighted if ".shortcut." not in n] == list(net.layout.weighted_layers)


def test_1202_layers_build_and_run():
    net = rc.build_net(rc.NetSpec(depth=1202))
    assert len(net.layout.weighted_layers) == 1202
    assert net(torch.randn(1, 3, 32, 32)).shape == (1, 10)


def test_every_nonlinearity_is_its_own_module_and_nothing_is_in_place():
    for activation in ("relu", "sigmoid", "tanh"):
        net = rc.build_net(rc.NetSpec(depth=20, activation=activation))
        acts = [m for m in net.modules() if isinstance(m, nn.ReLU | nn.Sigmoid | nn.Tanh)]
        # stem + 2 per basic block
        assert len(acts) == 1 + 2 * 9
        assert not any(getattr(m, "inplace", False) for m in net.modules())
    # No module object is reused in two places (hooks would fire twice).
    net = rc.build_net(rc.NetSpec(depth=20))
    ids = [id(m) for _, m in net.named_modules(remove_duplicate=False)]
    assert len(ids) == len(set(ids))


def _silence_residual_branches(net: nn.Module) -> None:
    """Zero the last BN of every block: each residual branch then outputs exactly 0 (F = 0)."""
    for info in net.layout.blocks:
        block = net.get_submodule(info.name)
        last_norm = block.norm3 if hasattr(block, "norm3") else block.norm2
        nn.init.zeros_(last_norm.weight)
        nn.init.zeros_(last_norm.bias)


def test_plain_twin_really_has_no_shortcut():
    """With every residual branch silenced (F = 0), a residual block passes its input through
    (relu(0 + x) = x for x ≥ 0), while a plain block outputs relu(0) = 0: nothing bypasses the layers."""
    torch.manual_seed(0)
    x = torch.randn(4, 3, 32, 32)
    for skip in (True, False):
        net = rc.build_net(rc.NetSpec(depth=20, skip=skip)).eval()
        _silence_residual_branches(net)
        stem_out = net.stem(x)
        stage1_out = net.stage1(stem_out)
        if skip:
            assert torch.allclose(stage1_out, stem_out)
        else:
            assert torch.count_nonzero(stage1_out) == 0
        assert all(b.shortcut is None for b in net.layout.blocks) == (not skip)
        assert any(".shortcut" in n for n, _ in net.named_modules()) == skip


def test_option_a_shortcut_zero_pads_and_subsamples():
    net = rc.build_net(rc.NetSpec(depth=20)).eval()
    block = net.stage2.block1
    x = torch.randn(2, 16, 32, 32)
    y = block.shortcut(x)
    assert y.shape == (2, 32, 16, 16)
    assert torch.equal(y[:, :16], x[:, :, ::2, ::2])
    assert torch.count_nonzero(y[:, 16:]) == 0


def test_layout_describes_stages_channels_and_strides():
    layout = rc.build_net(rc.NetSpec(depth=56)).layout
    assert [s.name for s in layout.stages] == ["stage1", "stage2", "stage3"]
    assert [len(s.blocks) for s in layout.stages] == [9, 9, 9]
    assert [(s.in_channels, s.out_channels, s.stride) for s in layout.stages] == [(16, 16, 1), (16, 32, 2), (32, 64, 2)]
    assert layout.feature_sizes() == {"stem": 32, "stage1": 32, "stage2": 16, "stage3": 8}
    kinds = [b.shortcut for b in layout.blocks]
    assert kinds.count("zero-pad") == 2 and kinds.count("identity") == 25
    b_layout = rc.build_net(rc.NetSpec(depth=56, shortcut="B")).layout
    assert [b.shortcut for b in b_layout.blocks].count("projection") == 2
    inet = rc.build_net(imagenet_spec(50)).layout
    assert inet.feature_sizes() == {"stem": 56, "stage1": 56, "stage2": 28, "stage3": 14, "stage4": 7}
    assert inet.stages[0].out_channels == 256


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"depth": 21}, ["21", "6n+2", "20, 26"]),
        ({"depth": 3}, ["6n+2", "8"]),
        ({"depth": 26, "block": "bottleneck"}, ["9n+2", "20, 29"]),
        ({"depth": 20, "stem": "imagenet"}, ["18, 34"]),
        ({"depth": 34, "stem": "imagenet", "block": "bottleneck"}, ["50, 101, 152"]),
        ({"block": "dense"}, ["basic, bottleneck"]),
        ({"shortcut": "D"}, ["A, B, C"]),
        ({"norm": "layer"}, ["batch, none"]),
        ({"activation": "gelu"}, ["relu, sigmoid, tanh"]),
        ({"stem": "tiny"}, ["cifar, imagenet"]),
        ({"width": 0}, ["width", "positive"]),
        ({"num_classes": -1}, ["num_classes"]),
        ({"depth": 20.0}, ["depth"]),
        ({"skip": "yes"}, ["skip"]),
    ],
)
def test_invalid_specs_name_the_valid_choices(fields, words):
    with pytest.raises(ValueError) as err:
        rc.NetSpec(**fields)
    for word in words:
        assert word in str(err.value)


def test_invalid_settings_keep_their_english_and_are_said_in_chinese():
    cases = {  # the command line's English, as it was, and what a Chinese page says
        (("depth", 21),): (
            "depth 21 is not 6n+2 for basic blocks on the cifar stem; nearest: 20, 26",
            "深度 21 不符合 cifar 输入层（stem）上 basic 块的 6n+2；最接近的深度：20, 26",
        ),
        (("depth", 26), ("block", "bottleneck")): (
            "depth 26 is not 9n+2 for bottleneck blocks on the cifar stem; nearest: 20, 29; depth 26 fits basic "
            "blocks (block='basic')",
            "深度 26 不符合 cifar 输入层（stem）上 bottleneck 块的 9n+2；最接近的深度：20, 29；深度 26 适用于 basic 块"
            "（block='basic'）",
        ),
        (("depth", 20), ("stem", "imagenet")): (
            "depth 20 is not an ImageNet-style basic net; valid depths: 18, 34",
            "深度 20 不是 ImageNet 式的 basic 网络；可用的深度：18, 34",
        ),
        (("shortcut", "D"),): (
            "shortcut 'D' is not valid; choose one of: A, B, C",
            "shortcut 'D' 无效；请从中选择一个：A, B, C",
        ),
        (("width", 0),): ("width must be a positive integer, got 0", "width 必须是正整数，收到的是 0"),
    }
    for fields, (english, chinese) in cases.items():
        try:
            rc.NetSpec(**dict(fields))
        except ValueError as err:
            assert isinstance(err, WordedError) and str(err) == english, (fields, str(err))
            assert in_chinese(err) == chinese
        else:
            raise AssertionError(f"{fields} made a net")
    with pytest.raises(ValueError) as link:  # what a link's query string gets
        rc.spec_from_params({"skip": "yes"})
    assert str(link.value) == "skip must be 1/0 or true/false, got 'yes'"
    assert in_chinese(link.value) == "skip 必须是 1/0 或 true/false，收到的是 'yes'"


def test_valid_depths_and_round_trip():
    assert rc.valid_depths("basic")[:4] == [8, 14, 20, 26]
    assert 1202 in rc.valid_depths("basic") and 164 in rc.valid_depths("bottleneck")
    assert rc.valid_depths("bottleneck", "imagenet") == [50, 101, 152]
    spec = rc.NetSpec(depth=110, skip=False, preact=True, width=8)
    assert rc.NetSpec.from_dict(spec.to_dict()) == spec
    assert hash(spec) == hash(rc.NetSpec.from_dict(spec.to_dict()))
    with pytest.raises(ValueError, match="unknown NetSpec fields"):
        rc.NetSpec.from_dict({"depht": 20})


def test_count_flops_leaves_the_net_as_it_was():
    net = rc.build_net(rc.NetSpec(depth=20)).train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    rc.count_flops(net)
    assert net.training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
