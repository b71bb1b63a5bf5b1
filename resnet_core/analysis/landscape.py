"""2-D slices of the loss landscape around a net's weights, with filter-normalised random directions.

Li, Xu, Taylor, Studer & Goldstein 2018, "Visualizing the Loss Landscape of Neural Nets":

- §3: plot f(α, β) = L(θ + α·δ + β·η) for two random directions δ, η of parameter space.
- §4 ("filter normalization"): a random Gaussian direction is rescaled filter by filter,
  d_{i,j} ← d_{i,j} / ‖d_{i,j}‖ · ‖θ_{i,j}‖ (layer i, filter j = one output channel of a conv, one output
  row of a linear layer), so that a step of α = 1 moves every filter by its own size and landscapes of
  nets with different weight scales (BN makes conv weights scale-invariant) can be compared. Directions
  are zero on BatchNorm parameters and on biases (every 1-D parameter), as in the paper.
- §5–6 (Fig. 5, 7): without skip connections, deep nets' landscapes turn chaotic and strongly non-convex;
  with them they stay smooth and nearly convex. `roughness` puts a number on that for a computed grid.

The loss is the mean cross-entropy over one fixed batch, in eval mode (BN uses its running statistics,
so every grid point sees the same normalisation), on a deep copy of the net: the caller's net is never
touched. Directions come from a `torch.Generator` seeded with `seed` (on the CPU, then moved to the net's
device), so a seed names the same plane on any device.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from .lesion import analysis_copy, evaluate


def filter_normalized_direction(net: nn.Module, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """A random direction in `net`'s parameter space, filter-normalised (Li et al. 2018, §4, Eq. 1).

    Keys: `net.named_parameters()` names, same shapes and device as the parameters. For every parameter
    with two or more dimensions (conv and linear weights) each slice along dim 0 — a filter — is a Gaussian
    sample scaled to the norm of the same filter of θ (a zero filter of θ gets a zero filter). Every 1-D
    parameter (biases, BN weights and biases) gets zeros and draws no random numbers. Pure: reads `net`,
    advances only `generator`.
    """
    direction = {}
    for name, p in net.named_parameters():
        theta = p.detach()
        if theta.dim() <= 1:
            direction[name] = torch.zeros_like(theta)
            continue
        d = torch.randn(theta.shape, generator=generator, dtype=torch.float32, device=generator.device)
        d = d.to(device=theta.device, dtype=theta.dtype)
        theta_norms = theta.flatten(1).norm(dim=1)
        d_norms = d.flatten(1).norm(dim=1)
        scale = theta_norms / d_norms.clamp_min(torch.finfo(d.dtype).tiny)
        direction[name] = d * scale.view(-1, *([1] * (theta.dim() - 1)))
    return direction


def grid_coordinates(steps: int, span: float) -> list[float]:
    """`steps` evenly spaced values from -span to span. Written as span·(2j − (steps−1))/(steps−1) so the
    middle value of an odd grid is exactly 0.0 and the centre point is θ itself, bit for bit."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if steps == 1:
        return [0.0]
    return [span * (2 * j - (steps - 1)) / (steps - 1) for j in range(steps)]


