"""Loss-landscape slices (Li et al. 2018): filter-normalised directions, the grid's centre and ordering,
progress/stop callbacks, the roughness measure on surfaces with known curvature, and an untouched net."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import resnet_core as rc
from resnet_core.analysis.landscape import (
    filter_normalized_direction,
    grid_coordinates,
    loss_landscape,
    roughness,
)


def batch(n: int = 32, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g)


def make_net(spec: rc.NetSpec | None = None, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    net = rc.build_net(spec or rc.NetSpec(depth=8, width=4))
    net.train()
    with torch.no_grad():  # BN running statistics of real batches, so eval mode is not trivial
        for s in range(2):
            net(batch(32, seed=50 + s)[0])
    # Non-trivial BN affine parameters and biases, which the directions must leave alone.
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return net.eval()


def own_loss(net: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """The net's mean cross-entropy in eval mode, computed without the module under test."""
    with torch.no_grad():
        return F.cross_entropy(copy.deepcopy(net).eval()(images), labels).item()


# --- directions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        rc.NetSpec(depth=8, width=4),
        rc.NetSpec(depth=8, width=4, norm="none"),
        rc.NetSpec(depth=11, width=4, block="bottleneck", shortcut="B"),
    ],
)
def test_directions_are_filter_normalised_and_zero_on_bn_and_biases(spec):
    net = make_net(spec)
    direction = filter_normalized_direction(net, torch.Generator().manual_seed(3))
    params = dict(net.named_parameters())
    assert direction.keys() == params.keys()
    bn_modules = [n for n, m in net.named_modules() if isinstance(m, nn.BatchNorm2d)]
    bn_params = {f"{n}.{p}" for n in bn_modules for p in ("weight", "bias")}
    checked_filters = 0
    for name, d in direction.items():
        theta = params[name].detach()
        assert d.shape == theta.shape
        if theta.dim() == 1:
            assert torch.count_nonzero(d) == 0, name  # biases and BN parameters
            continue
        assert name not in bn_params
        torch.testing.assert_close(d.flatten(1).norm(dim=1), theta.flatten(1).norm(dim=1), rtol=1e-5, atol=1e-7)
        assert not torch.allclose(d, theta)  # rescaled noise, not θ itself
        checked_filters += theta.shape[0]
    assert checked_filters > 0
    if spec.norm == "batch":
        assert any(name.endswith("bias") and name in bn_params for name in direction)
    if spec.norm == "none":
        assert any(name.endswith("conv1.bias") for name in direction)  # conv biases exist, and are zero


def test_directions_depend_on_the_generator_only():
    net = make_net()
    a = filter_normalized_direction(net, torch.Generator().manual_seed(5))
    b = filter_normalized_direction(net, torch.Generator().manual_seed(5))
    c = filter_normalized_direction(net, torch.Generator().manual_seed(6))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["stem.conv.weight"], c["stem.conv.weight"])


def test_a_zero_filter_gets_a_zero_direction():
    net = make_net()
    with torch.no_grad():
        net.stem.conv.weight[2].zero_()
    d = filter_normalized_direction(net, torch.Generator().manual_seed(0))["stem.conv.weight"]
    assert torch.count_nonzero(d[2]) == 0 and torch.count_nonzero(d[3]) > 0


# --- the grid -------------------------------------------------------------------------------------------


def test_coordinates_are_symmetric_with_an_exact_zero():
    assert grid_coordinates(5, 1.0) == [-1.0, -0.5, 0.0, 0.5, 1.0]
    coords = grid_coordinates(11, 0.7)
    assert coords[5] == 0.0 and coords[0] == -0.7 and coords[-1] == 0.7
    assert all(coords[i] == -coords[-1 - i] for i in range(11))


def test_centre_is_the_nets_own_loss_and_the_grid_has_the_right_shape():
    net = make_net()
    images, labels = batch()
    net.train()  # the landscape is evaluated in eval mode whatever mode the net is in
    result = loss_landscape(net, images, labels, steps=5, span=0.5, seed=1)
    assert result["alpha"] == result["beta"] == [-0.5, -0.25, 0.0, 0.25, 0.5]
    assert len(result["loss"]) == 5 and all(len(row) == 5 for row in result["loss"])
    assert len(result["error"]) == 5 and all(len(row) == 5 for row in result["error"])
    assert result["loss"][2][2] == pytest.approx(own_loss(net, images, labels), abs=1e-5)
    assert result["center_loss"] == pytest.approx(result["loss"][2][2], abs=1e-6)
    assert result["complete"] is True and result["directions_seed"] == 1 and result["n_images"] == 32
    assert set(result["roughness"]) == {"curvature_ratio", "nonconvex_fraction", "log_laplacian"}
    # The centre is (usually) not the worst point, and the surface is not flat.
    flat = [v for row in result["loss"] for v in row]
    assert max(flat) - min(flat) > 1e-3


