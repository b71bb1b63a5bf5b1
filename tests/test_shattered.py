"""Shattered gradients (Balduzzi et al. 2017): the autocorrelation on series with known answers, the toy's
plain-vs-residual contrast, and input gradients along a line checked against finite differences."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

import resnet_core as rc
from resnet_core.analysis.lesion import analysis_copy
from resnet_core.analysis.shattered import (
    autocorrelation,
    initialised_net,
    input_gradients_along_line,
    line_gradients,
    toy_shattered,
)

# --- autocorrelation ------------------------------------------------------------------------------------


def test_white_noise_is_uncorrelated_and_lag_zero_is_one():
    noise = torch.randn(4096, generator=torch.Generator().manual_seed(0))
    r = autocorrelation(noise, 10)
    assert len(r) == 11 and r[0] == 1.0
    assert all(abs(v) < 0.15 for v in r[1:]), r


def test_a_smooth_curve_is_highly_correlated():
    r = autocorrelation(torch.sin(torch.linspace(0, 4 * math.pi, 4096)), 5)
    assert r[1] > 0.99 and r[5] > 0.99


def test_autocorrelation_known_values():
    alternating = [(-1.0) ** i for i in range(100)]
    assert autocorrelation(alternating, 2) == pytest.approx([1.0, -0.99, 0.98])  # r_k = ±(n − k)/n
    assert autocorrelation([1.0, 2.0, 3.0], 1) == pytest.approx([1.0, 0.0])  # (−1·0 + 0·1) / 2
    r = autocorrelation([5.0] * 10, 2)
    assert r[0] == 1.0 and all(math.isnan(v) for v in r[1:])
    with pytest.raises(ValueError):
        autocorrelation([1.0, 2.0], 2)


def test_brown_noise_is_more_correlated_than_white():
    g = torch.Generator().manual_seed(1)
    white = torch.randn(1024, generator=g)
    brown = torch.cumsum(white, 0)
    assert autocorrelation(brown, 1)[1] > 0.9 > 0.15 > abs(autocorrelation(white, 1)[1])


# --- the toy experiment ---------------------------------------------------------------------------------


def lag1(depth: int, skip: bool, seeds=range(5)) -> float:
    return sum(toy_shattered(depth, skip, seed=s)["autocorrelation"][1] for s in seeds) / len(seeds)


def test_deep_plain_gradients_shatter_and_resnet_gradients_do_not():
    plain, residual = lag1(50, skip=False), lag1(50, skip=True)
    assert plain < 0.3, plain  # close to white noise (Fig. 1b)
    assert residual > 0.5, residual  # still correlated (Fig. 1c)
    assert residual - plain > 0.3


def test_shattering_grows_with_depth_in_a_plain_net():
    assert lag1(1, skip=False) > 0.8 > lag1(24, skip=False)  # brown noise (Fig. 1a) → white noise


def test_toy_is_deterministic_and_well_formed():
    a = toy_shattered(10, True, points=64, seed=3, max_lag=5)
    assert a == toy_shattered(10, True, points=64, seed=3, max_lag=5)
    assert a["x"][0] == -2.0 and a["x"][-1] == 2.0
    assert len(a["x"]) == len(a["gradient"]) == len(a["output"]) == 64
    assert len(a["autocorrelation"]) == 6 and a["autocorrelation"][0] == 1.0
    assert toy_shattered(10, True, points=64, seed=4)["gradient"] != a["gradient"]


def interval_slopes(result: dict) -> tuple[torch.Tensor, torch.Tensor]:
    x, y, g = (torch.tensor(result[k], dtype=torch.float64) for k in ("x", "output", "gradient"))
    return (y[1:] - y[:-1]) / (x[1:] - x[:-1]), g


def test_toy_gradient_is_the_derivative_of_its_output():
    """With BN statistics fixed the toy is piecewise linear in x. Depth 0 (residual: just the input layer
    and the readout) is linear: the gradient is its exact slope. A shallow net has a kink in some grid
    intervals: there the average slope lies between the gradients at the two ends."""
    slopes, g = interval_slopes(toy_shattered(0, True, seed=0))
    torch.testing.assert_close(slopes, g[:-1], rtol=1e-4, atol=1e-5)
    assert torch.all(g == g[0])

    slopes, g = interval_slopes(toy_shattered(1, False, seed=0))
    tol = 1e-3 * g.abs().max()
    lo, hi = torch.minimum(g[:-1], g[1:]) - tol, torch.maximum(g[:-1], g[1:]) + tol
    assert ((slopes >= lo) & (slopes <= hi)).double().mean() > 0.9  # a few intervals hold 2+ kinks


# --- gradients of an image classifier along a line ------------------------------------------------------


def smooth_net() -> nn.Module:
    """A tanh net in float64: smooth, so central differences are accurate."""
    torch.manual_seed(0)
    net = rc.build_net(rc.NetSpec(depth=8, width=4, activation="tanh")).double()
    net.train()
    with torch.no_grad():
        net(torch.randn(16, 3, 32, 32, dtype=torch.float64))  # non-trivial BN running statistics
    return net.eval()


def test_line_gradient_is_the_derivative_along_the_line():
    net = smooth_net()
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(3, 32, 32, generator=g).double(), torch.randn(3, 32, 32, generator=g).double()
    net.train()  # gradients are taken in eval mode whatever mode the net is in
    result = input_gradients_along_line(net, a, b, points=9, batch_size=4)
    model = copy.deepcopy(net).eval()
    with torch.no_grad():
        target = int(model(a[None]).argmax())
        assert result["target"] == target
        h = 1e-5
        for t, grad, logit in zip(result["t"], result["gradient"], result["logit"]):
            f = lambda s: model(((1 - s) * a + s * b)[None])[0, target].item()  # noqa: E731
            assert logit == pytest.approx(f(t), rel=1e-9, abs=1e-9)
            assert grad == pytest.approx((f(t + h) - f(t - h)) / (2 * h), rel=1e-5, abs=1e-7)
    assert result["t"][0] == 0.0 and result["t"][-1] == 1.0 and len(result["gradient"]) == 9
    assert all(n > 0 for n in result["gradient_norm"])


def test_line_gradient_uses_the_requested_target_and_leaves_the_net_alone():
    torch.manual_seed(0)
    net = rc.build_net(rc.NetSpec(depth=8, width=4))
    net.train()
    for p in list(net.parameters())[::2]:
        p.grad = torch.randn_like(p)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    grads = [None if p.grad is None else p.grad.clone() for p in net.parameters()]
    a, b = torch.randn(3, 32, 32), torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        logits_a = analysis_copy(net)(a[None])[0]
    for target in (3, 7):
        result = input_gradients_along_line(net, a, b, points=5, target=target)
        assert result["target"] == target
        assert result["logit"][0] == pytest.approx(logits_a[target].item(), rel=1e-5)
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in state.items())
    assert net.training and all(m.training for m in net.modules())
    assert all(p.requires_grad for p in net.parameters())
    for old, p in zip(grads, net.parameters()):
        assert (old is None and p.grad is None) or torch.equal(old, p.grad)
    assert all(not m._forward_hooks for m in net.modules())


def test_trained_and_initial_lines_follow_the_trained_nets_class():
    """The Why page compares a trained net's line with a fresh net of the same architecture: both follow the
    logit of the class the trained net predicts at the first image, and the fresh net depends on the seed
    only (not on the global RNG)."""
    spec = rc.NetSpec(depth=8, width=4)
    torch.manual_seed(1)  # "trained": other weights than the fresh net's (seed 0)
    net = rc.build_net(spec).eval()
    a, b = torch.randn(3, 32, 32), torch.randn(3, 32, 32)
    trained = line_gradients(net, spec, a, b, points=16)
    assert trained["target"] == int(analysis_copy(net)(a[None]).argmax())
    assert trained["autocorrelation"][0] == 1.0 and len(trained["autocorrelation"]) == 16  # lags 0..15
    torch.manual_seed(123)  # the global RNG does not change the fresh net
    initial = line_gradients(net, spec, a, b, points=16, weights="initial")
    assert initial["target"] == trained["target"] and initial["gradient"] != trained["gradient"]
    fresh = initialised_net(spec, 0)
    assert initial["gradient"] == input_gradients_along_line(fresh, a, b, 16, target=trained["target"])["gradient"]
    assert not fresh.training
    with pytest.raises(ValueError, match="weights"):
        line_gradients(net, spec, a, b, weights="final")
