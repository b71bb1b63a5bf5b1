"""The trainer, the probes and a worker process on a CUDA GPU: bf16 autocast and channels_last there, weights
that mean the same on the CPU, probes equal to autograd's on the device. Skipped on a machine without one
(CI has none; BENCHMARKS.md, "GPU", says where and when these ran)."""

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import resnet_core as rc
from resnet_core.analysis.probes import gradient_norms, layer_responses, weight_modules
from resnet_core.data.datasets import load_dataset
from resnet_core.data.pixels import to_input
from resnet_core.model.net import build_net
from resnet_core.model.spec import NetSpec
from resnet_core.training.device import describe_device, pick_device
from resnet_core.training.train import TrainConfig, resolve_channels_last, resolve_precision, train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")

SPEC = NetSpec(depth=8, width=8)


@pytest.fixture(scope="module")
def cuda_run(tmp_path_factory):
    """A ResNet-8 trained for 600 steps on the GPU with the trainer's defaults there (bf16 autocast,
    channels_last)."""
    data = load_dataset("shapes", root=tmp_path_factory.mktemp("data"), train_size=1000, test_size=500)
    config = TrainConfig(
        epochs=30, batch_size=50, lr=0.1, schedule="constant", augment=False, device="cuda", log_every=5
    )
    events = []
    return train(SPEC, data, config, events.append), events, data


def test_auto_picks_the_gpu_and_names_it():
    assert pick_device("auto").type == "cuda"
    assert describe_device("cuda") == f"{torch.cuda.get_device_name(0)} (CUDA)"
    cuda = torch.device("cuda")
    assert resolve_precision("auto", cuda) == "bf16" and resolve_channels_last(None, cuda) is True


def test_the_trainer_learns_on_the_gpu(cuda_run):
    result, events, _ = cuda_run
    first = next(e for e in events if e.kind == "step").loss
    assert first == pytest.approx(math.log(10), rel=0.2)  # chance at the start
    assert result.status == "completed" and result.step == 600
    # 1,000 images are learned faster than they generalise: on the H200 (2026-12-04) the training loss went
    # from 2.49 to 0.60 (22 % training error) while the test error was 66 % (chance: 90 %).
    assert result.final.train_loss < 0.6 * first and result.final.train_error < 0.5
    assert result.final.test_error < 0.8
    assert next(result.net.parameters()).device.type == "cuda"
    norms = [e for e in events if e.kind == "grad_norms"][0].norms
    assert all(math.isfinite(v) and v > 0 for v in norms.values())


def test_the_compiled_trainer_replays_cuda_graphs_and_learns_as_the_eager_one(tmp_path):
    """`compile=True` on a GPU: CUDA graphs ("reduce-overhead") and the fused SGD update. Same seed, same batches:
    the first losses agree (bf16 on both, so not bit for bit) and both runs learn; the optimizer's state (what
    a checkpoint keeps) resumes on the CPU with the CPU's update."""
    data = load_dataset("shapes", root=tmp_path, train_size=1000, test_size=500)
    config = TrainConfig(
        epochs=6, batch_size=50, lr=0.1, schedule="constant", augment=False, device="cuda", log_every=1
    )
    runs = {}
    for compile in (False, True):
        events: list = []
        result = train(SPEC, data, config.replace(compile=compile), events.append)
        runs[compile] = result, [e.loss for e in events if e.kind == "step"]
        checkpoint = [e for e in events if e.kind == "checkpoint"][-1]
    (_, eager_losses), (graphed, graphed_losses) = runs[False], runs[True]
    assert eager_losses[:3] == pytest.approx(graphed_losses[:3], rel=0.02)
    for result, losses in runs.values():
        assert result.status == "completed" and result.final.train_loss < 0.8 * losses[0]
    assert graphed.optimizer_state["param_groups"][0]["fused"] is True
    net = build_net(SPEC)
    net.load_state_dict(checkpoint.model_state)
    resumed = train(
        SPEC,
        data,
        config.replace(epochs=7, device="cpu"),
        net=net,
        start_epoch=6,
        optimizer_state=checkpoint.optimizer_state,
    )
    assert resumed.status == "completed" and resumed.optimizer_state["param_groups"][0]["fused"] is False


def test_gpu_checkpoints_are_cpu_tensors_that_predict_the_same_on_the_cpu(cuda_run):
    """The checkpoint (what the run store keeps) is on the CPU; loaded into a CPU net in fp32 it classifies
    the test images as the GPU net does (bf16 on the GPU may flip a few near-ties, no more)."""
    result, events, data = cuda_run
    last = [e for e in events if e.kind == "checkpoint"][-1]
    assert all(t.device.type == "cpu" for t in last.model_state.values())
    cpu_net = build_net(SPEC)
    cpu_net.load_state_dict(last.model_state)
    images = to_input(data.test_images, data.mean, data.std)
    with torch.no_grad():
        on_cpu = cpu_net.eval()(images).argmax(1)
        on_gpu = result.net.eval()(images.cuda()).argmax(1).cpu()
    assert (on_cpu != on_gpu).float().mean().item() <= 0.02
    cpu_error = (on_cpu != data.test_labels).float().mean().item()
    assert cpu_error == pytest.approx(result.final.test_error, abs=0.02)


@pytest.mark.parametrize("skip", [True, False], ids=["residual", "plain"])
def test_probes_on_the_gpu_equal_autograd_there_and_on_the_cpu(skip):
    torch.manual_seed(0)
    net = build_net(NetSpec(depth=20, width=8, skip=skip)).cuda().train()
    g = torch.Generator().manual_seed(1)
    images, labels = torch.randn(16, 3, 32, 32, generator=g), torch.randint(0, 10, (16,), generator=g)
    twin = copy.deepcopy(net)
    F.cross_entropy(twin(images.cuda()), labels.cuda()).backward()
    expected = {name: m.weight.grad.norm().item() for name, m in weight_modules(twin)}
    norms = gradient_norms(net, images.cuda(), labels.cuda())
    assert list(norms) == list(expected) and norms == pytest.approx(expected, rel=1e-3)
    # Against the CPU: cuDNN's fp32 convolutions use TF32 by default (a 10-bit mantissa), hence 2 %.
    on_cpu = gradient_norms(copy.deepcopy(net).cpu(), images, labels)
    assert norms == pytest.approx(on_cpu, rel=2e-2)
    responses = layer_responses(net.eval(), images.cuda())
    assert responses == pytest.approx(layer_responses(copy.deepcopy(net).cpu().eval(), images), rel=2e-2)


def test_a_worker_process_trains_a_run_on_the_gpu(runner_factory, shapes_root):
    """Through the app's scheduler and a real worker process, as the Train page starts one, compiled (CUDA
    graphs) as the GPU presets train, with the probes and a checkpoint per epoch."""
    runner = runner_factory()
    train_config = TrainConfig(epochs=2, batch_size=50, lr=0.05, device="cuda", augment=False, compile=True)
    config = rc.RunConfig(train_config, train_size=500, test_size=100, data_dir=str(shapes_root))
    run_id = runner.submit(SPEC, config)
    assert runner.wait_idle(timeout=300)
    run = runner.store.get(run_id)
    assert run.status == "completed", run.error
    assert run.device == describe_device("cuda")
    assert [e["epoch"] for e in runner.store.epochs(run_id)] == [1, 2]
    names, steps, norms = runner.store.probe(run_id, "grad_norms")
    assert len(names) == len(weight_modules(build_net(SPEC))) and np.isfinite(norms).all() and (norms > 0).all()
    assert runner.store.latest_checkpoint(run_id)[0] == 2
