"""Which device to compute on: CUDA > Apple MPS > CPU, overridable. Never hard-code `.cuda()`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..words import Words

if TYPE_CHECKING:
    import torch

# torch is imported inside the functions: the command line reads DEVICE_CHOICES without loading it.
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(preference: str = "auto") -> torch.device:
    """The device for `preference` ("auto", "cpu", "cuda", "mps"); ValueError if it is unavailable."""
    import torch

    if preference not in DEVICE_CHOICES:
        raise ValueError(f"device {preference!r} is not valid; choose one of: {', '.join(DEVICE_CHOICES)}")
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but no CUDA GPU is available; use 'auto' or 'cpu'")
    if preference == "mps" and not _mps_available():
        raise ValueError("device 'mps' was asked for but Apple MPS is not available; use 'auto' or 'cpu'")
    return torch.device(preference)


def device_words(device: torch.device | str | None = None) -> Words:
    """What the device is, as words a page says in its reader's language (`describe_device` is their English)."""
    import torch

    device = pick_device() if device is None else torch.device(device)
    if device.type == "cuda":
        return Words("{name} (CUDA)", name=torch.cuda.get_device_name(device))
    if device.type == "mps":
        return Words("Apple GPU (MPS)")
    cores, threads = os.cpu_count() or 1, torch.get_num_threads()
    # Each count with its noun, singular or plural (the catalog's Chinese has one form): "1 thread", "2 cores".
    return Words(
        "CPU ({cores}, {threads})",
        cores=Words("{n} core", n=cores) if cores == 1 else Words("{n} cores", n=cores),
        threads=Words("{n} thread", n=threads) if threads == 1 else Words("{n} threads", n=threads),
    )


def describe_device(device: torch.device | str | None = None) -> str:
    """A human label: "NVIDIA H100 80GB HBM3 (CUDA)", "Apple GPU (MPS)" or "CPU (2 cores, 2 threads)" — also a
    key: the speeds measured on this machine are kept under it."""
    return str(device_words(device))


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())
