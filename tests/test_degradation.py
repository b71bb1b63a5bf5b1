"""The degradation experiment: specs, the depth table, the verdict, and the page end to end (tiny preset)."""

import json
import re
import time
from dataclasses import astuple
from pathlib import Path

import pytest
from helpers import charts, cli_status
from streamlit.testing.v1 import AppTest

import resnet_core as rc
import resnet_core.studies.experiments as experiments
from resnet_core.presentation.degradation import degradation_findings, verdict_missing, verdict_withheld
from resnet_core.presentation.describe import describe_progress, describe_recipe
from resnet_core.store.run_store import RunStore
from resnet_core.studies.experiments import DepthRow, Preset, depth_table, experiment_runs, experiment_specs

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "degradation.py")


def complete(store: RunStore, run_id: str) -> None:
    """A queued run, as if it had trained (store/status.py: queued -> running -> completed)."""
    store.set_status(run_id, "running")
    store.set_status(run_id, "completed")


def test_specs_pair_plain_and_residual_at_every_depth():
    specs = experiment_specs([56, 20])
    assert [(s.depth, s.skip) for s in specs] == [(20, False), (20, True), (56, False), (56, True)]


@pytest.mark.parametrize("preset", experiments.cpu_presets(), ids=lambda p: p.name)
def test_the_cpu_presets_stay_in_the_papers_family_and_say_how_they_differ(preset):
    """Issue 12.2: a CPU preset may shrink the recipe (images, epochs, depths) to fit minutes, but the nets stay
    the paper's CIFAR family and the page's text (name and note) names what differs from the paper."""
    _, runs = experiments.plan_experiment(preset, preset.depths)
    for spec, config, _ in runs:
        assert (spec.depth - 2) % 6 == 0 and spec.block == "basic"  # 6n+2 layers
        assert (spec.shortcut, spec.norm, spec.stem, spec.preact) == ("A", "batch", "cifar", False)
        assert config.train_size and config.test_size  # subsets: the note must say how many images
        assert spec.stage_widths == (16, 32, 64)  # the paper's widths (a net 8 wide fell behind: BENCHMARKS.md)
    text = f"{preset.name} {preset.note}"
    # No time in the name: the page estimates it from this machine's speed (issue 26.6).
    assert "minutes" not in preset.name and f"{preset.config.train_size:,}" in text
    assert all(re.search(rf"\b{d}\b", text) for d in preset.depths)  # the depths, said (8 is not the paper's)


def test_the_quick_preset_is_the_cpus_default_and_the_reference_runs_use_the_long_one():
    assert experiments.default_preset("cpu", False) == experiments.cpu_preset()
    assert experiments.cpu_preset().depths == (8, 44) and experiments.cpu_long_preset().depths == (20, 56)
    reference_recipe = json.loads(
        (Path(__file__).resolve().parent.parent / "assets" / "reference" / "provenance.json").read_text()
    )["recipe"]
    assert reference_recipe == describe_recipe(experiments.cpu_long_preset().config)


def test_the_page_offers_the_quick_and_the_long_cpu_preset(monkeypatch, tmp_path):
    import torch

    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("RESNET_LAB_REFERENCE", "off")
    monkeypatch.setattr(rc, "pick_device", lambda *a, **k: torch.device("cpu"))  # a GPU has one preset
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    quick, long = experiments.cpu_presets()
    assert at.radio(key="deg.preset").options == [quick.name, long.name]
    assert at.multiselect(key="deg.depths.0").value == [8, 44]
    assert any("8 and 44 layers, on 2,800 training images" in m.value for m in at.markdown)
    at.radio(key="deg.preset").set_value(1).run()
    assert at.multiselect(key="deg.depths.1").value == [20, 56]
    assert any("4,500 training images" in c.value for c in at.caption)


