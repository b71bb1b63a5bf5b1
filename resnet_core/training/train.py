"""Training: one plain function, `train(spec, data, config, on_event) -> TrainResult`.

The CLI, the app's worker process and the tests all call it. It builds the net (or takes one to resume),
keeps the dataset on the device (`DeviceLoader`), runs SGD with the paper's recipe (He et al. 2015,
§4.2: batch 128, lr 0.1 ÷10 at 32k and 48k of 64k iterations, momentum 0.9, weight decay 1e-4, pad-crop-
flip augmentation) and reports what happens through `on_event`, one small frozen dataclass per event:

    kind          when                               fields
    "step"        steps 1 to `log_every` one by one, step, epoch, loss, error, lr, images_per_second
                  then every `log_every` steps
    "grad_norms"  step 1, then every k steps         step, epoch, norms {layer: float}
    "epoch"       end of each epoch                  epoch, step, train_loss, train_error, test_loss,
                                                     test_error, lr, seconds, images_per_second
    "responses"   end of each epoch (after "epoch")  epoch, step, responses {3×3 conv: float}
    "checkpoint"  every `checkpoint_every` epochs    epoch, step, model_state, optimizer_state (CPU copies)
    "diverged"    first non-finite or exploded loss  step, epoch, loss
    "end"         always, last                       status, epoch, step, seconds
    "phase"       "starting" first (net, data on the     phase, step, epoch
                  device); "training" as each epoch
                  starts; "evaluating" before each
                  end-of-epoch test pass

Conventions: errors are *fractions* in [0, 1] (a UI shows percent); `step` counts optimizer steps done
in the whole run (the first step is step 1); `epoch` is 1-based and counts finished epochs in "epoch",
"responses" and "checkpoint" events, and is fractional progress (step / steps per epoch) in "step",
"grad_norms", "diverged" and "phase" events, for x-axes. "phase" events say what the run does between
"step" events — seconds with no step while the net is built or the test set is evaluated — so a progress
display never looks frozen. Losses are mean cross-entropy per image.

The hot loop never waits for the device between logging points: losses and error counts stay on the
device until a "step" event copies them over in one go (every `log_every` steps), gradient norms are one
fused op copied every `grad_norm_every` steps. A NaN/Inf loss — or one that exploded by orders of
magnitude (`Divergence`) — is therefore noticed at the next logging point; the run then ends with status
"diverged", reporting the exact step it first happened at (the few steps in between cannot un-NaN the
weights).

Resuming: pass `net=` (with the checkpoint's weights loaded), `optimizer_state=` and `start_epoch=` (the
checkpoint's epoch). Batches are seeded per epoch, so the resumed run sees the same data it would have.
`should_stop()` is checked before every step; a stopped run ends with status "stopped" after the steps
done so far (the partial epoch is not an "epoch" event: resume from the last checkpoint).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..analysis.probes import WeightGradNorms, layer_responses
from ..data.datasets import ImageDataset
from ..data.loader import DeviceLoader, batches_per_epoch
from ..data.pixels import normalize
from ..model.net import build_net
from ..model.spec import NetSpec
from .config import PRECISIONS, SCHEDULES, TrainConfig  # noqa: F401 (their home was here: re-exported)
from .device import pick_device

WARMED_UP = "warmed_up"  # an optimizer param_group key: the warm-up by training error has ended
PHASES = ("starting", "training", "evaluating")  # PhaseEvent.phase, in the order a run goes through them


# ------------------------------------------------------------------------------------------ events


@dataclass(frozen=True)
class _Event:
    """What every event shares (each is a frozen dataclass of its own fields)."""

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (shallow: checkpoint tensors are not copied)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class StepEvent(_Event):
    step: int  # optimizer steps done in the run
    epoch: float  # progress in epochs: step / steps per epoch
    loss: float  # mean training loss over the steps since the previous "step" event
    error: float  # fraction of those steps' (augmented) training images misclassified
    lr: float  # learning rate of the last of those steps
    images_per_second: float  # training throughput over those steps, wall clock
    kind: str = field(default="step", init=False)


@dataclass(frozen=True)
class GradNormsEvent(_Event):
    step: int  # the step whose gradients these are
    epoch: float  # progress in epochs
    norms: dict[str, float]  # Conv2d/Linear name -> L2 norm of its weight gradient; see probes.py
    kind: str = field(default="grad_norms", init=False)


@dataclass(frozen=True)
class EpochEvent(_Event):
    epoch: int  # epochs finished (1-based)
    step: int
    train_loss: float  # mean over this epoch's training batches (augmented, train-mode BN, moving weights)
    train_error: float  # fraction
    test_loss: float  # the whole test set, eval mode, after the epoch
    test_error: float  # fraction
    lr: float  # learning rate of the epoch's last step
    seconds: float  # wall time of the epoch's training steps only (no test pass, no responses probe)
    images_per_second: float  # training images / seconds
    kind: str = field(default="epoch", init=False)


@dataclass(frozen=True)
class ResponsesEvent(_Event):
    epoch: int
    step: int
    responses: dict[str, float]  # 3×3 conv name -> std of its response on the fixed probe images (eval mode)
    kind: str = field(default="responses", init=False)


@dataclass(frozen=True)
class CheckpointEvent(_Event):
    epoch: int  # resume with start_epoch=epoch
    step: int
    model_state: dict[str, torch.Tensor] = field(repr=False)  # net.state_dict(), copied to the CPU
    optimizer_state: dict[str, Any] = field(repr=False)  # optimizer.state_dict(), copied to the CPU
    kind: str = field(default="checkpoint", init=False)


@dataclass(frozen=True)
class DivergedEvent(_Event):
    step: int  # the first step whose loss was NaN or infinite
    epoch: float
    loss: float
    kind: str = field(default="diverged", init=False)


@dataclass(frozen=True)
class EndEvent(_Event):
    status: str  # "completed", "stopped" or "diverged": the run statuses store/status.ENDINGS names
    epoch: int  # epochs finished
    step: int
    seconds: float  # wall time of the whole call
    kind: str = field(default="end", init=False)


@dataclass(frozen=True)
class PhaseEvent(_Event):
    phase: str  # one of PHASES: "evaluating" covers the test pass, the responses probe and the checkpoint
    step: int  # optimizer steps done so far
    epoch: float  # progress in epochs
    kind: str = field(default="phase", init=False)


Event = (
    StepEvent | GradNormsEvent | EpochEvent | ResponsesEvent | CheckpointEvent | DivergedEvent | EndEvent | PhaseEvent
)


@dataclass
class TrainResult:
    status: str  # "completed", "stopped" or "diverged": the run statuses store/status.ENDINGS names
    net: nn.Module  # the trained net, on the training device
    epoch: int  # epochs finished (including those before `start_epoch`)
    step: int  # optimizer steps done
    history: list[EpochEvent]  # this call's epochs
    optimizer_state: dict[str, Any] = field(repr=False)  # optimizer.state_dict() at the end (on device)
    seconds: float = 0.0
    diverged_step: int | None = None

    @property
    def final(self) -> EpochEvent | None:
        return self.history[-1] if self.history else None


# ---------------------------------------------------------------------------------------- schedule


def learning_rate(step: int, total_steps: int, lr: float, schedule: str = "step", warmup_steps: int = 0) -> float:
    """Learning rate of 0-based `step` out of `total_steps`.

    "step" divides by 10 from the step at 50% of training and again at 75% (§4.2: 32k and 48k of 64k);
    "cosine" anneals from lr to 0 over the whole run. During the first `warmup_steps` the rate is lr/10
    whatever the schedule (§4.2's warm-up for ResNet-110: 0.01, then back to 0.1).
    """
    if step < warmup_steps:
        return lr * 0.1
    if schedule == "constant":
        return lr
    if schedule == "cosine":
        return lr * 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / max(total_steps, 1)))
    if schedule == "step":
        drops = int(step >= total_steps // 2) + int(step >= total_steps * 3 // 4)
        return lr * 0.1**drops
    raise ValueError(f"schedule {schedule!r} is not valid; choose one of: {', '.join(SCHEDULES)}")


# ------------------------------------------------------------------------------- device settings


def resolve_precision(precision: str, device: torch.device) -> str:
    """ "fp32" or "bf16": "auto" is bf16 autocast on CUDA only (CPUs without bf16 units get slower)."""
    if precision == "auto":
        return "bf16" if device.type == "cuda" else "fp32"
    return precision


def resolve_channels_last(channels_last: bool | None, device: torch.device) -> bool:
    """NHWC is faster for convs on CUDA (tensor cores) and with oneDNN on the CPU (see BENCHMARKS.md, 'CPU')."""
    return device.type in ("cuda", "cpu") if channels_last is None else channels_last


def autocast(device: torch.device, precision: str) -> torch.autocast:
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def make_optimizer(net: nn.Module, config: TrainConfig) -> torch.optim.SGD:
    """Plain SGD with momentum; weight decay on every parameter, as the paper (and Caffe) did. On a GPU the
    fused update: one kernel for all parameters instead of a few per tensor (BENCHMARKS.md, "GPU")."""
    return torch.optim.SGD(
        net.parameters(),
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
        fused=_on_cuda(net),
    )


def _on_cuda(net: nn.Module) -> bool:
    return any(p.is_cuda for p in net.parameters())


# ------------------------------------------------------------------------------------------ train


def train(
    spec: NetSpec,
    data: ImageDataset,
    config: TrainConfig | None = None,
    on_event: Callable[[Event], None] | None = None,
    *,
    net: nn.Module | None = None,
    start_epoch: int = 0,
    optimizer_state: dict[str, Any] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train `spec` (or the given `net`) on `data`; see the module docstring for events and resuming."""
    config = config or TrainConfig()
    emit = on_event or (lambda event: None)
    _check_fit(spec, data)
    if not 0 <= start_epoch <= config.epochs:
        raise ValueError(f"start_epoch must be between 0 and epochs={config.epochs}, got {start_epoch}")
    started = time.perf_counter()
    first_step = start_epoch * batches_per_epoch(len(data.train_labels), config.batch_size)
    emit(PhaseEvent("starting", first_step, float(start_epoch)))  # building the net, data to the device
    device = pick_device(config.device)
    precision = resolve_precision(config.precision, device)
    channels_last = resolve_channels_last(config.channels_last, device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels once

    if net is None:
        with torch.random.fork_rng(devices=[]):  # the seed picks the weights; the caller's RNG is untouched
            torch.manual_seed(config.seed)
            net = build_net(spec)
        if config.head_init_scale != 1.0:
            with torch.no_grad():
                net.fc.weight.mul_(config.head_init_scale)
    net = net.to(device).to(memory_format=torch.channels_last if channels_last else torch.preserve_format)
    optimizer = make_optimizer(net, config)
    if optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)
        for group in optimizer.param_groups:  # the state may come from another device: update as this one does
            group["fused"], group["foreach"] = _on_cuda(net), None
    # §4.2's ResNet-110 warm-up as the paper states it: lr/10 until the training error is below 80%. Its end
    # is kept in the optimizer's state (so in checkpoints): a resumed run does not warm up again.
    warming = config.warmup_until_error > 0 and not optimizer.param_groups[0].get(WARMED_UP, False)
    # dynamic=False: one graph per batch shape (train, last partial batch, eval) rather than a slower
    # shape-generic graph. `model` shares `net`'s parameters; the probes hook `net` itself.
    model = compiled(net, device) if config.compile else net

    # Both splits normalised alike (the dataset's mean and std), on the same device and memory format.
    loader = functools.partial(DeviceLoader, device=device, mean=data.mean, std=data.std, channels_last=channels_last)
    train_loader = loader(
        data.train_images,
        data.train_labels,
        batch_size=config.batch_size,
        augment=config.augment,
        pad_mode=config.pad_mode,
        shuffle=True,
        seed=config.seed,
    )
    test_loader = loader(data.test_images, data.test_labels, batch_size=config.eval_batch_size)
    probe_images = _probe_images(test_loader, config.probe_batch_size) if config.probe_batch_size else None
    grad_probe = WeightGradNorms(net, _probe_images(test_loader, 2)) if config.grad_norm_every else None

    steps_per_epoch = len(train_loader)
    total_steps = steps_per_epoch * config.epochs
    warmup_steps = round(config.warmup_epochs * steps_per_epoch)
    step = start_epoch * steps_per_epoch
    lr = learning_rate(step, total_steps, config.lr, config.schedule, warmup_steps)
    status, epoch, history, diverged_step = "completed", start_epoch, [], None
    divergence = Divergence(spec.num_classes)

    for epoch_index in range(start_epoch, config.epochs):
        emit(PhaseEvent("training", step, step / steps_per_epoch))
        net.train()
        meter = _Meter()
        for images, labels in train_loader.batches(epoch_index):
            if should_stop is not None and should_stop():
                status = "stopped"
                break
            lr = (
                config.lr * 0.1
                if warming
                else learning_rate(step, total_steps, config.lr, config.schedule, warmup_steps)
            )
            for group in optimizer.param_groups:
                group["lr"] = lr
            with autocast(device, precision):
                logits = model(images)  # (B, num_classes)
                loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if grad_probe is not None and step % config.grad_norm_every == 0:
                norms = grad_probe.to_dict(grad_probe.compute())  # before step(): the loss's own gradient
                emit(GradNormsEvent(step + 1, (step + 1) / steps_per_epoch, norms))
            optimizer.step()
            step += 1
            meter.add(loss, logits, labels)  # device tensors: no sync
            # The run's first steps are logged one by one, so its curve starts with its first step: on a
            # CPU, waiting for step `log_every` would keep a new chart empty for seconds (see BENCHMARKS.md,
            # 'Time to first point').
            if step % config.log_every == 0 or step % steps_per_epoch == 0 or step < config.log_every:
                diverged_step = _log_steps(meter, step, steps_per_epoch, lr, emit, divergence)
                if diverged_step is not None:
                    break
                if warming and meter.last_error < config.warmup_until_error:
                    warming = False  # from the next step on, the schedule's rate
                    for group in optimizer.param_groups:
                        group[WARMED_UP] = True
        else:  # the epoch ran to its end
            epoch = epoch_index + 1
            seconds = time.perf_counter() - meter.epoch_started
            emit(PhaseEvent("evaluating", step, float(epoch)))  # the test pass takes seconds with no step event
            test_loss, test_error = evaluate(model, test_loader, device, precision)
            event = EpochEvent(
                epoch,
                step,
                meter.loss_sum / meter.images,
                meter.wrong / meter.images,
                test_loss,
                test_error,
                lr,
                seconds,
                meter.images / seconds,
            )
            history.append(event)
            emit(event)
            if probe_images is not None:  # net is in eval mode after `evaluate`: Fig. 7 is on test data
                emit(ResponsesEvent(epoch, step, layer_responses(net, probe_images)))
            if config.checkpoint_every and (epoch % config.checkpoint_every == 0 or epoch == config.epochs):
                emit(CheckpointEvent(epoch, step, _to_cpu(net.state_dict()), _to_cpu(optimizer.state_dict())))
            continue
        # Stopped or diverged in the middle of an epoch: log what is pending, then end.
        if diverged_step is None:
            diverged_step = _log_steps(meter, step, steps_per_epoch, lr, emit, divergence)
        if diverged_step is not None:
            status = "diverged"
            emit(DivergedEvent(diverged_step, diverged_step / steps_per_epoch, meter.bad_loss))
        break

    seconds = time.perf_counter() - started
    emit(EndEvent(status, epoch, step, seconds))
    return TrainResult(status, net, epoch, step, history, optimizer.state_dict(), seconds, diverged_step)


class _Meter:
    """Loss and error of each step, kept on the device until a logging point copies them over at once;
    the epoch's totals, summed on the host from those copies."""

    def __init__(self) -> None:
        self.epoch_started = self.window_started = time.perf_counter()
        self.losses: list[torch.Tensor] = []  # 0-d: mean loss of each pending step
        self.wrong_counts: list[torch.Tensor] = []  # 0-d: misclassified images of each pending step
        self.sizes: list[int] = []  # images of each pending step (known on the host: no sync)
        self.loss_sum = self.wrong = self.images = 0.0  # epoch totals of the flushed steps
        self.last_error = 1.0  # error fraction of the last flushed window (the last "step" event's)
        self.bad_loss = math.nan

    def add(self, loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
        with torch.no_grad():
            self.losses.append(loss.detach().float())
            self.wrong_counts.append((logits.argmax(dim=1) != labels).sum())
        self.sizes.append(labels.shape[0])

    def flush(self) -> tuple[list[float], list[float], list[int], float]:
        """Pending (losses, wrong counts, sizes) on the host — one sync — and the seconds they took."""
        pending = torch.stack([torch.stack(self.losses), torch.stack(self.wrong_counts).float()])  # (2, n)
        losses, wrong = pending.tolist()
        sizes, now = self.sizes, time.perf_counter()
        seconds, self.window_started = now - self.window_started, now
        self.losses, self.wrong_counts, self.sizes = [], [], []
        return losses, wrong, sizes, seconds


class Divergence:
    """When a training loss means the run has diverged: not finite, or exploded by orders of magnitude —
    above both 1000 × the first loss this call logged and 100 × ln(classes) (chance level is ln(classes)).
    NaN is not the only way out: at lr 1000 a BatchNorm net's loss climbs to ~1e20 and stays finite, and
    SGD does not come back from there."""

    def __init__(self, num_classes: int, factor: float = 1e3, chance_factor: float = 100.0) -> None:
        self.factor, self.floor = factor, chance_factor * math.log(max(num_classes, 2))
        self.first: float | None = None

    def __call__(self, loss: float) -> bool:
        if not math.isfinite(loss):
            return True
        if self.first is None:
            self.first = loss
        return loss > max(self.floor, self.factor * self.first)


def _log_steps(
    meter: _Meter,
    step: int,
    steps_per_epoch: int,
    lr: float,
    emit: Callable,
    diverged: Callable[[float], bool] = lambda loss: not math.isfinite(loss),
) -> int | None:
    """Flush the meter and emit a "step" event for the pending steps (the last of which is `step`).
    Returns the first step whose loss `diverged` instead, if there was one (no event then)."""
    if not meter.sizes:
        return None
    losses, wrong, sizes, seconds = meter.flush()
    first = step - len(losses) + 1
    for i, value in enumerate(losses):
        if diverged(value):
            meter.bad_loss = value
            return first + i
    images = sum(sizes)
    loss_sum = sum(v * n for v, n in zip(losses, sizes))
    meter.loss_sum += loss_sum
    meter.wrong += sum(wrong)
    meter.images += images
    meter.last_error = sum(wrong) / images
    emit(
        StepEvent(step, step / steps_per_epoch, loss_sum / images, sum(wrong) / images, lr, images / max(seconds, 1e-9))
    )
    return None


@torch.no_grad()
def compiled(net: nn.Module, device: torch.device) -> nn.Module:
    """`torch.compile(net, dynamic=False)`, typed as the module it is (torch types it as a bare callable). On a
    GPU with CUDA graphs ("reduce-overhead"): a small net's step is bound by launching its kernels one by one
    from the host, which a replayed graph skips (BENCHMARKS.md, "GPU")."""
    mode = "reduce-overhead" if device.type == "cuda" else None
    model = torch.compile(net, dynamic=False, mode=mode)
    assert isinstance(model, nn.Module), "torch.compile wraps a module in an OptimizedModule"
    return model


def evaluate(
    model: nn.Module, loader: DeviceLoader, device: torch.device, precision: str = "fp32"
) -> tuple[float, float]:
    """Mean cross-entropy and error fraction of `model` over the loader's images, in eval mode."""
    model.eval()
    loss_sum = torch.zeros((), device=device)
    wrong = torch.zeros((), device=device, dtype=torch.int64)
    for images, labels in loader.batches():
        with autocast(device, precision):
            logits = model(images)
        loss_sum += F.cross_entropy(logits.float(), labels, reduction="sum")
        wrong += (logits.argmax(dim=1) != labels).sum()
    loss_total, wrong_total = torch.stack([loss_sum, wrong.float()]).tolist()  # one sync
    return loss_total / loader.num_images, wrong_total / loader.num_images


def _probe_images(test_loader: DeviceLoader, size: int) -> torch.Tensor:
    """The first `size` test images, normalised: the same images at every epoch."""
    images = test_loader.images[:size]
    return normalize(images, test_loader.scale, test_loader.shift, channels_last=test_loader.channels_last)


def _to_cpu(obj: Any) -> Any:
    """A deep copy with every tensor on the CPU (checkpoints outlive the training loop's tensors)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _check_fit(spec: NetSpec, data: ImageDataset) -> None:
    if spec.num_classes != data.num_classes:
        raise ValueError(
            f"the net has num_classes={spec.num_classes} but {data.name} has {data.num_classes} "
            f"classes; use NetSpec(num_classes={data.num_classes})"
        )
    if spec.in_channels != data.in_channels:
        raise ValueError(
            f"the net has in_channels={spec.in_channels} but {data.name} images have {data.in_channels} channels"
        )
