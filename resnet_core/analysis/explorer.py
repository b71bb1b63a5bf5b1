"""What the Gradients and Responses pages compute: gradient profiles at initialisation, and the
aggregation that keeps 1202-layer × 10,000-step views small.

The science, as the paper tells it (He et al. 2015, §4.1): without normalisation (and with sigmoid)
gradients vanish toward the input — each sigmoid derivative is at most 0.25; *with* BN even the plain nets
keep healthy gradient norms, "so the optimization difficulty is unlikely to be caused by vanishing
gradients". Deep plain nets still train worse (degradation): that is shown on the Train page.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data.datasets import ImageDataset
from ..data.pixels import normalize, normalizer
from ..model.net import build_net
from ..model.spec import NetSpec
from .probes import gradient_norms


@dataclass(frozen=True)
class GradientProfile:
    spec: NetSpec
    names: tuple[str, ...]  # the weighted layers (net.layout.layers: convs + fc, no projections), input first
    norms: np.ndarray  # (depth,) L2 norm of each layer's weight gradient

    @property
    def indices(self) -> list[int]:
        return list(range(1, len(self.names) + 1))  # names are all of net.layout.layers, in order

    @property
    def first_last_ratio(self) -> float:
        """|∇W| of the first layer over that of the last: ≪ 1 means gradients vanish toward the input."""
        return float(self.norms[0] / self.norms[-1]) if self.norms[-1] > 0 else float("inf")


def probe_batch(data: ImageDataset, batch_size: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed, class-mixed batch of training images in the net's input space (normalised floats)."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(data.train_labels), generator=g)[:batch_size]
    scale, shift = normalizer(data.mean, data.std, torch.device("cpu"))
    return normalize(data.train_images[idx], scale, shift), data.train_labels[idx]


def init_gradient_profile(spec: NetSpec, images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> GradientProfile:
    """Per-layer gradient norms of a freshly initialised net (train mode: BN uses the batch's statistics,
    as in the first training step), on one batch."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = build_net(spec)
    net.train()
    norms = gradient_norms(net, images, labels)
    names = net.layout.weighted_layers
    return GradientProfile(spec, names, np.array([norms[n] for n in names], dtype=np.float64))