def test_findings_follow_the_numbers():
    rows = [DepthRow(20, 0.10, 0.12, 0.09, 0.11), DepthRow(56, 0.20, 0.22, 0.08, 0.10)]
    (plain_ok, plain_text), (res_ok, res_text) = degradation_findings(rows)
    assert plain_ok and "plain-56 ends with a higher training error than plain-20 (20.0% vs 10.0%)" in plain_text
    assert res_ok and "ResNet-56 is no worse than ResNet-20" in res_text
    rows[1] = DepthRow(56, 0.20, 0.22, 0.04, 0.10)
    assert "ResNet-56 is better than ResNet-20 in training error (4.0% vs 9.0%)" in degradation_findings(rows)[1][1]
    rows[1] = DepthRow(56, 0.05, 0.1, 0.30, 0.3)
    assert [ok for ok, _ in degradation_findings(rows)] == [False, False]
    assert degradation_findings(rows[:1]) == []


def test_no_verdict_from_nets_that_have_not_learned_yet():
    """Nets near chance after a short trial say nothing about depth; a deep plain net near chance beside a
    shallower one that learned *is* the degradation (the CPU preset's plain-56 ends at ~85%)."""
    preset_like = [DepthRow(20, 0.22, 0.34, 0.155, 0.28), DepthRow(56, 0.847, 0.82, 0.04, 0.13)]
    assert verdict_withheld(preset_like) is None
    assert [ok for ok, _ in degradation_findings(preset_like)] == [True, True]
    one_epoch = [DepthRow(8, 0.903, 0.90, 0.92, 0.90), DepthRow(14, 0.923, 0.90, 0.917, 0.875)]
    why = verdict_withheld(one_epoch)
    assert why.startswith("plain-8, ResNet-8, ResNet-14 ended with a training error of 80% or more")
    assert degradation_findings(one_epoch) == []
    deep_resnet_untrained = [DepthRow(20, 0.3, 0.3, 0.2, 0.2), DepthRow(56, 0.85, 0.85, 0.84, 0.84)]
    assert verdict_withheld(deep_resnet_untrained).startswith("ResNet-56 ")
    # With 100 classes chance is 99%: a ResNet at 85% training error has learned something.
    cifar100 = [DepthRow(20, 0.60, 0.65, 0.55, 0.6), DepthRow(56, 0.90, 0.91, 0.85, 0.88)]
    assert verdict_withheld(cifar100, num_classes=100) is None and verdict_withheld(cifar100) is not None


def test_depth_table_reads_each_runs_last_epoch(tmp_path):
    store = RunStore(tmp_path / "runs")
    for depth, skip, err in ((20, False, 0.3), (20, True, 0.25), (56, False, 0.5)):
        run_id = store.create(rc.NetSpec(depth=depth, skip=skip), {"experiment": "e1"})
        for epoch, e in ((1, err + 0.1), (2, err)):
            store.add_epoch(run_id, {"epoch": epoch, "train_error": e, "test_error": e + 0.01})
    store.create(rc.NetSpec(depth=56), {"experiment": "e1"})  # no epoch yet
    rows = depth_table(store, experiment_runs(store, "e1"))
    assert [r[:5] for r in map(astuple, rows)] == [(20, 0.3, 0.31, 0.25, 0.26), (56, 0.5, 0.51, None, None)]


def test_recipe_line_names_the_schedule_actually_used():
    cosine = rc.TrainConfig(
        epochs=6, batch_size=64, lr=0.02, schedule="cosine", augment=False, head_init_scale=0.1
    ).to_dict()
    assert describe_recipe(dict(cosine, train_size=10000)) == (
        "6 epochs · batch 64 · lr 0.02, cosine decay to 0 · no augmentation · classifier initialised at 0.1× "
        "(every net starts near chance loss) · 10,000 training images"
    )
    paper = rc.TrainConfig(epochs=164, warmup_epochs=1).to_dict()
    assert describe_recipe(paper) == (
        "164 epochs · batch 128 · lr 0.1, ÷10 at 50% and 75% · 1 epoch of warm-up "
        "at lr 0.01 · crop + flip augmentation · all training images"
    )


