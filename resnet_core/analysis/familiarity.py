"""How unlike a net's training images an image is, measured two ways and calibrated on the net's test images.

A classifier labels every image as one of the classes it was trained on, photo or not, often with a high
softmax probability (Nguyen et al. 2015, "Deep neural networks are easily fooled"; Hendrycks & Gimpel 2017
found the maximum softmax probability a weak signal of it). So Explain measures the distance from the
training images instead, two ways, each a Mahalanobis distance told as a rank among the net's own test
images (BENCHMARKS.md, "Out-of-distribution uploads", for how the two did on photos and held-out images):

- **colour and texture** (`image_statistics`): each channel's mean and spread and how much neighbouring
  pixels differ, one Gaussian fitted to the training images: what the image is made of, whatever the net
  learned to look at;
- **what the layers see** (`layer_features`): each stage's channel means, one Gaussian per class with a
  shared covariance, the distance to the nearest class (Lee et al. 2018, "A simple unified framework for
  detecting out-of-distribution samples and adversarial attacks").

The image is called unlike the training images when either distance is beyond `LIMIT` of the test images':
about 1% of the net's own test images per measure on average, at most 2% by either — more on an unlucky
calibration set (BENCHMARKS.md, "Out-of-distribution uploads", counts them on held-out test images).
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field

import torch
from torch import nn

from ..data.pixels import match_channels, to_input

LIMIT = 0.99  # a rank above this (further than 99% of the test images) is called unlike the training images
MEASURES = ("pixels", "layers")  # colour and texture; what the layers see


def image_statistics(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, C, H, W) -> (N, 4C + 3 [+1 for colour]) float64: each channel's mean and standard deviation,
    and those of its outer ring of pixels (the frame: black around every Fashion-MNIST garment, rarely so in
    a photo); the log mean absolute difference of neighbouring pixels (across, down) and of the Laplacian
    (texture, noise); for colour images the mean saturation (max − min channel)."""
    x = images.double() / 255.0
    across = (x[..., :, 1:] - x[..., :, :-1]).abs().mean((1, 2, 3))
    down = (x[..., 1:, :] - x[..., :-1, :]).abs().mean((1, 2, 3))
    inner = x[..., 1:-1, 1:-1]
    laplace = (4 * inner - x[..., :-2, 1:-1] - x[..., 2:, 1:-1] - x[..., 1:-1, :-2] - x[..., 1:-1, 2:]).abs()
    frame = torch.cat([x[..., 0, :], x[..., -1, :], x[..., 1:-1, 0], x[..., 1:-1, -1]], -1)  # the outer ring
    parts = [x.mean((2, 3)), x.std((2, 3)), frame.mean(-1), frame.std(-1)]
    parts += [torch.log(v + 1e-3)[:, None] for v in (across, down, laplace.mean((1, 2, 3)))]
    if x.shape[1] == 3:
        parts.append((x.max(1).values - x.min(1).values).mean((1, 2))[:, None])
    return torch.cat(parts, 1)


@torch.no_grad()
def layer_features(net: nn.Module, images: torch.Tensor, mean, std, batch_size: int = 250) -> torch.Tensor:
    """Each stage's channel means for uint8 images, concatenated: (N, D) float64."""
    names = tuple(getattr(net, "stage_names", ()))
    if not names:
        raise ValueError("layer_features needs one of this library's nets (with stage_names)")
    seen: dict[str, torch.Tensor] = {}
    hooks = [
        getattr(net, name).register_forward_hook(lambda _m, _i, out, name=name: seen.__setitem__(name, out))
        for name in names
    ]
    was_training = net.training
    net.eval()
    device = next(net.parameters()).device
    feats = []
    try:
        for start in range(0, len(images), batch_size):
            net(to_input(images[start : start + batch_size].to(device), mean, std))
            feats.append(torch.cat([seen[n].float().mean((2, 3)).cpu() for n in names], 1))
    finally:
        for hook in hooks:
            hook.remove()
        net.train(was_training)
    return torch.cat(feats).double()


