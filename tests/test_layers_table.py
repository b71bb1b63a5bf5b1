"""`net.layout.layers`: the one table of "layer k" that probes, charts, the diagram and the pages read."""

import pytest
import torch
from torch import nn

import resnet_core as rc
from resnet_core.analysis.probes import forward_order, layer_responses, weight_modules
from resnet_core.model.net import layout_of
from resnet_core.presentation.diagram import architecture_figure

SPECS = [
    rc.NetSpec(depth=56),
    rc.NetSpec(depth=164, block="bottleneck"),
    rc.NetSpec(depth=50, stem="imagenet", shortcut="B"),  # the block follows the depth: bottleneck
    rc.NetSpec(depth=110, preact=True),
    rc.NetSpec(depth=20, shortcut="C", skip=False),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.name}-{s.block}-{s.stem}-{s.shortcut}")
def test_the_table_holds_depth_layers_named_as_the_modules_in_forward_order(spec):
    net = rc.build_net(spec)
    layers = net.layout.layers
    assert len(layers) == spec.depth
    assert [info.index for info in layers] == list(range(1, spec.depth + 1))
    # The names are the modules' names, in the order a forward pass calls them (projections apart).
    size = 32 if spec.stem == "cifar" else 64
    order = forward_order(net, torch.randn(1, 3, size, size), weight_modules(net))
    projections = [info.name for info in net.layout.projections]
    assert [info.name for info in layers] == [name for name in order if name not in projections]
    modules = dict(net.named_modules())
    for info in layers:
        module = modules[info.name]
        if info.kind == "fc":
            assert isinstance(module, nn.Linear) and info.index == spec.depth and info.kernel is None
        else:
            assert isinstance(module, nn.Conv2d) and module.kernel_size == (info.kernel, info.kernel)
            assert (info.block is None) == (info.stage == 0)
    assert layers[0].name == "stem.conv" and layers[0].kernel == (7 if spec.stem == "imagenet" else 3)


def test_projections_are_listed_apart_and_not_counted():
    net = rc.build_net(rc.NetSpec(depth=50, stem="imagenet", shortcut="B"))
    assert [p.name for p in net.layout.projections] == [f"stage{s}.block1.shortcut.conv" for s in (1, 2, 3, 4)]
    assert all(p.index is None and p.kernel == 1 and p.kind == "projection" for p in net.layout.projections)
    assert rc.build_net(rc.NetSpec(depth=56)).layout.projections == ()  # option A has none


def test_layer_17_is_one_layer_everywhere():
    """For ImageNet ResNet-50, the 17th weighted layer is not the 17th 3×3 conv: the Gradients and the
    Responses views must both read the table, not count positions in their own lists."""
    net = rc.build_net(rc.NetSpec(depth=50, stem="imagenet", shortcut="B"))
    info = net.layout.layers[16]
    assert info.index == 17 and info.name == "stage2.block3.conv1" and info.kernel == 1
    responses = layer_responses(net.eval(), torch.randn(2, 3, 64, 64))
    indices = net.layout.layer_indices(list(responses))
    assert len(indices) == 16  # the 16 blocks' 3×3 convs (the stem's conv is 7×7)
    assert indices[:3] == [3, 6, 9] and net.layout.layers[indices[1] - 1].name == list(responses)[1]
    assert net.layout.layer("stage2.block3.conv1") is info
    with pytest.raises(KeyError):
        net.layout.layer("stage2.block3.norm1")


def test_layout_of_needs_no_weights_and_agrees_with_the_built_net():
    spec = rc.NetSpec(depth=164, block="bottleneck")
    assert layout_of(spec) == rc.build_net(spec).layout


def test_the_diagram_numbers_its_boxes_from_the_table():
    layout = rc.build_net(rc.NetSpec(depth=20)).layout
    fig = architecture_figure(layout)
    numbers = [a.text for a in fig.layout.annotations if a.text and a.text[0].isdigit() and "×" not in a.text]
    assert numbers[0] == "1" and numbers[1] == "2–3" and numbers[-1] == "20"
    hover = fig.data[0].hovertext
    assert any("layer 2 · stage1.block1.conv1 (3×3)" in h for h in hover)
    assert any("layer 20 · fc" in h for h in hover)


@pytest.mark.parametrize(
    "fields, block",
    [
        (dict(depth=50, stem="imagenet"), "bottleneck"),
        (dict(depth=152, stem="imagenet"), "bottleneck"),
        (dict(depth=34, stem="imagenet"), "basic"),
        (dict(depth=1001, preact=True), "bottleneck"),
        (dict(depth=56), "basic"),
    ],
)
def test_the_block_follows_the_depth_where_the_paper_fixes_it(fields, block):
    assert rc.NetSpec(**fields).block == block


@pytest.mark.parametrize(
    "fields, words",
    [
        (dict(depth=50, stem="imagenet", block="basic"), ["18, 34", "block='bottleneck'"]),
        (dict(depth=18, stem="imagenet", block="bottleneck"), ["50, 101, 152", "block='basic'"]),
        (dict(depth=29, block="basic"), ["6n+2", "block='bottleneck'"]),
    ],
)
def test_a_wrong_block_for_the_depth_says_which_block_fits(fields, words):
    with pytest.raises(ValueError) as err:
        rc.NetSpec(**fields)
    assert all(w in str(err.value) for w in words), str(err.value)