@pytest.fixture
def tiny_preset(monkeypatch, shapes_root, tmp_path):
    config = rc.RunConfig(
        rc.TrainConfig(epochs=1, batch_size=50, log_every=2), train_size=200, test_size=100, data_dir=str(shapes_root)
    )
    monkeypatch.setattr(experiments, "device_presets", lambda *a: (Preset("tiny", "shapes", (8, 14), config, "test"),))
    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    yield tmp_path / "runs"
    from ui.runs import release_runner

    release_runner(str((tmp_path / "runs").resolve()))


def test_the_page_runs_the_experiment_and_judges_it(tiny_preset, monkeypatch):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    assert "No experiment yet" in at.info[0].value
    assert at.multiselect(key="deg.depths.0").value == [8, 14]
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
    assert len(charts(at)) == 3  # Fig. 6's two halves, and the final errors by depth
    table = at.table[0].value
    assert list(table["depth"]) == [8, 14] and table.notna().all().all()
    verdicts = [e.value for e in (*at.success, *at.warning)]
    withheld = verdict_withheld(depth_table(store, store.list()))
    if withheld:  # one epoch of 200 images: the nets usually end near chance
        assert verdicts == [f"No verdict: {withheld}."]  # said once, as a warning naming the untrained nets
    else:
        assert len(verdicts) == 4
    monkeypatch.setattr(experiments, "LEARNED_BELOW_CHANCE", -1.0)  # every net counts as trained
    at.run()
    verdicts = [e.value for e in (*at.success, *at.warning, *at.info)]
    assert any(v.startswith("plain-14 ") for v in verdicts)
    assert any(v.startswith("ResNet-14 is") for v in verdicts)
    assert any("ResNet-14 is" in v and "in test error" in v for v in verdicts)


def test_the_started_experiment_is_the_one_shown_and_not_counted_as_already_queued(tiny_preset, monkeypatch):
    """Issue 26.1: the page stayed on the earlier experiment, the URL kept the old `exp`, and a warning said
    "4 runs already queued or running" about the runs just started."""
    store = RunStore(tiny_preset)
    for depth, skip in ((8, False), (8, True), (14, False), (14, True)):  # an earlier experiment, finished
        run_id = store.create(rc.NetSpec(depth=depth, skip=skip), {"experiment": "degradation-earlier", "epochs": 1})
        store.add_epoch(run_id, {"epoch": 1, "train_error": 0.5, "test_error": 0.5})
        complete(store, run_id)
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert at.selectbox(key="deg.exp").value == "degradation-earlier"
    assert not at.warning
    runner = None
    from ui.runs import _runner_for

    runner = _runner_for(str(tiny_preset.resolve()))
    monkeypatch.setattr(runner, "submit", lambda spec, config, **kw: store.create(spec, config, kw["dataset"]))
    at.button(key="deg.start").click().run()  # the runs stay queued: nothing trains them here
    assert not at.exception
    started = next(e for e in experiments.experiments(store) if e != "degradation-earlier")
    assert at.selectbox(key="deg.exp").value == started
    assert at.query_params["exp"] in (started, [started])
    assert not [w for w in at.warning if "already queued" in w.value]
    assert "Final numbers when every run has finished" in " ".join(i.value for i in at.info)
    at.run()  # a rerun (the live view's poll) keeps it
    assert at.selectbox(key="deg.exp").value == started and not at.warning


