"""ResNet Lab's library: build residual and plain nets, train them, look inside, explain them.

    import resnet_core as rc
    net = rc.build_net(rc.NetSpec(depth=56, skip=True))
    rc.count_params(net), rc.count_flops(net, input_size=(3, 32, 32))

It never imports streamlit: notebooks, the CLI and the app all use it the same way.

The public names below are imported on first use (a module `__getattr__`, PEP 562): `import resnet_core`
costs nothing, so `python -m resnet_core runs` lists runs without loading torch and Captum.
"""

from __future__ import annotations

from importlib import import_module

_HOMES = {  # module -> the public names it provides
    ".analysis.attributions": ("explain",),
    ".analysis.landscape": ("loss_landscape",),
    ".analysis.lesion": ("lesion",),
    ".analysis.probes": ("gradient_norms", "layer_responses"),
    ".data.datasets": ("DATASETS", "DatasetUnavailable", "ImageDataset", "load_dataset", "sample_test_images"),
    ".data.loader": ("DeviceLoader",),
    ".model.counting": ("count_flops", "count_params", "layer_macs"),
    ".model.net": ("BlockInfo", "NetLayout", "ResNet", "StageInfo", "build_net"),
    ".model.spec": (
        "ACTIVATIONS",
        "BLOCKS",
        "NORMS",
        "SHORTCUTS",
        "STEMS",
        "NetSpec",
        "nearest_depths",
        "spec_from_params",
        "spec_to_params",
        "valid_depths",
    ),
    ".model.summary": ("NetSummary", "human_count", "summarize"),
    ".store.config": ("RunConfig",),
    ".execution.jobs": ("JobRunner",),
    ".store.run_store": ("RunStore", "runs_dir"),
    ".training.device": ("describe_device", "pick_device"),
    ".training.train": (
        "CheckpointEvent",
        "DivergedEvent",
        "EndEvent",
        "EpochEvent",
        "GradNormsEvent",
        "PhaseEvent",
        "ResponsesEvent",
        "StepEvent",
        "TrainConfig",
        "TrainResult",
        "learning_rate",
        "train",
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = list(_HOME_OF)  # the public names are what _HOMES lists: one list to keep


def __getattr__(name: str):
    if name not in _HOME_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_HOME_OF[name], __name__), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
