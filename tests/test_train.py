"""The trainer: schedules, events, learning on `shapes`, divergence, stopping and resuming."""

import copy
import dataclasses
import math

import pytest
import torch
from helpers import NO_PROBES, random_data
from torch import nn

import resnet_core as rc
from resnet_core.data.datasets import load_dataset
from resnet_core.model.net import build_net
from resnet_core.model.spec import NetSpec
from resnet_core.training.train import TrainConfig, learning_rate, train

TINY = NetSpec(depth=8, width=4)
FAST = dict(NO_PROBES, device="cpu", log_every=2)


# --------------------------------------------------------------------------------------- schedules


def test_step_schedule_divides_by_ten_at_half_and_three_quarters():
    # The paper's 64k iterations: 0.1, then 0.01 from 32k, then 0.001 from 48k (§4.2).
    assert learning_rate(0, 64_000, 0.1) == 0.1
    assert learning_rate(31_999, 64_000, 0.1) == 0.1
    assert learning_rate(32_000, 64_000, 0.1) == pytest.approx(0.01)
    assert learning_rate(47_999, 64_000, 0.1) == pytest.approx(0.01)
    assert learning_rate(48_000, 64_000, 0.1) == pytest.approx(0.001)
    assert learning_rate(63_999, 64_000, 0.1) == pytest.approx(0.001)


def test_cosine_schedule_falls_smoothly_from_lr_to_zero():
    rates = [learning_rate(s, 100, 0.1, "cosine") for s in range(101)]
    assert rates[0] == pytest.approx(0.1) and rates[50] == pytest.approx(0.05)
    assert rates[100] == pytest.approx(0)
    assert all(a >= b for a, b in zip(rates, rates[1:]))


def test_warmup_runs_at_a_tenth_then_returns_to_the_schedule():
    # §4.2, ResNet-110: 0.01 until training is under way, then back to 0.1.
    assert learning_rate(0, 1000, 0.1, "step", warmup_steps=400) == pytest.approx(0.01)
    assert learning_rate(399, 1000, 0.1, "step", warmup_steps=400) == pytest.approx(0.01)
    assert learning_rate(400, 1000, 0.1, "step", warmup_steps=400) == 0.1
    assert learning_rate(10, 1000, 0.1, "cosine", warmup_steps=20) == pytest.approx(0.01)
    assert learning_rate(5, 10, 0.1, "constant") == 0.1


def test_config_rejects_bad_values_naming_the_choices():
    with pytest.raises(ValueError, match="step, cosine, constant"):
        TrainConfig(schedule="linear")
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="lr"):
        TrainConfig(lr=float("nan"))


def test_net_and_data_must_agree_on_the_classes():
    with pytest.raises(ValueError, match="num_classes=10"):
        train(NetSpec(depth=8, width=4, num_classes=100), random_data(), TrainConfig(epochs=1, **FAST))


# ------------------------------------------------------------------------- a real run on `shapes`


@pytest.fixture(scope="module")
def shapes_run(tmp_path_factory):
    """A tiny net for 200 CPU steps on 500 `shapes` images, every probe on; all its events."""
    data = load_dataset("shapes", root=tmp_path_factory.mktemp("data"), train_size=500, test_size=100)
    config = TrainConfig(
        epochs=20,
        batch_size=50,
        lr=0.1,
        schedule="constant",
        augment=False,
        device="cpu",
        log_every=5,
        grad_norm_every=50,
        probe_batch_size=32,
        checkpoint_every=10,
    )
    events = []
    result = train(NetSpec(depth=8, width=8), data, config, events.append)
    return result, events


def of_kind(events, kind):
    return [e for e in events if e.kind == kind]


def test_training_lowers_the_loss_on_shapes(shapes_run):
    result, events = shapes_run
    first = of_kind(events, "step")[0].loss
    assert first == pytest.approx(math.log(10), rel=0.15)  # chance level at the start
    assert result.history[-1].train_loss < 0.8 * first
    assert result.status == "completed" and result.epoch == 20 and result.step == 200


