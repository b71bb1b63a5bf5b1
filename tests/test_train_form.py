"""Issue 15.17: the Train form sets seed, momentum, weight decay and warm-up (the paper's ResNet-110 rule: lr
0.01 until the training error is below 80%, then 0.1), and any depth the builder allows, with a time estimate
from this machine's measured speed instead of a cap at 110."""

from pathlib import Path

import pytest
from helpers import random_data, train_args
from streamlit.testing.v1 import AppTest
from test_train import FAST, TINY

import resnet_core as rc
from resnet_core.execution.estimates import device_kind, estimate, measured_rates
from resnet_core.presentation.describe import describe_duration, describe_recipe
from resnet_core.store.run_store import RunStore
from resnet_core.training.train import WARMED_UP, TrainConfig, train

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "train.py")


def lrs_and_errors(events):
    return [(e.lr, e.error) for e in events if e.kind == "step"]


@pytest.mark.parametrize("threshold", [0.8, 0.95, 1.0])
def test_warm_up_at_a_tenth_until_the_training_error_falls_below_the_threshold(threshold):
    events = []
    config = TrainConfig(epochs=3, batch_size=8, lr=0.1, schedule="constant", warmup_until_error=threshold, **FAST)
    result = train(TINY, random_data(n_train=48), config, events.append)
    warm = True
    for lr, error in lrs_and_errors(events):  # each event's lr is its window's: the switch follows an event
        assert lr == pytest.approx(0.01 if warm else 0.1)
        warm = warm and error >= threshold
    assert result.optimizer_state["param_groups"][0].get(WARMED_UP, False) == (not warm)
    if threshold == 1.0:
        assert not warm  # some of the first window's images were right: warmed up after it


def test_a_resumed_run_does_not_warm_up_again():
    data = random_data(n_train=48)
    config = TrainConfig(epochs=2, batch_size=8, lr=0.1, schedule="constant", warmup_until_error=1.0, **FAST)
    first = train(TINY, data, config.replace(epochs=1))
    assert first.optimizer_state["param_groups"][0][WARMED_UP]
    events = []
    train(TINY, data, config, events.append, net=first.net, start_epoch=1, optimizer_state=first.optimizer_state)
    assert all(lr == pytest.approx(0.1) for lr, _ in lrs_and_errors(events))


def test_warm_up_threshold_is_a_fraction_and_the_recipe_says_it():
    with pytest.raises(ValueError, match="fraction"):
        TrainConfig(warmup_until_error=80)
    line = describe_recipe(TrainConfig(lr=0.1, warmup_until_error=0.8, warmup_epochs=1))
    assert "warm-up at lr 0.01 until the training error is below 80%" in line and "1 epoch of warm-up" in line


def test_the_estimate_comes_from_runs_measured_on_this_kind_of_device(tmp_path):
    store = RunStore(tmp_path / "runs")
    macs = {8: 1_000, 20: 4_000}
    for depth, ips, device in (
        (8, 500.0, "CPU (2 cores, 1 threads)"),
        (20, 100.0, "CPU (2 cores, 2 threads)"),
        (20, 9_999.0, "NVIDIA H200 (CUDA)"),
    ):
        run_id = store.create(rc.NetSpec(depth=depth), {"epochs": 1}, device=device)
        store.add_epoch(run_id, {"epoch": 1, "images_per_second": ips})
    store.create(rc.NetSpec(depth=8), {"epochs": 1}, device="CPU (2 cores, 2 threads)")  # no epoch: no speed
    rates = measured_rates(store, "CPU (2 cores, 2 threads)", lambda spec: macs[spec.depth])
    assert sorted(rates) == [(1_000, 500_000), (4_000, 400_000)]  # both CPU runs, whatever their threads
    found = estimate(9_000, 1_000, 2, rates)  # median 450k multiply-adds/s
    assert found.seconds == pytest.approx(40.0) and found.runs == 2
    found = estimate(4_000, 1_000, 2, rates, nearest=1)  # the run nearest in size: ResNet-20's 400k/s
    assert found.seconds == pytest.approx(20.0) and found.runs == 1
    assert estimate(1, 1, 1, []) is None
    assert device_kind("NVIDIA H200 (CUDA)") == "NVIDIA H200"
    assert [describe_duration(s) for s in (40, 720, 12_600, 200_000)] == [
        "about 40 s",
        "about 12 min",
        "about 3.5 h",
        "about 2.3 days",
    ]