def test_loss_i_j_is_at_beta_i_alpha_j():
    """Rebuild one off-centre point by hand: θ + α_j·d1 + β_i·d2 with the documented recipe."""
    net = make_net()
    images, labels = batch()
    steps, span, seed = 5, 1.0, 4
    result = loss_landscape(net, images, labels, steps=steps, span=span, seed=seed)
    i, j = 1, 4  # β = -0.5, α = +1.0
    model = copy.deepcopy(net).eval()
    g = torch.Generator().manual_seed(seed)
    d1 = filter_normalized_direction(model, g)
    d2 = filter_normalized_direction(model, g)
    alpha, beta = result["alpha"][j], result["beta"][i]
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.add_(alpha * d1[name] + beta * d2[name])
        direct = F.cross_entropy(model(images), labels).item()
    assert result["loss"][i][j] == pytest.approx(direct, rel=1e-5)
    # The construction can tell the axes apart: the transposed point (β = 1, α = -0.5) is elsewhere.
    assert abs(result["loss"][j][i] - direct) > 1e-3
    # And the same seed gives the same plane.
    assert loss_landscape(net, images, labels, steps=steps, span=span, seed=seed)["loss"] == result["loss"]


def test_progress_is_reported_per_point_and_stop_returns_a_partial_grid():
    net = make_net()
    images, labels = batch(8)
    calls = []
    loss_landscape(net, images, labels, steps=3, on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(k, 9) for k in range(1, 10)]

    rows_started = []

    def stop_after_two_rows() -> bool:
        rows_started.append(1)
        return len(rows_started) > 2

    partial = loss_landscape(net, images, labels, steps=5, should_stop=stop_after_two_rows)
    assert partial["complete"] is False
    assert len(partial["loss"]) == 2 and all(len(row) == 5 for row in partial["loss"])
    assert partial["roughness"] is None  # fewer than 3 rows


@pytest.mark.parametrize("training", [True, False])
def test_landscape_leaves_the_net_exactly_as_it_was(training):
    net = make_net()
    net.train(training)
    for p in list(net.parameters())[::3]:
        p.grad = torch.randn_like(p)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    grads = [None if p.grad is None else p.grad.clone() for p in net.parameters()]
    flags = [m.training for m in net.modules()]
    images, labels = batch(8)
    loss_landscape(net, images, labels, steps=3)
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in state.items())
    assert [m.training for m in net.modules()] == flags
    for old, p in zip(grads, net.parameters()):
        assert (old is None and p.grad is None) or torch.equal(old, p.grad)
    assert all(p.requires_grad for p in net.parameters())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())


# --- roughness ------------------------------------------------------------------------------------------


def grid_of(f, steps: int = 11, span: float = 1.0) -> list[list[float]]:
    c = grid_coordinates(steps, span)
    return [[f(a, b) for a in c] for b in c]


def test_roughness_of_surfaces_with_known_curvature():
    bowl = roughness(grid_of(lambda a, b: 1 + a * a + 2 * b * b), spacing=0.2)
    assert bowl["nonconvex_fraction"] == 0.0 and bowl["curvature_ratio"] == 0.0
    saddle = roughness(grid_of(lambda a, b: 5 + a * a - b * b), spacing=0.2)
    assert saddle["nonconvex_fraction"] == 1.0 and saddle["curvature_ratio"] == pytest.approx(1.0)
    tilted = roughness(grid_of(lambda a, b: 3 + a + 0.5 * b), spacing=0.2)  # a plane: no curvature at all
    assert tilted["curvature_ratio"] == 0.0 and tilted["nonconvex_fraction"] == 0.0
    crate = roughness(grid_of(lambda a, b: 2 + math.cos(9 * a) * math.cos(9 * b)), spacing=0.2)
    assert crate["nonconvex_fraction"] > 0.5
    assert crate["log_laplacian"] > 10 * max(bowl["log_laplacian"], tilted["log_laplacian"])


def test_roughness_needs_a_3x3_grid():
    with pytest.raises(ValueError):
        roughness([[1.0, 2.0], [3.0, 4.0]])
