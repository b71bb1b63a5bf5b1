"""Shattered gradients: how the gradient of a net's output w.r.t. its input varies between nearby inputs.

Balduzzi, Frean, Leary, Lewis, Ma & McWilliams 2017, "The Shattered Gradients Problem: If resnets are the
answer, then what is the question?" §2 and Fig. 1–2: feed a 1-D grid of inputs to a fully-connected
ReLU net with batch normalisation and plot d output / d input along the grid. A shallow net's gradient
looks like brown noise (a random walk: neighbours strongly correlated); a deep plain net's looks like
white noise (neighbours uncorrelated — "shattered"); a deep ResNet's stays correlated, its correlation
decaying sublinearly with depth instead of exponentially. The autocorrelation function of the gradient
series measures it (Fig. 2).

- `toy_shattered`: that experiment at initialisation, plain vs residual.
- `input_gradients_along_line`: the same question for an image classifier: the gradient of one logit
  along the straight line between two images, as one number per point.
- `line_gradients`: that line for a trained net or for the same architecture freshly
  initialised (the paper's claim is about initialisation; training may change it), with autocorrelations.
- `autocorrelation`: the normalised sample autocorrelation used for both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..model.net import build_net
from ..model.spec import NetSpec
from .lesion import analysis_copy, device_of

MAX_LAG = 20  # lags of the autocorrelation shown (Balduzzi et al. 2017, Fig. 2, plot a few tens)


def autocorrelation(series: Sequence[float] | torch.Tensor, max_lag: int) -> list[float]:
    """Normalised sample autocorrelation r_0..r_max_lag of a 1-D series (Balduzzi et al. 2017, Fig. 2).

    r_k = Σ_i (x_i − x̄)(x_{i+k} − x̄) / Σ_i (x_i − x̄)², the standard (biased) estimator: r_0 = 1 and
    |r_k| ≤ 1. White noise gives r_k ≈ 0 (± ~1/√n) for k ≥ 1; a smooth curve sampled finely gives r_1 ≈ 1.
    A constant series has no variance to correlate: lags ≥ 1 are NaN then.
    """
    x = torch.as_tensor(series, dtype=torch.float64).flatten()
    n = x.numel()
    if not 0 <= max_lag < n:
        raise ValueError(f"max_lag must be between 0 and {n - 1} (the series has {n} points), got {max_lag}")
    x = x - x.mean()
    energy = float((x * x).sum())
    if energy == 0.0:
        return [1.0] + [math.nan] * max_lag
    return [1.0] + [float((x[: n - k] * x[k:]).sum()) / energy for k in range(1, max_lag + 1)]


def input_gradients_along_line(
    net: nn.Module,
    a: torch.Tensor,
    b: torch.Tensor,
    points: int = 256,
    *,
    target: int | None = None,
    batch_size: int = 64,
) -> dict:
    """Gradient of one logit along the segment x_t = (1 − t)·a + t·b, t = linspace(0, 1, points).

    `a`, `b`: two inputs of the net's input shape (C×H×W, or 1×C×H×W), in its input space. The scalar
    output is the logit of class `target`; by default the class the net predicts at t = 0 (for a), kept
    fixed along the whole line — one scalar function, like the single output of the paper's 1-D toy. Its
    gradient ∇_x logit is reduced to one number per point, its component along the line:

        gradient[t] = ⟨∇_x logit(x_t), b − a⟩ = d/dt logit(x_t),

    i.e. the exact derivative of the net restricted to the line, a 1-D function of t as in §2 of the
    paper. Eval mode (BN uses its running statistics, so points do not interact) on a deep copy: the net
    is left exactly as it was. Returns (JSON-ready):

        {"t": [points], "gradient": [points], "logit": [points], "gradient_norm": [points] (‖∇_x logit‖),
         "target": int}
    """
    if points < 2:
        raise ValueError(f"points must be at least 2, got {points}")
    a, b = _one_image(a, "a"), _one_image(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    model = analysis_copy(net)  # frozen parameters: autograd computes the input gradient only
    device = device_of(model)
    dtype = next(model.parameters()).dtype
    a = a.unsqueeze(0).to(device=device, dtype=dtype)
    b = b.unsqueeze(0).to(device=device, dtype=dtype)
    delta = b - a
    t = torch.linspace(0, 1, points, dtype=torch.float64)
    if target is None:
        with torch.no_grad():
            target = int(model(a).argmax(dim=1))
    grads, logits, norms = [], [], []
    with torch.enable_grad():
        for start in range(0, points, batch_size):
            tt = t[start : start + batch_size].to(device=device, dtype=dtype).view(-1, 1, 1, 1)
            x = ((1 - tt) * a + tt * b).requires_grad_(True)
            logit = model(x)[:, target]
            (g,) = torch.autograd.grad(logit.sum(), x)  # rows are independent in eval mode
            grads.append((g * delta).flatten(1).sum(dim=1).detach())
            norms.append(g.flatten(1).norm(dim=1).detach())
            logits.append(logit.detach())
    return {
        "t": t.tolist(),
        "gradient": torch.cat(grads).double().cpu().tolist(),
        "logit": torch.cat(logits).double().cpu().tolist(),
        "gradient_norm": torch.cat(norms).double().cpu().tolist(),
        "target": target,
    }


def initialised_net(spec: NetSpec, seed: int = 0) -> nn.Module:
    """A fresh net of architecture `spec`, its weights drawn from `seed` without touching the global RNG,
    in eval mode (BN with its initial running statistics: mean 0, variance 1)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_net(spec).eval()