def test_the_presets_say_how_long_they_take_here(monkeypatch, tmp_path):
    """Issue 26.6: "3–4 minutes on two cores" took 5 min 14 s: the time comes from speeds measured here."""
    import torch

    from resnet_core.execution.estimates import device_kind

    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(rc, "pick_device", lambda *a, **k: torch.device("cpu"))
    store = RunStore(tmp_path / "runs")
    run_id = store.create(rc.NetSpec(depth=20), {"epochs": 1}, device=rc.describe_device(), status="completed")
    store.add_epoch(run_id, {"epoch": 1, "train_error": 0.5, "test_error": 0.5, "images_per_second": 100.0})
    macs = rc.summarize(rc.NetSpec(depth=20)).macs
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    quick = experiments.cpu_preset()
    seconds = sum(
        rc.summarize(s).macs * quick.config.train_size * quick.config.epochs / (macs * 100.0)
        for s in experiments.experiment_specs(quick.depths)
    )
    label = at.radio(key="deg.preset").options[0]
    assert label == f"{quick.name} · about {round(seconds / 60)} min here", label
    assert any(
        f"estimated from the speed of 1 earlier run on this {device_kind(rc.describe_device())}" in c.value
        for c in at.caption
    )


def test_the_cli_trains_the_preset_and_prints_the_table_and_verdict(tiny_preset, monkeypatch, capsys):
    import resnet_core.cli.degradation as cli_degradation
    from resnet_core.cli.main import main

    # The command looks device_presets up when it runs (imported there), so the fixture's tiny preset is used.
    assert not hasattr(cli_degradation, "device_presets")
    monkeypatch.setattr(experiments, "LEARNED_BELOW_CHANCE", -1.0)  # a verdict even from nets near chance
    assert main(["degradation", "--device", "cpu", "--seed", "3", "--runs-dir", str(tiny_preset)]) == 0
    out = capsys.readouterr().out
    store = RunStore(tiny_preset)
    runs = store.list()
    assert sorted((r.spec.depth, r.spec.skip) for r in runs) == [(8, False), (8, True), (14, False), (14, True)]
    assert {r.status for r in runs} == {"completed"} and len({r.config.experiment for r in runs}) == 1
    assert {r.config.seed for r in runs} == {3}  # --seed: the training seed of every run (BENCHMARKS' 3 seeds)
    table = out[out.index("depth  plain train %") :].splitlines()
    rows = depth_table(store, runs)
    assert table[1].split() == [
        "8",
        *(
            f"{100 * v:.1f}"
            for v in (rows[0].plain_train, rows[0].plain_test, rows[0].residual_train, rows[0].residual_test)
        ),
    ]
    assert table[2].split()[0] == "14" and len(table) == 5
    # Within a point of each other the plain nets are "too close to call" rather than a finding.
    assert (
        "plain-14 ends with" in table[3] or "plain-14 and plain-8 end within" in table[3]
    ) and "ResNet-14 is" in table[4]
    monkeypatch.setattr(experiments, "LEARNED_BELOW_CHANCE", 10.0)  # no net counts as trained
    text = cli_degradation.format_table(store, runs[0].config.experiment)
    assert "no verdict: plain-8, ResNet-8, ResNet-14 ended" in text and "as in the paper" not in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--depths", "20"], "at least two depths"),
        (["--depths", "20,21"], "depth 21 is not 6n+2"),
        (["--seed", "-1"], "whole number >= 0"),
        (["--seed", "x"], "whole number >= 0"),
    ],
)
def test_the_cli_rejects_bad_depths_and_seeds_with_a_message(args, message, tmp_path, capsys):
    status = cli_status(["degradation", *args, "--runs-dir", str(tmp_path / "runs")])
    assert status == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() or RunStore(tmp_path / "runs").list() == []


def test_the_long_preset_is_refused_where_the_device_has_one_preset(monkeypatch, tmp_path, capsys):
    from resnet_core.cli.main import main

    gpu = Preset("The paper's schedule (GPU)", "cifar10", (20, 56), rc.RunConfig(rc.TrainConfig()), "")
    monkeypatch.setattr(experiments, "device_presets", lambda *a: (gpu,))  # as on a GPU
    status = main(["degradation", "--device", "cpu", "--preset", "long", "--runs-dir", str(tmp_path / "runs")])
    assert status == 2 and "--preset long is a CPU preset" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() or RunStore(tmp_path / "runs").list() == []