def test_events_come_in_order_with_their_documented_fields(shapes_run):
    result, events = shapes_run
    kinds = [e.kind for e in events]
    assert kinds[-1] == "end" and kinds.count("end") == 1
    assert kinds.count("epoch") == kinds.count("responses") == 20
    assert kinds.count("checkpoint") == 2
    assert kinds.count("step") == 44  # steps 1-4 one by one (the curve starts at once), then every 5 of 200
    assert kinds.count("grad_norms") == 4  # steps 1, 51, 101, 151

    fields = {
        rc.StepEvent: ["step", "epoch", "loss", "error", "lr", "images_per_second", "kind"],
        rc.GradNormsEvent: ["step", "epoch", "norms", "kind"],
        rc.EpochEvent: [
            "epoch",
            "step",
            "train_loss",
            "train_error",
            "test_loss",
            "test_error",
            "lr",
            "seconds",
            "images_per_second",
            "kind",
        ],
        rc.ResponsesEvent: ["epoch", "step", "responses", "kind"],
        rc.CheckpointEvent: ["epoch", "step", "model_state", "optimizer_state", "kind"],
        rc.EndEvent: ["status", "epoch", "step", "seconds", "kind"],
        rc.PhaseEvent: ["phase", "step", "epoch", "kind"],
    }
    for event in events:
        assert list(event.to_dict()) == fields[type(event)]
        with pytest.raises(dataclasses.FrozenInstanceError):
            event.step = 0


def test_step_and_epoch_events_hold_sane_values(shapes_run):
    result, events = shapes_run
    steps = of_kind(events, "step")
    assert [e.step for e in steps] == [1, 2, 3, 4, *range(5, 201, 5)]  # the first ones one by one
    assert steps[5].step == 10 and steps[5].epoch == pytest.approx(1.0)  # 10 steps of 50 images per epoch
    for e in steps:
        assert 0 <= e.error <= 1 and e.loss > 0 and e.lr == 0.1 and e.images_per_second > 0
    epochs = of_kind(events, "epoch")
    assert [e.epoch for e in epochs] == list(range(1, 21))
    assert [e.step for e in epochs] == list(range(10, 201, 10))
    assert epochs == result.history
    for e in epochs:
        assert 0 <= e.train_error <= 1 and 0 <= e.test_error <= 1
        assert e.seconds > 0 and e.images_per_second == pytest.approx(500 / e.seconds)
    # The epoch's training loss is the mean of its step windows, weighted by their images: steps 1 to 5 one
    # window each, steps 6-10 one window.
    windows = [e.loss for e in steps[:5]] + [steps[5].loss] * 5
    assert epochs[0].train_loss == pytest.approx(sum(windows) / 10)


def test_probe_events_use_the_probe_contracts(shapes_run):
    result, events = shapes_run
    norms = of_kind(events, "grad_norms")
    assert [e.step for e in norms] == [1, 51, 101, 151]
    names = list(norms[0].norms)
    assert names[0] == "stem.conv" and names[-1] == "fc" and names == list(result.net.layout.weighted_layers)
    assert all(v > 0 and math.isfinite(v) for v in norms[0].norms.values())
    responses = of_kind(events, "responses")[-1].responses
    assert list(responses) == [n for n in result.net.layout.weighted_layers if n != "fc"]
    assert all(v > 0 for v in responses.values())


def test_checkpoints_load_into_a_fresh_net(shapes_run):
    result, events = shapes_run
    last = of_kind(events, "checkpoint")[-1]
    assert last.epoch == 20 and all(t.device.type == "cpu" for t in last.model_state.values())
    net = build_net(NetSpec(depth=8, width=8))
    net.load_state_dict(last.model_state)
    for key, value in result.net.state_dict().items():
        assert torch.equal(value.cpu(), net.state_dict()[key])


# ------------------------------------------------------------------------ divergence, stop, resume


class NaNAfter(nn.Module):
    """Wraps a net and poisons its logits from the `bad`-th training forward on."""

    def __init__(self, net: nn.Module, bad: int) -> None:
        super().__init__()
        self.net, self.bad, self.calls = net, bad, 0

    def forward(self, x):
        if self.training:
            self.calls += 1
        out = self.net(x)
        return out * float("nan") if self.training and self.calls >= self.bad else out


