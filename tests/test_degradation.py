"""The degradation experiment: specs, the depth table, the verdict, and the page end to end (tiny preset)."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import resnet_core as rc
import resnet_core.experiments as experiments
from resnet_core.experiments import (
    DepthRow,
    Preset,
    degradation_findings,
    depth_table,
    experiment_runs,
    experiment_specs,
)
from resnet_core.store import RunStore

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "degradation.py")


def test_specs_pair_plain_and_residual_at_every_depth():
    specs = experiment_specs([56, 20])
    assert [(s.depth, s.skip) for s in specs] == [(20, False), (20, True), (56, False), (56, True)]


def test_findings_follow_the_numbers():
    rows = [DepthRow(20, 0.10, 0.12, 0.09, 0.11), DepthRow(56, 0.20, 0.22, 0.08, 0.10)]
    (plain_ok, plain_text), (res_ok, res_text) = degradation_findings(rows)
    assert plain_ok and "plain-56 ends with a higher training error than plain-20 (20.0% vs 10.0%)" in plain_text
    assert res_ok and "ResNet-56 is no worse than ResNet-20" in res_text
    rows[1] = DepthRow(56, 0.05, 0.1, 0.30, 0.3)
    assert [ok for ok, _ in degradation_findings(rows)] == [False, False]
    assert degradation_findings(rows[:1]) == []


def test_depth_table_reads_each_runs_last_epoch(tmp_path):
    store = RunStore(tmp_path / "runs")
    for depth, skip, err in ((20, False, 0.3), (20, True, 0.25), (56, False, 0.5)):
        run_id = store.create(rc.NetSpec(depth=depth, skip=skip), {"experiment": "e1"})
        for epoch, e in ((1, err + 0.1), (2, err)):
            store.add_epoch(run_id, {"epoch": epoch, "train_error": e, "test_error": e + 0.01})
    store.create(rc.NetSpec(depth=56), {"experiment": "e1"})  # no epoch yet
    rows = depth_table(store, experiment_runs(store, "e1"))
    assert rows == [DepthRow(20, 0.3, 0.31, 0.25, 0.26), DepthRow(56, 0.5, 0.51, None, None)]


@pytest.fixture
def tiny_preset(monkeypatch, shapes_root, tmp_path):
    config = rc.TrainConfig(epochs=1, batch_size=50, log_every=2).to_dict()
    config.update(train_size=200, test_size=100, data_dir=str(shapes_root))
    monkeypatch.setattr(experiments, "default_preset", lambda *a: Preset("tiny", "shapes", (8, 14), config, "test"))
    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    yield tmp_path / "runs"
    from ui.runs import _runner_for

    _runner_for(str((tmp_path / "runs").resolve())).shutdown()


def test_the_page_runs_the_experiment_and_judges_it(tiny_preset):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    assert "No experiment yet" in at.info[0].value
    assert at.multiselect(key="deg.depths").value == [8, 14]
    at.button(key="deg.start").click().run()
    assert not at.exception
    store = RunStore(tiny_preset)
    runs = store.list()
    assert sorted((r.spec.depth, r.spec.skip) for r in runs) == [(8, False), (8, True), (14, False), (14, True)]
    deadline = time.monotonic() + 300
    while store.list(["queued", "running"]):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    at.run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1
    table = at.dataframe[0].value
    assert list(table["depth"]) == [8, 14] and table.notna().all().all()
    verdicts = [e.value for e in (*at.success, *at.warning)]
    assert len(verdicts) == 2
    assert any(v.startswith("plain-14 ends with") for v in verdicts)
    assert any(v.startswith("ResNet-14 is") for v in verdicts)
