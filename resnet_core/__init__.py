"""ResNet Lab's library: build residual and plain nets, train them, look inside, explain them.

    import resnet_core as rc
    net = rc.build_net(rc.NetSpec(depth=56, skip=True))
    rc.count_params(net), rc.count_flops(net, input_size=(3, 32, 32))

It never imports streamlit: notebooks, the CLI and the app all use it the same way.
"""

from .counting import count_flops, count_params, layer_macs
from .device import describe_device, pick_device
from .net import BlockInfo, NetLayout, ResNet, StageInfo, build_net
from .spec import (
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
)
from .datasets import DATASETS, DatasetUnavailable, ImageDataset, load_dataset, sample_test_images
from .jobs import JobRunner
from .probes import gradient_norms, layer_responses
from .store import RunStore, runs_dir
from .summary import NetSummary, human_count, summarize
from .train import TrainConfig, TrainResult, train

__all__ = [
    "ACTIVATIONS", "BLOCKS", "DATASETS", "NORMS", "SHORTCUTS", "STEMS",
    "DatasetUnavailable", "ImageDataset", "JobRunner", "RunStore", "TrainConfig", "TrainResult",
    "gradient_norms", "layer_responses", "load_dataset", "runs_dir", "sample_test_images", "train",
    "BlockInfo", "NetLayout", "NetSpec", "ResNet", "StageInfo",
    "NetSummary", "build_net", "count_flops", "count_params", "describe_device", "human_count", "layer_macs",
    "nearest_depths", "pick_device", "spec_from_params", "spec_to_params", "summarize", "valid_depths",
]
