"""Speed targets of the interactive pages, measured (never asserted in tests): `python -m resnet_core bench --pages`.

- Gradients page: the per-layer gradient profile of a fresh 110-layer net, residual and plain (target < 2 s).
- Explain page: integrated gradients (50 steps) + Grad-CAM + saliency on one 32×32 image, ResNet-56 (< 2 s).
- Live pages: reading a run's metrics from a store holding 100 runs × 10,000 steps (all, and "since step k").
- Why page: the lesion study of ResNet-56 over its 27 blocks on 1,000 test images (target < 15 s), the default
  landscape of ResNet-20 (11 × 11 points on 256 images, < 90 s) and the shattered-gradients toy at depth 50,
  residual and plain (< 2 s). The cost does not depend on the weights, so fresh nets stand in for trained ones.
Medians over repeats, one untimed warm-up each (the landscape, a minute long, once).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import torch

from ..analysis.attributions import explain
from ..analysis.landscape import loss_landscape
from ..analysis.lesion import lesion
from ..analysis.profiles import batch_fingerprint, init_gradient_profile, kept_profiles, probe_batch, profile_key
from ..analysis.shattered import toy_shattered
from ..data.datasets import ImageDataset
from ..data.pixels import to_input
from ..model.net import build_net
from ..model.spec import NetSpec
from ..store.run_store import RunStore

METHODS = ("integrated_gradients", "gradcam", "saliency", "occlusion", "smoothgrad")


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gradient_profile_seconds(data: ImageDataset, depth: int = 110, batch_size: int = 64, repeats: int = 5) -> float:
    """What the Gradients page computes on a cache miss: both twins' init profiles on one batch."""
    images, labels = probe_batch(data, batch_size)
    spec = NetSpec(depth=depth)
    return _median_seconds(
        lambda: [init_gradient_profile(spec.replace(skip=s), images, labels) for s in (True, False)], repeats
    )


def gradient_page_seconds(data: ImageDataset, depth: int = 1202, batch_size: int = 64, repeats: int = 5) -> float:
    """What the Gradients page does at `depth` with its default settings, from nothing cached: the probe
    batch, the kept profiles (a 1202-layer pair is never computed on open: BENCHMARKS.md, "Gradients at 1202
    layers"), the words and verdict, and the figure. Falls back to computing when nothing is kept."""
    from ..presentation.charts import LayerSeries, layer_profile_figure
    from ..presentation.gradient_text import explain_init_profiles, init_verdicts

    def page() -> None:
        images, labels = probe_batch(data, batch_size)
        kept = kept_profiles()
        specs = [NetSpec(depth=depth, skip=s) for s in (True, False)]
        fingerprint = batch_fingerprint(images, labels)
        residual, plain = (kept.get(profile_key(spec, fingerprint)) for spec in specs)
        if residual is None or plain is None:
            residual, plain = (init_gradient_profile(spec, images, labels) for spec in specs)
        explain_init_profiles(residual, plain), init_verdicts(residual, plain)
        layer_profile_figure(
            [LayerSeries(p.spec.name, "#000", p.names, p.norms, p.indices) for p in (residual, plain)], "", ""
        )

    return _median_seconds(page, repeats)