def line_gradients(
    net: nn.Module,
    spec: NetSpec,
    a: torch.Tensor,
    b: torch.Tensor,
    points: int = 256,
    *,
    weights: str = "trained",
    init_seed: int = 0,
    max_lag: int = MAX_LAG,
) -> dict:
    """`input_gradients_along_line` between `a` and `b` for the trained `net` (`weights="trained"`) or for a
    fresh net of its architecture (`"initial"`: `initialised_net(spec, init_seed)`), with "autocorrelation"
    (lags 0..max_lag) added. Both follow the logit of the class the trained net predicts at `a`, so the
    trained and the fresh line are the same function of the same class, before and after training.
    """
    if weights not in ("trained", "initial"):
        raise ValueError(f"weights must be 'trained' or 'initial', got {weights!r}")
    with torch.no_grad():
        model = analysis_copy(net)
        x = _one_image(a, "a").unsqueeze(0).to(device=device_of(model), dtype=next(model.parameters()).dtype)
        target = int(model(x).argmax(dim=1))
    chosen = net if weights == "trained" else initialised_net(spec, init_seed)
    result = input_gradients_along_line(chosen, a, b, points, target=target)
    result["autocorrelation"] = autocorrelation(result["gradient"], min(max_lag, points - 1))
    return result


def toy_shattered(
    depth: int,
    skip: bool,
    points: int = 256,
    seed: int = 0,
    *,
    width: int = 200,
    max_lag: int = MAX_LAG,
) -> dict:
    """The paper's 1-D experiment (Balduzzi et al. 2017, §2, Fig. 1–2) on a freshly initialised net.

    Input: `points` scalars evenly spaced on [-2, 2], fed as one batch. The net (width 200, as in the
    paper; weights from a `torch.Generator` seeded with `seed`):

    - input layer: h = x·w + c, w, c ~ N(0, 1) per unit (a random bias spreads the first layer's kinks
      over the interval, so even a shallow net has a random-walk, "brown noise" gradient);
    - plain (`skip=False`): h ← ReLU(BN(h)), then `depth` times h ← ReLU(BN(W·h));
    - residual (`skip=True`): `depth` times h ← h + W·ReLU(BN(h)) (a pre-activation block, He et al. 2016);
    - W ~ N(0, 2/width) (He init), readout y = v·h with v ~ N(0, 1/width).

    BN normalises each unit with the mean and variance over the batch of grid points (as in a training
    step; γ = 1, β = 0 at initialisation). Those statistics are held fixed for the derivative, so
    gradient[i] is dy/dx at x_i of the function the net computes — the paper's "gradient of the output
    with respect to the input" at each point. The statistics are what make the net non-trivial: without
    BN or biases a ReLU net of a scalar input is linear on each side of 0.

    Returns {"x": [points], "output": [points], "gradient": [points], "autocorrelation": lags 0..max_lag of
    the gradient, "depth", "skip", "width", "seed"}. Runs on the CPU in float32 (depth 50: a few tens of ms).
    """
    if depth < 0:
        raise ValueError(f"depth must be 0 or more, got {depth}")
    g = torch.Generator().manual_seed(seed)
    x = torch.linspace(-2.0, 2.0, points).unsqueeze(1).requires_grad_(True)  # (P, 1)
    with torch.enable_grad():
        h = x * torch.randn(1, width, generator=g) + torch.randn(width, generator=g)
        if not skip:
            h = torch.relu(_batch_norm(h))
        for _ in range(depth):
            w = torch.randn(width, width, generator=g) * math.sqrt(2.0 / width)
            if skip:
                h = h + torch.relu(_batch_norm(h)) @ w
            else:
                h = torch.relu(_batch_norm(h @ w))
        v = torch.randn(width, 1, generator=g) / math.sqrt(width)
        y = (h @ v).squeeze(1)
        (grad,) = torch.autograd.grad(y.sum(), x)  # points are independent once BN statistics are fixed
    gradient = grad.squeeze(1).double()
    return {
        "x": x.detach().squeeze(1).double().tolist(),
        "output": y.detach().double().tolist(),
        "gradient": gradient.tolist(),
        "autocorrelation": autocorrelation(gradient, min(max_lag, points - 1)),
        "depth": depth,
        "skip": skip,
        "width": width,
        "seed": seed,
    }


def _one_image(x: torch.Tensor, name: str) -> torch.Tensor:
    """C×H×W from C×H×W or 1×C×H×W."""
    if x.dim() == 4 and x.shape[0] == 1:
        x = x[0]
    if x.dim() != 3:
        raise ValueError(f"{name} must be one image, C×H×W or 1×C×H×W; got shape {tuple(x.shape)}")
    return x


def _batch_norm(z: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """BN over the batch (dim 0) with the statistics detached: constants for the input gradient."""
    mean = z.mean(dim=0, keepdim=True).detach()
    var = z.var(dim=0, unbiased=False, keepdim=True).detach()
    return (z - mean) / torch.sqrt(var + eps)