def test_legends_name_the_net_once(tmp_path):
    from resnet_core.presentation.reports import run_label, series_for

    store = RunStore(tmp_path / "runs")
    named = store.get(store.create(rc.NetSpec(depth=20), {}, name="ResNet-20 · degradation-1"))
    default = store.get(store.create(rc.NetSpec(depth=20, skip=False), {}))
    custom = store.get(store.create(rc.NetSpec(depth=56), {}, name="my long run"))
    assert [run_label(r) for r in (named, default, custom)] == [
        "ResNet-20 · degradation-1",
        "plain-20",
        "ResNet-56 · my long run",
    ]
    assert [s.label for s in series_for(store, [named, custom], label=lambda r: r.spec.name)] == [
        "ResNet-20",
        "ResNet-56",
    ]


def test_no_verdict_from_unfinished_runs(tmp_path):
    """Issue 15: plain-56 stopped at 3/14 epochs and ResNet-56 at 1/14 got a green "degradation" and a yellow
    "ResNet-56 is worse than ResNet-20": no verdict until every run completed the same recipe."""
    store = RunStore(tmp_path / "runs")
    cfg = {"experiment": "e1", "epochs": 14}
    for depth, skip, done, status, err in (
        (20, False, 14, "completed", 0.10),
        (20, True, 14, "completed", 0.141),
        (56, False, 3, "stopped", 0.5),
        (56, True, 1, "stopped", 0.872),
    ):
        run_id = store.create(rc.NetSpec(depth=depth, skip=skip), cfg, status=status)
        for epoch in range(1, done + 1):
            store.add_epoch(run_id, {"epoch": epoch, "train_error": err, "test_error": err})
    rows = depth_table(store, experiment_runs(store, "e1"))
    assert degradation_findings(rows) == []
    assert verdict_missing(rows) == ["plain-56: 3 of 14 epochs, stopped", "ResNet-56: 1 of 14 epochs, stopped"]


def test_no_verdict_across_recipes(tmp_path):
    store = RunStore(tmp_path / "runs")
    for depth, skip, epochs in ((20, False, 2), (20, True, 2), (56, False, 2), (56, True, 1)):
        config = {"experiment": "e1", "epochs": epochs}
        run_id = store.create(rc.NetSpec(depth=depth, skip=skip), config, status="completed")
        for epoch in range(1, epochs + 1):
            store.add_epoch(run_id, {"epoch": epoch, "train_error": 0.2, "test_error": 0.2})
    rows = depth_table(store, experiment_runs(store, "e1"))
    assert degradation_findings(rows) == []
    (gap,) = verdict_missing(rows)
    assert gap.startswith("ResNet-56: trained with another recipe (1 epoch ·")


def test_the_page_gives_no_verdict_on_stopped_runs(tiny_preset):
    store = RunStore(tiny_preset)
    for depth, skip, done in ((20, False, 14), (20, True, 14), (32, False, 0), (56, False, 3), (56, True, 1)):
        status = "completed" if done == 14 else "stopped"
        run_id = store.create(rc.NetSpec(depth=depth, skip=skip), {"experiment": "e1", "epochs": 14}, status=status)
        for epoch in range(1, done + 1):
            store.add_epoch(run_id, {"epoch": epoch, "train_error": 0.1, "test_error": 0.1})
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert not at.success and not at.warning
    assert "plain-56: 3 of 14 epochs, stopped; ResNet-56: 1 of 14 epochs, stopped" in at.info[0].value
    shown = at.table[0].proto.arrow_data.styler.display_values  # what the cells show, as Arrow IPC
    assert "—".encode() in shown and b"None" not in shown  # depth 32: no finished epoch