def store_read_seconds(runs: int = 100, steps: int = 10_000, repeats: int = 20) -> dict[str, float]:
    """A store with `runs` × `steps` step rows; the live view's reads of one run."""
    with tempfile.TemporaryDirectory() as root:
        store = RunStore(root)
        ids = []
        for _ in range(runs):
            run_id = store.create(NetSpec(), {})
            store.add_steps(
                run_id,
                [
                    {"step": s, "epoch": s / 391, "loss": 1.0, "error": 0.5, "lr": 0.1, "images_per_second": 700.0}
                    for s in range(1, steps + 1)
                ],
            )
            ids.append(run_id)
        target = ids[runs // 2]
        result = {
            "all_steps_of_one_run": _median_seconds(lambda: store.steps(target), repeats),
            "last_100_steps_of_one_run": _median_seconds(lambda: store.steps(target, since_step=steps - 100), repeats),
            "list_runs": _median_seconds(store.list, repeats),
        }
        store.close()
        return result


def why_seconds(
    data: ImageDataset,
    lesion_depth: int = 56,
    landscape_depth: int = 20,
    lesion_images: int = 1000,
    landscape_steps: int = 11,
    landscape_images: int = 256,
    toy_depth: int = 50,
    repeats: int = 3,
) -> dict[str, float]:
    """The Why page's three computations on the page's default sizes (fresh nets of the same shape)."""
    n = min(lesion_images, len(data.test_labels))
    images = to_input(data.test_images[:n], data.mean, data.std)
    labels = data.test_labels[:n]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        deep, shallow = build_net(NetSpec(depth=lesion_depth)).eval(), build_net(NetSpec(depth=landscape_depth))
    start = time.perf_counter()
    loss_landscape(shallow.eval(), images[:landscape_images], labels[:landscape_images], steps=landscape_steps)
    landscape = time.perf_counter() - start
    return {
        "lesion_seconds": _median_seconds(lambda: lesion(deep, images, labels), repeats),
        "landscape_seconds": landscape,
        "shattered_toy_seconds": _median_seconds(lambda: [toy_shattered(toy_depth, s) for s in (True, False)], repeats),
    }


def run_page_benchmarks(data: ImageDataset, log=print) -> dict:

    log(f"torch threads: {torch.get_num_threads()}")
    report: dict[str, Any] = {"gradient_profile_110_seconds": gradient_profile_seconds(data)}
    log(
        f"Gradients page, 110 layers, residual + plain at init: {report['gradient_profile_110_seconds']:.2f} s "
        "(target < 2 s)"
    )
    report["gradient_page_1202_seconds"] = gradient_page_seconds(data)
    log(
        f"Gradients page at 1202 layers (default settings, nothing cached): "
        f"{report['gradient_page_1202_seconds']:.2f} s (target ≤ 3 s; ≤ 5 s with a run training)"
    )
    explain = bench_explain(depth=56)
    report["explain"] = explain
    log(
        f"Explain page, ResNet-56, IG(50) + Grad-CAM + saliency: {explain['total']:.2f} s (target < 2 s); "
        "per method: " + ", ".join(f"{k} {explain[k]:.3f} s" for k in METHODS)
    )
    reads = store_read_seconds()
    report["store_reads"] = reads
    log("Run store with 100 runs × 10,000 steps: " + ", ".join(f"{k} {1000 * v:.1f} ms" for k, v in reads.items()))
    why = why_seconds(data)
    report["why"] = why
    log(
        f"Why page: lesion of ResNet-56 (27 blocks, 1,000 images) {why['lesion_seconds']:.1f} s (target < 15 s); "
        f"landscape of ResNet-20 (11 × 11, 256 images) {why['landscape_seconds']:.1f} s (< 90 s); "
        f"shattered toy at depth 50 {why['shattered_toy_seconds']:.2f} s (< 2 s)"
    )
    return report


def bench_explain(
    depth: int = 56, repeats: int = 5, image_size: int = 32, device: str = "cpu", threads: int | None = None
) -> dict:
    """Median seconds of integrated gradients (50 steps), Grad-CAM and saliency on one 32×32 image with a
    ResNet-`depth` (random weights: the cost does not depend on them), and their total per repeat; plus
    occlusion (default window) and SmoothGrad (25 samples) on their own. One untimed warm-up.

    `threads`: torch's intra-op threads for the measurement (restored after); None keeps the current
    setting. On a CPU shared with a training run one thread beats two (see BENCHMARKS.md, 'Interactive pages').
    """
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _bench_explain(depth, repeats, image_size, device)
    finally:
        torch.set_num_threads(before)


def _bench_explain(depth: int, repeats: int, image_size: int, device: str) -> dict:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = build_net(NetSpec(depth=depth)).to(device)
        x = torch.randn(1, 3, image_size, image_size, device=device)
    core = ("integrated_gradients", "gradcam", "saliency")
    extra = ("occlusion", "smoothgrad")
    times: dict[str, list[float]] = {m: [] for m in core + extra}
    totals = []
    for repeat in range(repeats + 1):
        total = 0.0
        for method in core + extra:
            start = time.perf_counter()
            explain(net, x, method, target=0)
            seconds = time.perf_counter() - start
            if repeat:  # the first round warms up (allocator, kernels, Captum's imports)
                times[method].append(seconds)
                total += seconds if method in core else 0.0
        if repeat:
            totals.append(total)
    result: dict[str, Any] = {m: statistics.median(t) for m, t in times.items()}
    result.update(
        total=statistics.median(totals),
        depth=depth,
        repeats=repeats,
        image_size=image_size,
        device=str(device),
        threads=torch.get_num_threads(),
    )
    return result
