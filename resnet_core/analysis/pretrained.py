"""torchvision's ImageNet-pretrained ResNet-18/50, as a `Classifier`, to explain photos with (a stored
run's net comes from `store.loading.classifier_from_run`).

    clf = load_pretrained("resnet18")            # only if is_cached("resnet18"); else PretrainedUnavailable
    x = to_input(fit_square(img, clf.input_size, clf.resize_size), clf.mean, clf.std)

ImageNet weights are fetched once into the torch hub cache (`torch.hub.get_dir()/checkpoints`), only
when asked (`download`, with a socket timeout), never on import or page load: offline, `is_cached` is
simply False and `offline_words` say what to do. They are read with `torch.load(weights_only=True)`,
which unpickles tensors only (ARCHITECTURE.md, "Rules": never unpickle arbitrary objects).
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import torch
from torch import nn

from ..atomic import atomic_file
from ..words import WordedError, Words
from .classifier import Classifier

# name -> (label, torchvision builder, weights enum class, weights member, download size in MB)
PRETRAINED = {
    "resnet18": ("ResNet-18 (ImageNet, torchvision)", "resnet18", "ResNet18_Weights", "IMAGENET1K_V1", 45),
    "resnet50": ("ResNet-50 (ImageNet, torchvision)", "resnet50", "ResNet50_Weights", "IMAGENET1K_V2", 98),
}
DOWNLOAD_TIMEOUT = 10.0  # seconds without a byte before a download gives up (offline: fails at once)
DOWNLOAD_DEADLINE = 600.0  # seconds for the whole file


class PretrainedUnavailable(WordedError, RuntimeError):
    """ImageNet weights are not in the cache and could not be fetched; the message says what to do, in words
    the Explain page says in the reader's language (words.py)."""


# ---------------------------------------------------------------------------------------- ImageNet


def _weights(name: str):
    if name not in PRETRAINED:
        raise ValueError(f"unknown pretrained model {name!r}; choose one of: {', '.join(PRETRAINED)}")
    import torchvision.models as tvm  # slow to import: only when asked

    _, _, enum_name, member, _ = PRETRAINED[name]
    return getattr(getattr(tvm, enum_name), member)


def weights_url(name: str) -> str:
    return _weights(name).url


def weights_path(name: str) -> Path:
    """Where torch.hub keeps the file (`torch.hub.get_dir()/checkpoints/<file name of the URL>`)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights_url(name)).name


def is_cached(name: str) -> bool:
    """Whether the weights file is already on disk (looks at the file only; never opens the network)."""
    path = weights_path(name)
    return path.is_file() and path.stat().st_size > 0


def label(name: str) -> str:
    return PRETRAINED[name][0]


def offline_words(name: str) -> Words:
    """Where the weights come from and go, while they are not here (shown on Explain, raised by load_pretrained)."""
    return Words(
        "The {label} weights are not on this machine yet. They are downloaded once (about {size} MB) from {url} "
        "into {folder}. Press the download button while online, or copy that file there by hand. Trained runs from "
        "the Train page work without it.",
        label=label(name),
        size=PRETRAINED[name][4],
        url=weights_url(name),
        folder=str(weights_path(name).parent),
    )


def download(name: str, timeout: float = DOWNLOAD_TIMEOUT, deadline: float = DOWNLOAD_DEADLINE) -> Path:
    """Fetch the weights into the torch hub cache; the file appears whole or not at all.

    The SHA-256 prefix in the file name is checked (as torch.hub does). Any failure — offline, DNS,
    timeout, a bad hash, a full disk — raises `PretrainedUnavailable` with a message for the user.
    """
    url, path = weights_url(name), weights_path(name)
    expected = Path(url).stem.rsplit("-", 1)[-1]  # resnet18-f37072fd.pth -> f37072fd
    started = time.monotonic()
    try:
        _resolve(urllib.parse.urlsplit(url).hostname or "", timeout)
        # a fixed https URL from torchvision; the file appears only when whole and checked
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_file(path, ".part") as f:
            digest = hashlib.sha256()
            while chunk := response.read(1 << 20):
                if time.monotonic() - started > deadline:
                    raise TimeoutError(f"the download took longer than {deadline:.0f} s")
                digest.update(chunk)
                f.write(chunk)
            if not digest.hexdigest().startswith(expected):
                raise ValueError("the downloaded file does not match its checksum")
    except Exception as err:
        raise PretrainedUnavailable(
            "Could not download the {label} weights ({kind}: {reason}). This machine may be offline: try again when "
            "online, or copy {file} into {folder} by hand.",
            label=label(name),
            kind=type(err).__name__,
            reason=str(err)[:200],
            file=path.name,
            folder=str(path.parent),
        ) from None
    return path


def _resolve(host: str, timeout: float) -> None:
    """Look the host up in a daemon thread: socket timeouts do not cover DNS, which can hang offline."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(_try(socket.getaddrinfo, host, 443)), daemon=True)
    thread.start()
    thread.join(timeout)
    if not result:
        raise TimeoutError(f"looking up {host} took longer than {timeout:.0f} s")
    if isinstance(result[0], Exception):
        raise result[0]


def _try(func, *args):
    try:
        return func(*args)
    except Exception as err:
        return err


def load_pretrained(name: str) -> Classifier:
    """torchvision's ImageNet ResNet from the cached weights file (`PretrainedUnavailable` if missing)."""
    import torchvision.models as tvm

    weights = _weights(name)
    path = weights_path(name)
    if not is_cached(name):
        offline = offline_words(name)
        raise PretrainedUnavailable(offline.template, **offline.params)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        net = getattr(tvm, PRETRAINED[name][1])(weights=None)
        net.load_state_dict(state)
    except Exception as err:
        raise PretrainedUnavailable(
            "The cached {label} weights in {path} could not be loaded ({kind}: {reason}). Delete the file and "
            "download it again.",
            label=label(name),
            path=str(path),
            kind=type(err).__name__,
            reason=str(err)[:200],
        ) from None
    for m in net.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False  # Captum's hooks and in-place ops do not mix
    net.eval()
    transforms = weights.transforms()
    return Classifier(
        net,
        label(name),
        tuple(weights.meta["categories"]),
        tuple(transforms.mean),
        tuple(transforms.std),
        int(transforms.crop_size[0]),
        int(transforms.resize_size[0]),
        True,
        None,
        None,
    )


def imagenet_accuracy(name: str) -> float | None:
    """Top-1 ImageNet accuracy (%) torchvision reports for these weights."""
    metrics = _weights(name).meta.get("_metrics", {}).get("ImageNet-1K", {})
    return metrics.get("acc@1")
