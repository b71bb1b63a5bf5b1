"""Checkpoints as safetensors, written atomically: a torn write never replaces a good file.

Never unpickle: tensors go into safetensors, everything else (optimizer hyper-parameters, epoch, step)
into its JSON metadata. Loading uses `safetensors` only — no `torch.load`.

Each file carries the SHA-256 of its tensors in its metadata: a file damaged after it was written (a bad
disk, a copy cut short, bytes changed by hand) raises `CheckpointCorrupt` instead of loading wrong weights.
Files written before the checksum existed load unchecked.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes

from ..atomic import write_atomically

MODEL_PREFIX = "model."
OPTIMIZER_PREFIX = "optimizer."


class CheckpointCorrupt(ValueError):
    """A checkpoint that cannot be trusted: truncated, not safetensors, or its checksum does not match."""


def save_checkpoint(
    path: Path, model_state: dict[str, torch.Tensor], optimizer_state: dict | None = None, meta: dict | None = None
) -> None:
    """Model weights and buffers, the optimizer's tensors and JSON-able facts, in one safetensors file."""
    write_atomically(Path(path), checkpoint_bytes(model_state, optimizer_state, meta))


def checkpoint_bytes(
    model_state: dict[str, torch.Tensor], optimizer_state: dict | None = None, meta: dict | None = None
) -> bytes:
    """What `save_checkpoint` writes, as bytes (a Ray task sends its checkpoints to the driver this way)."""
    tensors = {MODEL_PREFIX + k: v.detach().to("cpu").contiguous() for k, v in model_state.items()}
    opt_meta = None
    if optimizer_state is not None:
        opt_tensors, opt_meta = _split_optimizer_state(optimizer_state)
        tensors.update({OPTIMIZER_PREFIX + k: v for k, v in opt_tensors.items()})
    metadata = {"meta": json.dumps(meta or {}), "optimizer": json.dumps(opt_meta), "sha256": tensors_sha256(tensors)}
    return save_bytes(tensors, metadata=metadata)


def load_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict | None, dict]:
    """(model state_dict, optimizer state_dict or None, meta) from a file written by `save_checkpoint`;
    `CheckpointCorrupt`, naming the file, if it is damaged."""
    try:
        return read_checkpoint_bytes(Path(path).read_bytes())
    except CheckpointCorrupt as err:
        raise CheckpointCorrupt(f"{path}: {err}") from None


def read_checkpoint_bytes(data: bytes) -> tuple[dict[str, torch.Tensor], dict | None, dict]:
    """`load_checkpoint` of a checkpoint held in memory (`checkpoint_bytes`, or a checkpoint file's bytes)."""
    try:
        tensors = load_bytes(data)
        metadata = _read_metadata(data)
        if "sha256" in metadata and metadata["sha256"] != tensors_sha256(tensors):
            raise CheckpointCorrupt("its tensors do not match their checksum (the file was changed or damaged)")
        model = {k[len(MODEL_PREFIX) :]: v for k, v in tensors.items() if k.startswith(MODEL_PREFIX)}
        opt_meta = json.loads(metadata.get("optimizer", "null"))
        optimizer = None
        if opt_meta is not None:
            opt_tensors = {k[len(OPTIMIZER_PREFIX) :]: v for k, v in tensors.items() if k.startswith(OPTIMIZER_PREFIX)}
            optimizer = _join_optimizer_state(opt_tensors, opt_meta)
        return model, optimizer, json.loads(metadata.get("meta", "{}"))
    except CheckpointCorrupt:
        raise
    except Exception as err:  # safetensors' own error, a cut-off header, a skeleton naming missing tensors
        raise CheckpointCorrupt(f"not a whole checkpoint ({type(err).__name__}: {err})") from err


def tensors_sha256(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, in name order (what the file must hold)."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().data)  # the bytes as they are: no copy
    return digest.hexdigest()


def _read_metadata(data: bytes) -> dict[str, str]:
    header_len = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + header_len])
    return header.get("__metadata__", {})


def _split_optimizer_state(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """torch optimizer state_dict -> flat tensors + a JSON skeleton naming where each tensor goes."""
    tensors, skeleton = {}, {"param_groups": state["param_groups"], "state": {}}
    for index, entries in state["state"].items():
        skeleton["state"][str(index)] = {}
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                key = f"{index}.{name}"
                tensors[key] = value.detach().to("cpu").contiguous()
                skeleton["state"][str(index)][name] = {"tensor": key}
            else:
                skeleton["state"][str(index)][name] = {"value": value}
    return tensors, skeleton


def _join_optimizer_state(tensors: dict[str, torch.Tensor], skeleton: dict) -> dict:
    state = {
        int(index): {name: tensors[v["tensor"]] if "tensor" in v else v["value"] for name, v in entries.items()}
        for index, entries in skeleton["state"].items()
    }
    return {"state": state, "param_groups": skeleton["param_groups"]}
