"""`RunConfig`: everything a run needs besides its net — how it trains and on which data.

The Train page, the CLI and the experiments create one; the store keeps it as the flat JSON object it has
always been (TrainConfig's fields, the data keys, the experiment tag), so rows written by earlier versions
read back unchanged; the worker reads `config.train` and `config.data_options()`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..training.config import TrainConfig

TRAIN_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig))


@dataclass(frozen=True)
class RunConfig:
    train: TrainConfig = field(default_factory=TrainConfig)
    train_size: int | None = None  # a class-balanced subset of the training images; None: all of them
    test_size: int | None = None  # likewise for the test images
    data_dir: str | None = None  # where the dataset lives; None: RESNET_LAB_DATA or ~/.cache/resnet-lab/data
    data_seed: int = 0  # which subset (and, for `shapes`, which rendering)
    experiment: str | None = None  # the experiment a run belongs to (runs/experiments.py), if any

    def __post_init__(self) -> None:
        for name in ("train_size", "test_size"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
        if isinstance(self.data_seed, bool) or not isinstance(self.data_seed, int) or self.data_seed < 0:
            raise ValueError(f"data_seed must be a whole number >= 0, got {self.data_seed!r}")

    def __getattr__(self, name: str):
        # `config.epochs` reads through to the training recipe (only called for names not found above).
        if name in TRAIN_FIELDS:
            return getattr(self.train, name)
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def replace(self, **changes) -> RunConfig:
        """A copy with some fields changed; TrainConfig's fields (epochs, lr, …) may be given directly."""
        train = {k: changes.pop(k) for k in list(changes) if k in TRAIN_FIELDS}
        if train:
            changes["train"] = self.train.replace(**train)
        return dataclasses.replace(self, **changes)

    def data_options(self) -> dict:
        """Keyword arguments of `load_dataset` for this run's data."""
        options = {
            "root": self.data_dir,
            "train_size": self.train_size,
            "test_size": self.test_size,
            "seed": self.data_seed,
        }
        return {k: v for k, v in options.items() if v is not None}

    def to_dict(self) -> dict:
        """The stored form: one flat JSON object, keys left out where they hold no choice."""
        data = self.train.to_dict()
        for name in ("train_size", "test_size", "data_dir", "experiment"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.data_seed:
            data["data_seed"] = self.data_seed
        return data

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        """Inverse of `to_dict`; missing TrainConfig fields take their defaults (rows of older versions).
        ValueError names unknown keys and invalid values."""
        own = {f.name for f in dataclasses.fields(cls)} - {"train"}
        unknown = sorted(set(data) - set(TRAIN_FIELDS) - own)
        if unknown:
            raise ValueError(f"unknown run config keys {unknown}; valid: {sorted(set(TRAIN_FIELDS) | own)}")
        train = TrainConfig(**{k: v for k, v in data.items() if k in TRAIN_FIELDS})
        return cls(train=train, **{k: v for k, v in data.items() if k in own and v is not None})

    @classmethod
    def of(cls, config: RunConfig | TrainConfig | dict | None) -> RunConfig:
        """Whatever a caller has (a RunConfig, a bare TrainConfig, the stored dict) as a RunConfig."""
        if config is None:
            return cls()
        if isinstance(config, RunConfig):
            return config
        if isinstance(config, TrainConfig):
            return cls(train=config)
        return cls.from_dict(dict(config))