def test_degradation_chart_before_data_and_while_running():
    """Issue 15: a blank panel with no axes before data; the two panels used different x ranges; the dashed
    training curves spiked at every epoch boundary (a 1-batch leftover row weighed like a 10-batch one)."""
    import numpy as np

    from resnet_core.presentation.charts import RunSeries, degradation_figure, running_mean

    def series(skip, steps, errors):
        steps = np.asarray(steps, dtype=float)
        return RunSeries(
            label="r",
            skip=skip,
            color="#000",
            steps=steps,
            loss=np.asarray(errors) * 0,
            batch_error=np.asarray(errors, dtype=float),
            epoch_steps=np.array([]),
            train_error=np.array([]),
            test_error=np.array([]),
        )

    fig = degradation_figure([series(False, [], [])], [series(True, [], [])])
    assert [a.text for a in fig.layout.annotations].count("no steps yet") == 2
    assert tuple(fig.layout.yaxis.range) == (0, 100) and fig.layout.xaxis.showline
    # Epochs of 71 batches logged every 10: rows at 10…70, then a 1-batch row at 71. The leftover batch
    # is noisier (here: far higher); the curve must not jump by its full weight.
    steps, errors = [], []
    for epoch in range(14):  # 112 rows: the chart smooths over 2
        steps += [epoch * 71 + s for s in (*range(10, 71, 10), 71)]
        errors += [0.30] * 7 + [0.90]
    fig = degradation_figure([series(False, steps, errors)], [series(True, steps[:8], errors[:8])])
    assert not [a for a in fig.layout.annotations if a.text == "no steps yet"]
    assert fig.layout.xaxis2.matches == "x"
    smoothed = running_mean(np.array(errors), 2, np.diff(np.array(steps, dtype=float), prepend=0))
    assert smoothed.max() < 0.36  # unweighted: (0.3 + 0.9) / 2 = 0.6 at every boundary
    y = fig.data[0].y / 100
    assert y.max() < 0.36


def test_experiment_progress_counts_epochs_runs_ahead_and_time_left(tmp_path):
    """Issue 15: the experiment queued silently behind earlier runs while the page said "about 10 minutes"."""
    import os

    from resnet_core.studies.experiments import experiment_progress

    store = RunStore(tmp_path / "runs")
    other = store.create(rc.NetSpec(depth=110), {"epochs": 5})  # an earlier run, still training
    store.set_status(other, "running", pid=os.getpid())
    ids = [
        store.create(rc.NetSpec(depth=d, skip=s), {"experiment": "e1", "epochs": 4})
        for d in (20, 56)
        for s in (False, True)
    ]
    for epoch in (1, 2):
        store.add_epoch(ids[0], {"epoch": epoch, "train_error": 0.3, "test_error": 0.3, "seconds": 20.0})
    store.set_status(ids[0], "stopped")
    progress = experiment_progress(store, experiment_runs(store, "e1"))
    assert (progress.epochs_done, progress.epochs_total, progress.runs_ahead) == (2, 16, 1)
    # 1 s per epoch and layer: ResNet-20 4 epochs × 20 s, plain/ResNet-56 4 × 56 s each (plain-20 is stopped)
    assert progress.eta_seconds == pytest.approx(4 * 20 + 2 * 4 * 56)
    assert describe_progress(progress) == (
        "2 of 16 epochs · about 9 min left once the runs ahead finish · queued behind 1 other run"
    )
    # Two at a time (the runner on a CPU now): the same epochs in half the wall time.
    assert experiment_progress(store, experiment_runs(store, "e1"), at_once=2).eta_seconds == pytest.approx(
        (4 * 20 + 2 * 4 * 56) / 2
    )


def test_metrics_csv_says_errors_are_fractions(tmp_path):
    from resnet_core.presentation.reports import metrics_csv

    store = RunStore(tmp_path / "runs")
    run_id = store.create(rc.NetSpec(depth=8), {"epochs": 1})
    store.add_epoch(run_id, {"epoch": 1, "step": 5, "train_error": 0.25, "test_error": 0.3})
    header, row = metrics_csv(store, run_id).splitlines()[:2]
    assert "train_error_fraction" in header.split(",") and "test_error_fraction" in header.split(",")
    assert "0.25" in row.split(",")