def test_a_nan_loss_ends_the_run_as_diverged_at_its_step():
    events = []
    net = NaNAfter(build_net(TINY), bad=7)
    result = train(
        TINY, random_data(), TrainConfig(epochs=5, batch_size=8, **{**FAST, "log_every": 5}), events.append, net=net
    )
    assert result.status == "diverged" and result.diverged_step == 7
    diverged = of_kind(events, "diverged")
    assert len(diverged) == 1 and diverged[0].step == 7 and math.isnan(diverged[0].loss)
    assert diverged[0].epoch == pytest.approx(7 / 6)
    end = events[-1]
    assert end.kind == "end" and end.status == "diverged" and end.epoch == 1
    assert [e.step for e in of_kind(events, "step")] == [1, 2, 3, 4, 5, 6]  # 6: the end of epoch 1; none after


def test_a_huge_learning_rate_diverges_without_raising():
    result = train(
        NetSpec(depth=8, width=4, norm="none"), random_data(), TrainConfig(epochs=5, batch_size=8, lr=1e6, **FAST)
    )
    assert result.status == "diverged" and 1 <= result.diverged_step <= 30


def test_should_stop_ends_the_run_after_the_steps_done():
    events, calls = [], []

    def should_stop():
        calls.append(1)
        return len(calls) > 3

    result = train(
        TINY, random_data(), TrainConfig(epochs=5, batch_size=8, **FAST), events.append, should_stop=should_stop
    )
    assert result.status == "stopped" and result.step == 3 and result.epoch == 0
    assert events[-1] == rc.EndEvent("stopped", 0, 3, events[-1].seconds)
    assert of_kind(events, "step")[-1].step == 3  # the pending step was logged


def test_resuming_from_a_checkpoint_matches_an_uninterrupted_run():
    data = random_data(n_train=40)
    config = TrainConfig(epochs=3, batch_size=8, schedule="step", **{**FAST, "checkpoint_every": 1})
    straight = train(TINY, data, config)

    checkpoints = []
    train(
        TINY,
        data,
        config,
        lambda e: checkpoints.append(e) if e.kind == "checkpoint" else None,
        should_stop=lambda: len(checkpoints) == 1,
    )
    first = checkpoints[0]
    assert first.epoch == 1
    net = build_net(TINY)
    net.load_state_dict(first.model_state)
    resumed = train(TINY, data, config, net=net, start_epoch=first.epoch, optimizer_state=first.optimizer_state)

    assert resumed.status == "completed" and resumed.step == straight.step == 15
    assert [e.epoch for e in resumed.history] == [2, 3]
    for key, value in straight.net.state_dict().items():
        torch.testing.assert_close(resumed.net.state_dict()[key], value)


def test_a_gpu_runs_optimizer_state_resumes_on_the_cpu_with_the_cpus_update():
    """A GPU run's checkpoint says `fused: True` (one kernel per update there); resumed on the CPU the update is
    the CPU's, with the same result as a CPU checkpoint's."""
    data = random_data(n_train=40)
    config = TrainConfig(epochs=2, batch_size=8, **{**FAST, "checkpoint_every": 1})
    checkpoints: list = []
    train(TINY, data, config, lambda e: checkpoints.append(e) if e.kind == "checkpoint" else None)
    first = checkpoints[0]
    as_on_a_gpu = copy.deepcopy(first.optimizer_state)
    for group in as_on_a_gpu["param_groups"]:
        group["fused"] = True
    results = []
    for state in (first.optimizer_state, as_on_a_gpu):
        net = build_net(TINY)
        net.load_state_dict(first.model_state)
        results.append(train(TINY, data, config, net=net, start_epoch=1, optimizer_state=state))
    assert results[1].optimizer_state["param_groups"][0]["fused"] is False
    for key, value in results[0].net.state_dict().items():
        torch.testing.assert_close(results[1].net.state_dict()[key], value)


def test_head_init_scale_multiplies_the_fresh_classifier_and_nothing_else():
    # lr 0 and no momentum/decay: the weights after "training" are the initial ones, so they can be compared.
    spec, config = NetSpec(depth=8, width=4), TrainConfig(epochs=1, lr=0.0, weight_decay=0.0, batch_size=48, **FAST)
    plain = train(spec, random_data(), config).net.state_dict()
    scaled = train(spec, random_data(), config.replace(head_init_scale=0.1)).net.state_dict()
    assert torch.allclose(scaled["fc.weight"], 0.1 * plain["fc.weight"])
    assert all(torch.equal(scaled[k], plain[k]) for k in plain if k != "fc.weight" and "running" not in k)
    with pytest.raises(ValueError, match="head_init_scale"):
        TrainConfig(head_init_scale=-1.0)