def _precision(centred: torch.Tensor) -> torch.Tensor:
    """Inverse of the covariance of centred rows, with a small ridge (features can be collinear)."""
    cov = centred.T @ centred / max(len(centred) - 1, 1)
    ridge = 1e-3 * float(cov.diagonal().mean().clamp_min(1e-12))
    return torch.linalg.inv(cov + ridge * torch.eye(len(cov), dtype=cov.dtype))


@dataclass(frozen=True)
class _Gaussians:
    """Class means (K, D) and a shared precision (D, D); the distance is to the nearest mean."""

    means: torch.Tensor
    precision: torch.Tensor

    @classmethod
    def fit(cls, feats: torch.Tensor, labels: torch.Tensor | None) -> _Gaussians:
        if labels is None:
            means = feats.mean(0, keepdim=True)
            return cls(means, _precision(feats - means))
        classes, index = labels.unique(return_inverse=True)
        means = torch.stack([feats[index == k].mean(0) for k in range(len(classes))])
        return cls(means, _precision(feats - means[index]))

    def distance(self, feats: torch.Tensor) -> torch.Tensor:
        d = feats[:, None, :] - self.means[None]
        return torch.einsum("nkd,de,nke->nk", d, self.precision, d).min(1).values.clamp_min(0).sqrt()


@dataclass(frozen=True)
class Familiarity:
    """Where an image stands among the net's test images, per measure: the fraction of test images nearer
    to the training images than it is (0 … 1; 1: further than every one of them)."""

    ranks: dict[str, float]
    test_images: int  # how many test images the ranks are among

    @property
    def unlike(self) -> bool:
        """Unlike the training images by at least one measure."""
        return any(rank > LIMIT for rank in self.ranks.values())


@dataclass(frozen=True)
class FamiliarityModel:
    """The two measures fitted on a net's training images and calibrated on its test images."""

    net: nn.Module
    mean: tuple[float, ...]
    std: tuple[float, ...]
    channels: int
    pixels: _Gaussians
    layers: _Gaussians
    calibration: dict[str, torch.Tensor]  # per measure, the test images' distances, sorted
    # One image at a time: the stage hooks are set on the model's own copy of the net, which a page's sessions
    # share (a cached model), so two assessments at once would read each other's features.
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @classmethod
    def fit(
        cls,
        net: nn.Module,
        mean,
        std,
        train_images: torch.Tensor,
        train_labels: torch.Tensor,
        test_images: torch.Tensor,
    ) -> FamiliarityModel:
        """Fit on uint8 training images (with their labels), calibrate on uint8 test images (a few hundred of
        each are enough: `image_statistics`' few columns and the stage widths' sum are the dimensions)."""
        net = copy.deepcopy(net)  # its own: a caller's net may be hooked or run by others meanwhile
        labels = torch.as_tensor(train_labels)
        pixels = _Gaussians.fit(image_statistics(train_images), None)
        layers = _Gaussians.fit(layer_features(net, train_images, mean, std), labels)
        model = cls(net, tuple(mean), tuple(std), train_images.shape[1], pixels, layers, {})
        for name, dist in model.distances(test_images).items():
            model.calibration[name] = dist.sort().values
        return model

    def distances(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per measure, each uint8 image's distance to the training images (images of another channel count
        are converted as the net sees them: colour to gray by luma, gray to colour)."""
        images = match_channels(images, self.channels)
        with self.lock:
            return {
                "pixels": self.pixels.distance(image_statistics(images)),
                "layers": self.layers.distance(layer_features(self.net, images, self.mean, self.std)),
            }

    def ranks(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per measure, each uint8 image's rank among the test images: the fraction of them nearer to the
        training images than it is (0 … 1)."""
        return {
            name: torch.searchsorted(self.calibration[name], dist).double() / len(self.calibration[name])
            for name, dist in self.distances(images).items()
        }

    def assess(self, image: torch.Tensor) -> Familiarity:
        """One uint8 image (C, H, W), at the net's input size, among the test images."""
        ranks = self.ranks(image.unsqueeze(0))
        return Familiarity({name: float(ranks[name][0]) for name in MEASURES}, len(self.calibration["pixels"]))