def loss_landscape(
    net: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    steps: int = 11,
    span: float = 1.0,
    seed: int = 0,
    *,
    batch_size: int = 500,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict:
    """The loss on the plane θ + α·d1 + β·d2, α, β ∈ linspace(-span, span, steps) (Li et al. 2018, §3–4).

    d1 and d2 are drawn, in that order, by `filter_normalized_direction` with one
    `torch.Generator().manual_seed(seed)`. Returns (JSON-ready):

        {"alpha": [steps floats], "beta": [steps floats],
         "loss":  rows × steps nested list, loss[i][j] at (β_i, α_j)  — mean cross-entropy,
         "error": same shape, top-1 error in percent,
         "center_loss": the net's own loss (α = β = 0; equals the grid's centre for odd steps),
         "directions_seed": seed, "steps", "span", "n_images",
         "complete": False when `should_stop` ended it early (then `loss` has only the rows done),
         "roughness": `roughness(loss, spacing)`; None for fewer than 3 rows or a non-finite loss}

    `on_progress(done, total)` is called after every grid point (total = steps²); `should_stop()` is
    checked before each row. The net is left exactly as it was (the work happens on a deep copy).
    """
    coords = grid_coordinates(steps, span)
    model = analysis_copy(net)
    generator = torch.Generator().manual_seed(seed)
    d1 = filter_normalized_direction(model, generator)
    d2 = filter_normalized_direction(model, generator)
    params = [p for _, p in model.named_parameters()]
    theta = [p.detach().clone() for p in params]
    dir1 = [d1[name] for name, _ in model.named_parameters()]
    dir2 = [d2[name] for name, _ in model.named_parameters()]

    center = evaluate(model, images, labels, batch_size)["loss"]
    losses: list[list[float]] = []
    errors: list[list[float]] = []
    total, done, complete = steps * steps, 0, True
    for beta in coords:
        if should_stop is not None and should_stop():
            complete = False
            break
        loss_row, error_row = [], []
        for alpha in coords:
            with torch.no_grad():  # only the private copy's weights move
                for p, t, a, b in zip(params, theta, dir1, dir2):
                    p.copy_(t).add_(a, alpha=alpha).add_(b, alpha=beta)
            metrics = evaluate(model, images, labels, batch_size)
            loss_row.append(metrics["loss"])
            error_row.append(metrics["error"])
            done += 1
            if on_progress is not None:
                on_progress(done, total)
        losses.append(loss_row)
        errors.append(error_row)

    spacing = 2 * span / (steps - 1) if steps > 1 else None
    # A diverging corner (inf loss) leaves the grid valid but makes finite differences meaningless.
    measurable = len(losses) >= 3 and steps >= 3 and all(math.isfinite(v) for row in losses for v in row)
    return {
        "alpha": coords,
        "beta": coords,
        "loss": losses,
        "error": errors,
        "center_loss": center,
        "directions_seed": seed,
        "steps": steps,
        "span": span,
        "n_images": len(images),
        "complete": complete,
        "roughness": roughness(losses, spacing) if measurable else None,
    }


def roughness(loss: Sequence[Sequence[float]], spacing: float | None = None) -> dict[str, float]:
    """How chaotic / non-convex a loss grid is, over its interior points (loss[i][j] at β_i, α_j).

    At each interior point the 2×2 Hessian of the loss in the plane comes from central finite differences
    (Hαα, Hββ from the three-point stencil, Hαβ from the four diagonal neighbours), eigenvalues λmin ≤ λmax.
    Following Li et al. 2018 (§6, Fig. 7), who map |λmin/λmax| of the full Hessian, the planar version is

    - "curvature_ratio": mean of r = max(−λmin, 0) / max(|λmin|, |λmax|) ∈ [0, 1]: 0 where the surface
      curves up in every direction of the plane, 1 where it curves down at least as much as it curves up.
    - "nonconvex_fraction": the fraction of interior points with r > 0.01 (negative curvature above 1% of
      the largest: below that it is a flat valley floor). A convex bowl gives 0; a shattered, egg-crate
      landscape gives a large fraction.

    Curvatures smaller than 1e-6 × the largest |loss| count as 0: that is the rounding of float32 losses,
    and it keeps a plane (or a flat plateau) from scoring as non-convex.
    - "log_laplacian": mean |∇² log L| (five-point Laplacian of the log-loss), per unit α² when `spacing`
      (the grid step) is given, else per grid step². Log-loss makes it independent of the loss's scale; it
      grows with wiggles (a smooth bowl of the same depth scores low).

    Needs at least 3 rows and 3 columns.
    """
    grid = torch.tensor(loss, dtype=torch.float64)
    if grid.dim() != 2 or grid.shape[0] < 3 or grid.shape[1] < 3:
        raise ValueError(f"roughness needs a grid of at least 3×3 points, got {tuple(grid.shape)}")
    c = grid[1:-1, 1:-1]
    h_aa = grid[1:-1, 2:] - 2 * c + grid[1:-1, :-2]  # along α (columns)
    h_bb = grid[2:, 1:-1] - 2 * c + grid[:-2, 1:-1]  # along β (rows)
    h_ab = (grid[2:, 2:] - grid[2:, :-2] - grid[:-2, 2:] + grid[:-2, :-2]) / 4
    mean = (h_aa + h_bb) / 2
    radius = torch.sqrt(((h_aa - h_bb) / 2) ** 2 + h_ab**2)
    lam_min, lam_max = mean - radius, mean + radius
    largest = torch.maximum(lam_min.abs(), lam_max.abs())
    # Curvature below `tol` is float32 rounding of the losses (a plane's second differences), not shape.
    tol = 1e-6 * float(grid.abs().max())
    curved_down = (-lam_min > tol) & (largest > tol)
    ratio = torch.where(curved_down, -lam_min / largest.clamp_min(1e-300), torch.zeros_like(largest))

    log_grid = grid.clamp_min(1e-12).log()
    lc = log_grid[1:-1, 1:-1]
    laplacian = log_grid[2:, 1:-1] + log_grid[:-2, 1:-1] + log_grid[1:-1, 2:] + log_grid[1:-1, :-2] - 4 * lc
    if spacing:
        laplacian = laplacian / spacing**2
    result = {
        "curvature_ratio": float(ratio.mean()),
        "nonconvex_fraction": float((ratio > 0.01).double().mean()),
        "log_laplacian": float(laplacian.abs().mean()),
    }
    if not all(math.isfinite(v) for v in result.values()):
        raise ValueError("roughness got a grid with non-finite losses")
    return result