def test_the_cli_table_gives_no_verdict_on_unfinished_runs(tmp_path):
    from resnet_core.cli.degradation import format_table
    from resnet_core.store.run_store import RunStore

    store = RunStore(tmp_path / "runs")
    config = rc.RunConfig(rc.TrainConfig(epochs=3), experiment="degradation-x")
    for depth in (8, 14):
        for skip in (False, True):
            run_id = store.create(rc.NetSpec(depth=depth, skip=skip), config)
            store.add_epoch(
                run_id,
                {
                    "epoch": 1,
                    "step": 10,
                    "train_loss": 1.0,
                    "train_error": 0.5,
                    "test_loss": 1.0,
                    "test_error": 0.5,
                    "seconds": 1.0,
                    "images_per_second": 1.0,
                },
            )
            store.set_status(run_id, "stopped")
    text = format_table(store, "degradation-x")
    assert "no verdict yet: " in text and "1 of 3 epochs" in text
    assert "as in the paper" not in text


def test_the_link_holds_the_experiment_and_the_preset(monkeypatch, tmp_path):
    """A link reproduces the view (issue 22.3): the experiment and the preset come from the URL and go back
    into it; a value the page cannot show falls back to the informative default with a warning."""
    import torch

    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(rc, "pick_device", lambda *a, **k: torch.device("cpu"))  # two presets
    store = RunStore(tmp_path / "runs")
    for experiment, errors in (("degradation-a", (0.3, 0.5, 0.2, 0.15)), ("degradation-b", (0.9, 0.9, 0.9, 0.9))):
        for depth, skip, err in zip((8, 8, 44, 44), (False, True, False, True), errors):
            run_id = store.create(rc.NetSpec(depth=depth, skip=skip), {"experiment": experiment, "epochs": 1})
            store.add_epoch(run_id, {"epoch": 1, "train_error": err, "test_error": err})
            complete(store, run_id)
    at = AppTest.from_file(PAGE, default_timeout=60).run()  # no link: the newest experiment whose nets learned
    assert at.selectbox(key="deg.exp").value == "degradation-a"
    assert at.query_params["exp"] in ("degradation-a", ["degradation-a"])
    assert any("newest experiment whose nets learned" in c.value for c in at.caption)
    at.selectbox(key="deg.exp").set_value("degradation-b").run()
    assert at.query_params["exp"] in ("degradation-b", ["degradation-b"])

    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["exp"] = "degradation-b"
    at.query_params["preset"] = "1"
    at.run()
    assert not at.exception and not [w for w in at.warning if "link" in w.value]
    assert at.selectbox(key="deg.exp").value == "degradation-b" and at.radio(key="deg.preset").value == 1
    assert [w.value for w in at.warning] == [
        f"No verdict: {verdict_withheld(depth_table(store, experiment_runs(store, 'degradation-b')))}."
    ]

    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["exp"] = "**nope**"
    at.query_params["preset"] = "7"
    at.run()
    assert not at.exception
    assert "not one this page can show" in at.warning[0].value
    assert at.selectbox(key="deg.exp").value == "degradation-a" and at.radio(key="deg.preset").value == 0


