"""ResNet Lab's library: build residual and plain nets, train them, look inside, explain them.

    import resnet_core as rc
    net = rc.build_net(rc.NetSpec(depth=56, skip=True))
    rc.count_params(net), rc.count_flops(net, input_size=(3, 32, 32))

It never imports streamlit: notebooks, the CLI and the app all use it the same way.
"""

from .analysis.attributions import explain
from .analysis.landscape import loss_landscape
from .analysis.lesion import lesion
from .analysis.probes import gradient_norms, layer_responses
from .data.datasets import DATASETS, DatasetUnavailable, ImageDataset, load_dataset, sample_test_images
from .data.loader import DeviceLoader
from .model.counting import count_flops, count_params, layer_macs
from .model.net import BlockInfo, NetLayout, ResNet, StageInfo, build_net
from .model.spec import (
    ACTIVATIONS,
    BLOCKS,
    NORMS,
    SHORTCUTS,
    STEMS,
    NetSpec,
    nearest_depths,
    spec_from_params,
    spec_to_params,
    valid_depths,
)  # fmt: skip
from .model.summary import NetSummary, human_count, summarize
from .runs.config import RunConfig
from .runs.jobs import JobRunner
from .runs.store import RunStore, runs_dir
from .training.device import describe_device, pick_device
from .training.train import (
    CheckpointEvent,
    DivergedEvent,
    EndEvent,
    EpochEvent,
    GradNormsEvent,
    ResponsesEvent,
    StepEvent,
    TrainConfig,
    TrainResult,
    learning_rate,
    train,
)  # fmt: skip

__all__ = [
    # the net
    "ACTIVATIONS", "BLOCKS", "NORMS", "SHORTCUTS", "STEMS", "BlockInfo", "NetLayout", "NetSpec", "NetSummary",
    "ResNet", "StageInfo", "build_net", "count_flops", "count_params", "human_count", "layer_macs",
    "nearest_depths", "spec_from_params", "spec_to_params", "summarize", "valid_depths",
    # data, device, training
    "DATASETS", "DatasetUnavailable", "DeviceLoader", "ImageDataset", "load_dataset", "sample_test_images",
    "describe_device", "pick_device", "TrainConfig", "TrainResult", "learning_rate", "train",
    "CheckpointEvent", "DivergedEvent", "EndEvent", "EpochEvent", "GradNormsEvent", "ResponsesEvent", "StepEvent",
    # runs
    "JobRunner", "RunConfig", "RunStore", "runs_dir",
    # looking inside, explaining, why residual nets train
    "explain", "gradient_norms", "layer_responses", "lesion", "loss_landscape",
]  # fmt: skip
