"""Pages stay responsive while a run trains on the same CPU (issue 15.11): the pages that compute with torch
take one share of the threads beside the training runs (ui/threads.py), and the Architecture page draws a
net's diagram once, not at every rerun. Latencies themselves are measured by scripts/bench_controls.py
(BENCHMARKS.md), never asserted here."""

import os
import socket
from pathlib import Path

import pytest
import streamlit as st
import torch
from helpers import drawings
from streamlit.testing.v1 import AppTest

import resnet_core as rc
import ui.threads
from resnet_core.presentation import diagram
from resnet_core.store.run_store import RunStore

PAGES = Path(__file__).resolve().parent.parent / "pages"


def training_run(store: RunStore, **where) -> str:
    """A run marked running in this process (alive), on this machine's CPU unless `where` says otherwise."""
    run_id = store.create(rc.NetSpec(depth=8, width=4), {})
    fields = {"device": "CPU (2 cores, 2 threads)", "executor": "local", "node": socket.gethostname()} | where
    store.set_status(run_id, "running", pid=os.getpid(), device=fields["device"])
    store.set_placement(run_id, fields["executor"], fields["node"])
    return run_id


def test_the_server_takes_one_share_beside_the_runs_training_on_this_cpu(tmp_path, monkeypatch):
    store = RunStore(tmp_path / "runs")
    monkeypatch.setattr(ui.threads, "CORES", 4)
    assert ui.threads.server_share(store) == 4  # nothing trains: every thread
    training_run(store, node="another-machine")  # shares the runs folder, not this CPU
    training_run(store, device="CUDA (H200)")
    assert ui.threads.server_share(store) == 4
    first = training_run(store)
    assert ui.threads.server_share(store) == 2  # as one more run: the worker and the server half each
    training_run(store)
    assert ui.threads.server_share(store) == 1  # never none
    store.set_status(first, "completed")
    assert ui.threads.server_share(store) == 2


@pytest.mark.parametrize("name", ["gradients", "explain", "why", "architecture"])
def test_pages_that_compute_use_the_server_share_while_a_run_trains(name, tmp_path, monkeypatch, shapes_root):
    """Before, the server kept all its threads: with a worker on both cores of the 2-core machine the
    Gradients page's nets took 7–20 s instead of 1–4 s (OpenMP threads waiting for each other)."""
    root = tmp_path / "runs"
    monkeypatch.setenv("RESNET_LAB_RUNS", str(root))
    monkeypatch.setenv("RESNET_LAB_DATA", str(shapes_root))
    monkeypatch.setattr(ui.threads, "CORES", 2)
    seen = []  # torch's threads in the page's script thread (OpenMP's setting is per thread), after the call
    real = ui.threads.share_cpu_with_training

    def recording() -> int:
        threads = real()
        seen.append(torch.get_num_threads())
        return threads

    monkeypatch.setattr(ui.threads, "share_cpu_with_training", recording)
    store = RunStore(root)
    run_id = training_run(store)
    try:
        at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=180).run()
        assert not at.exception, at.exception
        assert seen == [1]
        store.set_status(run_id, "completed")
        at.run()
        assert not at.exception, at.exception
        assert seen == [1, 2]  # the run ended: all of them again
    finally:
        from ui.runs import release_runner

        release_runner(str(root.resolve()))


def test_architecture_draws_each_net_once_across_reruns(monkeypatch):
    """Each diagram took ~0.5 s of plotly validation (several seconds beside a training run) and was drawn
    again, for both nets, at every rerun; now once per net."""
    built = []
    real = diagram.architecture_figure

    def counting(layout, *args, **kwargs):
        built.append(len(layout.layers))
        return real(layout, *args, **kwargs)

    monkeypatch.setattr(diagram, "architecture_figure", counting)
    st.cache_resource.clear()
    at = AppTest.from_file(str(PAGES / "architecture.py"), default_timeout=120)
    at.query_params["depth"] = "32"
    at.run()
    assert not at.exception, at.exception
    assert len(built) == 2  # the net and its twin
    at.toggle(key="arch.skip").set_value(False).run()  # the twin becomes the chosen net: both drawn already
    at.toggle(key="arch.skip").set_value(True).run()
    at.run()
    assert not at.exception, at.exception
    assert len(built) == 2
    assert len(drawings(at)) == 2
    at.select_slider(key="arch.depth.basic.cifar").set_value(44).run()  # a new depth: its two nets, once
    assert len(built) == 4