def aggregate_grid(
    values: np.ndarray, max_rows: int = 300, max_cols: int = 300
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shrink a (positions, layers) array of positive values to at most max_cols × max_rows cells by
    averaging log10 values in buckets. Returns (grid (rows=layers, cols=positions), the first position
    index of each column, the first layer index of each row)."""
    logs = np.log10(np.clip(values.astype(np.float64), 1e-30, None))  # (P, L)
    P, L = logs.shape
    col_edges = np.linspace(0, P, min(P, max_cols) + 1).astype(int)
    row_edges = np.linspace(0, L, min(L, max_rows) + 1).astype(int)
    cols = np.add.reduceat(logs, col_edges[:-1], axis=0) / np.diff(col_edges)[:, None]  # (C, L)
    grid = np.add.reduceat(cols, row_edges[:-1], axis=1) / np.diff(row_edges)[None, :]  # (C, R)
    return grid.T, col_edges[:-1], row_edges[:-1]


BOOTSTRAP_SAMPLES = 4000


def mean_difference_ci(a, b, paired: bool, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """mean(a) − mean(b) over layers and a bootstrap confidence interval for it: resampling the layers
    (paired: the same layers of both nets, i.e. the per-layer differences; else each net's layers apart).
    Returns (estimate, low, high). Seeded, so the same runs always get the same verdict."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    rng = np.random.default_rng(seed)
    if paired:
        d = a - b
        boots = d[rng.integers(0, len(d), (BOOTSTRAP_SAMPLES, len(d)))].mean(axis=1)
        estimate = float(d.mean())
    else:
        boots = a[rng.integers(0, len(a), (BOOTSTRAP_SAMPLES, len(a)))].mean(axis=1) - b[
            rng.integers(0, len(b), (BOOTSTRAP_SAMPLES, len(b)))
        ].mean(axis=1)
        estimate = float(a.mean() - b.mean())
    low, high = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return estimate, float(low), float(high)


def _verdict(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray, subject: str) -> tuple[bool | None, str]:
    """Whether a's responses are smaller than b's, by a margin the spread across layers cannot produce."""
    paired = len(a) == len(b)
    head = f"{name_a}: {a.mean():.3f} vs {name_b}: {b.mean():.3f}"
    if min(len(a), len(b)) < 3:
        return None, f"{head} — too close to call: too few layers to tell a difference from noise"
    estimate, low, high = mean_difference_ci(a, b, paired)
    how = "per-layer differences" if paired else "layers of each net"
    spread = f"mean difference {estimate:+.3f}, 95% bootstrap CI {low:+.3f} to {high:+.3f} over the {how}"
    if high < 0:
        return True, f"{head} — {subject} responses are smaller ({spread})"
    if low > 0:
        return False, f"{head} — {subject} responses are larger ({spread})"
    return None, f"{head} — too close to call: {subject} responses are neither clearly smaller nor larger ({spread})"


def fig7_findings(responses: dict[NetSpec, np.ndarray]) -> list[tuple[bool | None, str]]:
    """Check the user's runs against the paper's Fig. 7 (§4.2): "ResNets have generally smaller responses
    than their plain counterparts" and "the deeper ResNet has smaller magnitudes of responses".

    `responses`: each run's response std per layer (one epoch). Returns (agrees, sentence) per comparison
    that the runs allow: each plain/residual pair of the same net (compared layer by layer), and each pair
    of ResNets of different depth that differ in nothing else (their layers resampled apart). `agrees` is
    None — "too close to call" — unless the 95% bootstrap interval of the mean difference excludes 0: a
    verdict needs a margin that the spread across layers cannot produce.
    """
    responses = {spec: np.asarray(v, dtype=np.float64).ravel() for spec, v in responses.items()}
    findings = []
    for spec, values in responses.items():
        twin = spec.replace(skip=True)
        if not spec.skip and twin in responses:
            findings.append(_verdict(twin.name, responses[twin], spec.name, values, "the ResNet's"))
    residual = sorted((s for s in responses if s.skip), key=lambda s: s.depth)
    for shallow, deep in zip(residual, residual[1:]):
        if deep.replace(depth=shallow.depth) == shallow:
            findings.append(
                _verdict(deep.name, responses[deep], shallow.name, responses[shallow], "the deeper ResNet's")
            )
    return findings


def describe_ratio(ratio: float) -> str:
    """Words for a first-layer ÷ last-layer gradient ratio, honest about both directions."""
    if not np.isfinite(ratio):  # inf, or nan from inf/inf: float32 overflowed on the way to the input
        return "explode toward the input: the first layers' gradients overflow float32 (they are infinite)"
    if ratio == 0.0:
        return "vanish completely toward the input (the first layer's gradient underflows to 0)"
    if ratio < 1e-2:
        return f"vanish toward the input: the first layer's gradient is {ratio:.1e} × the last layer's"
    if ratio > 1e2:
        return f"grow toward the input: the first layer's gradient is {ratio:.3g} × the last layer's"
    return f"stay within two orders of magnitude from input to output (first ÷ last = {ratio:.3g})"


NORM_WORDS = {"batch": "BatchNorm", "none": "no normalisation"}


def typical_norm(norms) -> float:
    """The overall scale of a profile: the median over layers, taken on a log scale (zeros count as tiny)."""
    norms = np.asarray(norms, dtype=np.float64)
    return float(10 ** np.median(np.log10(np.clip(norms, 1e-300, None))))


def magnitude(value: float) -> str:
    """ "~1e8", "~1e-4": an order of magnitude, as the log-scale chart shows it."""
    if not np.isfinite(value):
        return "infinite"
    return f"~1e{round(float(np.log10(max(value, 1e-300))))}"


def _ratio(norms: np.ndarray) -> float:
    return float(norms[0] / norms[-1]) if norms[-1] > 0 else float("inf")


def describe_profile(label: str, norms) -> str:
    """One sentence about one drawn profile: its overall scale, first ÷ last, and where a drop happens."""
    norms = np.asarray(norms, dtype=np.float64)
    text = (
        f"{label}: gradient norms {magnitude(typical_norm(norms))} (median over its {len(norms)} layers); "
        f"they {describe_ratio(_ratio(norms))}"
    )
    body = norms[:-1]
    if len(norms) > 2 and body.min() > 0 and norms[-1] > 100 * body.max() and body.max() < 100 * body.min():
        text += (
            f" — all at once below the classifier: every layer before it lies between {body.min():.1e} and "
            f"{body.max():.1e}, the last layer's is {norms[-1]:.2g}"
        )
    return text + "."


def compare_scales(profiles: list[tuple[str, NetSpec, np.ndarray]]) -> str | None:
    """Which drawn net's norms dominate, when two differ by two orders of magnitude or more, and why, as far
    as the settings tell: without normalisation a ResNet's stream adds up every block's output."""
    if len(profiles) != 2:
        return None
    (la, sa, a), (lb, sb, b) = profiles
    ta, tb = typical_norm(a), typical_norm(b)
    gap = float(np.log10(max(ta, 1e-300)) - np.log10(max(tb, 1e-300)))
    if abs(gap) < 2:
        return f"{la} and {lb} have norms of a similar overall scale ({magnitude(ta)} and {magnitude(tb)})."
    (lbig, sbig, tbig), (lsmall, _, tsmall) = ((la, sa, ta), (lb, sb, tb)) if gap > 0 else ((lb, sb, tb), (la, sa, ta))
    text = (
        f"{lbig}'s norms ({magnitude(tbig)}) are {abs(gap):.0f} orders of magnitude above {lsmall}'s "
        f"({magnitude(tsmall)}): on the log scale {lbig} dominates the chart."
    )
    if sbig.skip and sbig.norm == "none" and tbig > 1e3:  # healthy norms are ~1e-2…1e1
        text = (
            "**Without normalisation the residual stream's scale explodes**: every block adds its branch's "
            "output to the stream and nothing rescales it, so the gradients grow with it. " + text
        )
    return text


def explain_init_profiles(residual: GradientProfile, plain: GradientProfile) -> list[str]:
    """The Gradients page's explanation of the two profiles it draws, computed from them: each net's scale and
    first ÷ last ratio, which net dominates, and only the mechanisms the numbers show."""
    spec = residual.spec
    paragraphs = [describe_profile(p.spec.name, p.norms) for p in (residual, plain)]
    scales = compare_scales([(p.spec.name, p.spec, p.norms) for p in (residual, plain)])
    if scales:
        paragraphs.append(scales)
    vanishing = [p.spec.name for p in (residual, plain) if _ratio(p.norms) < 1e-2]
    if vanishing and spec.activation == "sigmoid":
        if spec.norm == "none":
            paragraphs.append(
                "**Why they vanish:** a sigmoid's derivative is at most 0.25, so every layer without "
                "normalisation shrinks the gradient."
                + (
                    ""
                    if spec.preact
                    else " In the original ResNet the sigmoid comes *after* the "
                    "addition, so the shortcut path passes through one in every block too — turn on "
                    "pre-activation for a clean identity path."
                )
            )
        else:
            paragraphs.append(
                f"**Even with BatchNorm, {' and '.join(vanishing)} lose their gradient toward the "
                "input here**: BatchNorm normalises each layer's input, but a sigmoid's derivative is "
                "at most 0.25 and the gradient passes through the sigmoids on its way down."
            )
    elif vanishing:
        paragraphs.append(f"The gradients of {' and '.join(vanishing)} vanish toward the input here.")
    elif spec.norm == "batch":
        grows = _ratio(plain.norms) > 1e2
        paragraphs.append(
            "**With BatchNorm nothing vanishes here**, not even in the plain net"
            + (" (its gradients even *grow* toward the input)" if grows else "")
            + ". So why do deep plain nets still end with a *higher training error*? The paper (§4.1) "
            "calls it an optimisation difficulty — degradation."
        )
    return paragraphs
