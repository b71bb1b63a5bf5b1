"""The server's torch threads while training runs share its CPU (BENCHMARKS.md, "Control latency with one
training run").

A page that computes with torch (Gradients, Explain, Why, Architecture) calls `share_cpu_with_training()`
first. With no run training on this CPU the server keeps all its threads; with runs training, it takes one
share as if it were one more run (the workers split the cores among themselves: execution/cpu_share.py).
Why: with a ResNet-20 worker on both cores of the 2-core machine, the Gradients page's two nets (depth 56,
one batch) took 6.9 / 20.5 / 15.6 s at batch 32 / 64 / 128 with the server's torch at 2 threads, and 1.2 / 2.1 /
4.2 s at 1 thread — the OpenMP threads of an oversubscribed pool wait for each other at every op while the
worker holds a core (BENCHMARKS.md, "Control latency with one training run").
"""

from __future__ import annotations

import sqlite3

import torch

from resnet_core.execution.cpu_share import cpu_share
from resnet_core.store.run_store import StoreCorrupt
from ui.runs import shared_runner

# The pool to share: torch's own at the server's first import of this module (the physical cores, or
# OMP_NUM_THREADS where set), before any page changed it.
CORES = torch.get_num_threads()


def server_share(store) -> int:
    """The server's torch threads beside the runs training on this CPU now: all of CORES when none."""
    return cpu_share(store, None, CORES)  # the server: one more party, after the runs


def share_cpu_with_training() -> int:
    """Set this process's torch threads to the server's share now; returns it. A damaged or busy store
    leaves the setting as it is (the page that reads the store says what is wrong)."""
    try:
        threads = server_share(shared_runner().store)
    except (StoreCorrupt, sqlite3.Error):
        return torch.get_num_threads()
    if threads != torch.get_num_threads():
        torch.set_num_threads(threads)
    return threads