def test_the_form_sets_seed_momentum_weight_decay_and_warm_up(page_runs):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    at.number_input(key="train.momentum").set_value(0.8)
    at.number_input(key="train.wd").set_value(0.0005)
    at.number_input(key="train.seed").set_value(7)
    at.selectbox(key="train.warmup").set_value("error")
    at.run()
    assert any("until the training error is below 80%" in c.value and "seed 7" in c.value for c in at.caption)
    at.button(key="train.one").click().run()
    assert not at.exception
    (run,) = RunStore(page_runs).list()
    train_config = run.config.train
    assert (train_config.momentum, train_config.weight_decay, train_config.seed) == (0.8, 0.0005, 7)
    assert train_config.warmup_until_error == 0.8 and train_config.warmup_epochs == 0


def test_any_depth_with_a_time_estimate_instead_of_a_cap(page_runs):
    store = RunStore(page_runs)
    run_id = store.create(rc.NetSpec(depth=8), {"epochs": 1}, device=rc.describe_device(), status="completed")
    store.add_epoch(run_id, {"epoch": 1, "images_per_second": 200.0})
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    depth = at.select_slider(key="train.depth.basic.cifar")
    assert max(depth.options, key=int) == "1202"  # was 110
    assert any("from the speed of 1 earlier run here" in c.value for c in at.caption)
    depth.set_value(1202).run()
    assert not at.exception
    (line,) = [c.value for c in at.caption if c.value.startswith("Time on this")]
    assert "ResNet-1202" in line and ("h of training" in line or "days of training" in line)


def test_without_runs_here_the_estimate_says_when_it_will_be_known(page_runs):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert any("known once a run here has finished an epoch" in c.value for c in at.caption)


def test_the_cli_sets_the_same_recipe_and_counts_epochs_in_words(tmp_path, shapes_root):
    from test_cli import cli

    recipe = {"momentum": 0.8, "weight_decay": 0, "warmup_until_error": 0.8, "seed": 3}
    out = cli(*train_args(shapes_root, tmp_path / "runs", epochs=1, train_size=100, test_size=50, **recipe))
    assert ", 1 epoch (runs dir" in out.stdout and "after 1 epoch" in out.stdout  # was "1 epochs"
    (run,) = RunStore(tmp_path / "runs").list()
    config = run.config.train
    assert (config.momentum, config.weight_decay, config.warmup_until_error, config.seed) == (0.8, 0.0, 0.8, 3)


def test_the_form_maps_to_a_run_config_without_streamlit():
    from resnet_core.presentation.forms import TrainForm, warmup_advice

    form = TrainForm(
        epochs=3,
        train_size=1000,
        batch_size=64,
        lr=0.1,
        schedule="step",
        augment=True,
        momentum=0.8,
        weight_decay=0.0005,
        seed=7,
        warmup="error",
        head_init_scale=0.1,
    )
    config = form.config()
    assert (config.epochs, config.batch_size, config.lr, config.schedule, config.augment) == (3, 64, 0.1, "step", True)
    assert (config.momentum, config.weight_decay, config.seed, config.head_init_scale) == (0.8, 0.0005, 7, 0.1)
    assert (config.warmup_until_error, config.warmup_epochs) == (0.8, 0.0)
    assert (config.train_size, config.test_size) == (1000, 1000)  # never more test images than training ones
    assert TrainForm(**{**form.__dict__, "warmup": "epoch", "train_size": 5000}).config().warmup_epochs == 1.0
    assert TrainForm(**{**form.__dict__, "train_size": 5000}).config().test_size == 2000
    assert form.describe_optimizer() == "SGD with momentum 0.8 and weight decay 0.0005, seed 7"
    # §4.2: ResNet-110 at lr 0.1 without a warm-up did not start converging: said for that case only.
    no_warmup = TrainForm(**{**form.__dict__, "warmup": "none"})
    assert "did not start converging" in warmup_advice(rc.NetSpec(depth=110), no_warmup)
    assert warmup_advice(rc.NetSpec(depth=56), no_warmup) is None
    assert warmup_advice(rc.NetSpec(depth=110), form) is None
    with pytest.raises(ValueError, match="warm-up"):
        TrainForm(**{**form.__dict__, "warmup": "sometimes"}).config()