def test_the_views_say_what_the_numbers_say(tmp_path):
    """fig6_view and final_errors_view (the lesson's evidence) judge the rows they draw: the verdict changes
    with the data, and nets near chance are named as untrained."""
    from ui.views.degradation import fig6_view, final_errors_view

    store = RunStore(tmp_path / "runs")

    def experiment(name, plain, residual):
        for depth, (p, r) in zip((20, 56), zip(plain, residual)):
            for skip, (train, test) in ((False, p), (True, r)):
                run_id = store.create(rc.NetSpec(depth=depth, skip=skip), {"experiment": name, "epochs": 1})
                store.add_epoch(run_id, {"epoch": 1, "train_error": train, "test_error": test})
                complete(store, run_id)

    experiment("paper", plain=((0.2, 0.3), (0.4, 0.45)), residual=((0.2, 0.3), (0.1, 0.2)))
    experiment("overfit", plain=((0.2, 0.3), (0.1, 0.45)), residual=((0.2, 0.3), (0.1, 0.2)))
    experiment("chance", plain=((0.89, 0.9), (0.9, 0.9)), residual=((0.88, 0.9), (0.89, 0.9)))
    (plain,) = fig6_view(store, "paper", "plain").verdicts
    assert plain.kind == "agrees" and "(40.0% vs 20.0%): degradation" in plain.text
    (residual,) = fig6_view(store, "paper", "residual").verdicts
    assert residual.kind == "agrees" and residual.text.startswith("ResNet-56 is better than ResNet-20")
    final = final_errors_view(store, "paper")
    assert [v.kind for v in final.verdicts] == ["agrees", "agrees"]
    assert final.verdicts[0].text.startswith("Not overfitting: plain-56 has the higher training error (40.0% vs 20.0%)")
    assert list(final.table.data["depth"]) == [20, 56] and len(final.figure.data) == 4
    overfit = final_errors_view(store, "overfit").verdicts[0]
    assert overfit.kind == "disagrees" and "that is overfitting" in overfit.text
    assert fig6_view(store, "overfit", "plain").verdicts[0].kind == "disagrees"
    for view in (fig6_view(store, "chance", "plain"), final_errors_view(store, "chance")):
        ((verdict),) = view.verdicts
        assert verdict.kind == "untrained" and "still near chance" in verdict.text


def test_present_shows_the_figures_and_verdicts_without_controls(monkeypatch, tmp_path):
    """`?present=1` (issue 22.3): a projector shows the figure, the claim and the verdict only."""
    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    store = RunStore(tmp_path / "runs")
    for depth, skip, err in ((8, False, 0.3), (8, True, 0.3), (44, False, 0.6), (44, True, 0.2)):
        run_id = store.create(rc.NetSpec(depth=depth, skip=skip), {"experiment": "degradation-a", "epochs": 1})
        store.add_epoch(run_id, {"epoch": 1, "train_error": err, "test_error": err})
        complete(store, run_id)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["exp"] = "degradation-a"
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception
    assert not at.selectbox and not at.button and not at.radio and not at.get("download_button")
    assert len(charts(at)) == 3 and len(at.success) == 4


def test_the_halves_are_titled_as_the_paper_names_the_nets():
    from resnet_core.presentation.degradation import fig6_half_figure

    assert fig6_half_figure([], "residual").layout.title.text.startswith("ResNets: ")
    assert fig6_half_figure([], "plain").layout.title.text.startswith("Plain nets: ")


def test_the_preset_runs_on_the_dataset_the_link_names(tiny_preset, monkeypatch, fashion_files):
    """Issue 23: the presets on any dataset whose files are here — the reference runs are the longer preset on
    Fashion-MNIST. The dataset is in the URL; the planned nets take its one input channel."""
    store = RunStore(tiny_preset)
    from ui.runs import _runner_for

    runner = _runner_for(str(tiny_preset.resolve()))
    monkeypatch.setattr(runner, "submit", lambda spec, config, **kw: store.create(spec, config, kw["dataset"]))
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["data"] = "fashion-mnist"
    at.run()
    assert not at.exception
    picker = at.selectbox(key="deg.data")
    assert picker.value == "fashion-mnist" and "shapes (embedded, offline)" in picker.options  # only those here
    assert any("on `fashion-mnist`" in m.value for m in at.markdown)
    at.button(key="deg.start").click().run()  # queued only: nothing trains them here
    assert not at.exception
    runs = store.list()
    assert len(runs) == 4 and {r.dataset for r in runs} == {"fashion-mnist"}
    assert {r.spec.in_channels for r in runs} == {1} and at.query_params["data"] in ("fashion-mnist", ["fashion-mnist"])
