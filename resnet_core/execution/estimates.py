"""How long a run would train here, from how fast earlier runs trained on this kind of device.

Training time grows with the multiply-adds per image (the paper's FLOPs, Table 1) times the images seen;
each stored run measured its images per second in every epoch, so multiply-adds per image × images per
second is this device's rate. Small nets reach a lower rate (per-step overheads weigh more), so the estimate
takes the median rate of the few runs nearest the planned net in multiply-adds — a guide (batch size and
other runs sharing the CPU move it), never a cap.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from ..model.spec import NetSpec
from ..store.protocol import RunReader


@dataclass(frozen=True)
class Estimate:
    seconds: float  # the planned run's training steps (test passes not counted)
    runs: int  # how many earlier runs the rate comes from


def device_kind(label: str | None) -> str:
    """ "CPU (2 cores, 2 threads)" -> "CPU"; "NVIDIA H200 (CUDA)" -> "NVIDIA H200": the device without the
    thread count, which changes while runs share a CPU."""
    return (label or "").split(" (")[0]


def measured_rates(
    store: RunReader, device_label: str, macs_of: Callable[[NetSpec], int], limit: int = 20
) -> list[tuple[int, float]]:
    """(multiply-adds per image, multiply-adds per second) of up to `limit` most recent runs with a finished
    epoch on this device kind (`macs_of(spec)`: multiply-adds per image, e.g. from `summarize`)."""
    rates = []
    for run in reversed(store.list()):
        if device_kind(run.device) != device_kind(device_label):
            continue
        speeds = [e["images_per_second"] for e in store.epochs(run.id) if e.get("images_per_second")]
        if speeds:
            macs = macs_of(run.spec)
            rates.append((macs, macs * statistics.fmean(speeds)))
        if len(rates) == limit:
            break
    return rates


def estimate(
    macs_per_image: int, images: int, epochs: int, rates: list[tuple[int, float]], nearest: int = 3
) -> Estimate | None:
    """Seconds of training for `epochs` passes over `images`, at the median rate of the `nearest` measured
    runs in multiply-adds per image (`rates` from `measured_rates`); None without any."""
    if not rates:
        return None
    near = sorted(rates, key=lambda r: abs(math.log(max(r[0], 1) / max(macs_per_image, 1))))[:nearest]
    return Estimate(macs_per_image * images * epochs / statistics.median(rate for _, rate in near), len(near))
