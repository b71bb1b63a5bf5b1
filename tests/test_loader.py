"""The device-resident loader: whole-batch crops and flips that really are shifted and mirrored copies
of the padded image, normalisation, and every index exactly once per epoch."""

import pytest
import torch
import torch.nn.functional as F

from resnet_core.data.loader import (
    DeviceLoader,
    batches_per_epoch,
    gather_crops,
    pad_images,
    random_offsets,
)
from resnet_core.data.pixels import normalize, normalizer

MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
CPU = torch.device("cpu")


def random_images(n: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g)


def to_pixels(batch: torch.Tensor) -> torch.Tensor:
    """Undo the normalisation: float batch -> the uint8 pixels it was made from."""
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return ((batch * std + mean) * 255).round().to(torch.uint8)


def test_zero_padding_surrounds_the_image_with_black():
    images = random_images(4)
    padded = pad_images(images, 4, "zeros")
    assert padded.shape == (4, 3, 40, 40) and padded.dtype == torch.uint8
    assert torch.equal(padded[:, :, 4:36, 4:36], images)
    border = padded.clone()
    border[:, :, 4:36, 4:36] = 0
    assert border.sum() == 0


def test_reflect_padding_mirrors_the_border():
    images = random_images(2)
    padded = pad_images(images, 4, "reflect")
    expected = F.pad(images.float(), (4, 4, 4, 4), mode="reflect").to(torch.uint8)
    assert torch.equal(padded, expected)
    assert torch.equal(padded[:, :, 4, 0], images[:, :, 0, 4])  # column 0 mirrors column 4 of the image


def test_unknown_pad_mode_names_the_choices():
    with pytest.raises(ValueError, match="zeros, reflect"):
        pad_images(random_images(1), 4, "edge")


def test_crops_are_shifted_copies_and_flips_mirror_them():
    padded = pad_images(random_images(6), 4)
    g = torch.Generator().manual_seed(3)
    indices = torch.tensor([5, 0, 3, 3, 1, 2, 4, 0])
    dy, dx, mirror = random_offsets(len(indices), 4, flip=True, generator=g, device=CPU)
    crops = gather_crops(padded, indices, dy, dx, mirror, 32)
    assert crops.shape == (8, 3, 32, 32) and crops.dtype == torch.uint8
    for b, i in enumerate(indices.tolist()):
        window = padded[i, :, dy[b] : dy[b] + 32, dx[b] : dx[b] + 32]
        expected = window.flip(-1) if mirror[b] else window
        assert torch.equal(crops[b], expected)


def test_offsets_cover_the_whole_range_and_flip_about_half():
    g = torch.Generator().manual_seed(0)
    dy, dx, mirror = random_offsets(4000, 4, flip=True, generator=g, device=CPU)
    assert set(dy.tolist()) == set(range(9)) and set(dx.tolist()) == set(range(9))
    assert 0.45 < mirror.float().mean().item() < 0.55
    _, _, never = random_offsets(100, 4, flip=False, generator=g, device=CPU)
    assert not never.any()


def test_normalize_matches_the_formula_and_can_be_channels_last():
    images = random_images(3)
    scale, shift = normalizer(MEAN, STD, CPU)
    out = normalize(images, scale, shift)
    mean, std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)
    expected = (images.float() / 255 - mean) / std
    torch.testing.assert_close(out, expected)
    nhwc = normalize(images, scale, shift, channels_last=True)
    assert nhwc.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(nhwc, expected)


def make_loader(n: int, **options) -> DeviceLoader:
    # Labels are the image indices, so every batch says which images it holds.
    defaults = dict(batch_size=10, device=CPU, mean=MEAN, std=STD)
    return DeviceLoader(random_images(n), torch.arange(n), **{**defaults, **options})


@pytest.mark.parametrize("augment", [False, True])
def test_every_index_once_per_epoch(augment):
    loader = make_loader(103, augment=augment, shuffle=True)
    assert len(loader) == 11 == batches_per_epoch(103, 10)
    seen = torch.cat([labels for _, labels in loader.batches(epoch=0)])
    assert sorted(seen.tolist()) == list(range(103))
    assert seen.tolist() != list(range(103))  # shuffled


def test_drop_last_drops_only_the_partial_batch():
    loader = make_loader(103, shuffle=True, drop_last=True)
    batches = list(loader.batches())
    assert len(loader) == len(batches) == 10
    seen = torch.cat([labels for _, labels in batches]).tolist()
    assert len(set(seen)) == 100


def test_epochs_differ_but_replay_exactly():
    loader = make_loader(50, augment=True, shuffle=True, seed=7)
    first = [x for x, _ in loader.batches(epoch=1)]
    again = [x for x, _ in make_loader(50, augment=True, shuffle=True, seed=7).batches(epoch=1)]
    other = [x for x, _ in loader.batches(epoch=2)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))  # a resumed run sees the same batches
    assert not torch.equal(first[0], other[0])


def test_augmented_batches_are_crops_of_their_own_padded_image():
    loader = make_loader(20, augment=True, shuffle=True, batch_size=8)
    padded = pad_images(random_images(20), 4)
    flips = 0
    for images, labels in loader.batches():
        assert images.dtype == torch.float32 and images.shape[1:] == (3, 32, 32)
        pixels = to_pixels(images)
        for picture, i in zip(pixels, labels.tolist()):
            matches = [
                (dy, dx, m)
                for dy in range(9)
                for dx in range(9)
                for m in (False, True)
                if torch.equal(
                    picture,
                    (
                        padded[i, :, dy : dy + 32, dx : dx + 32].flip(-1)
                        if m
                        else padded[i, :, dy : dy + 32, dx : dx + 32]
                    ),
                )
            ]
            assert matches, f"image {i} is not a crop of its padded original"
            flips += all(m for _, _, m in matches)
    assert 0 < flips < 20  # some flipped, some not


def test_plain_batches_are_the_normalised_images_in_order():
    images = random_images(25)
    loader = DeviceLoader(images, torch.arange(25), batch_size=10, device=CPU, mean=MEAN, std=STD)
    batches = list(loader.batches())
    assert [len(labels) for _, labels in batches] == [10, 10, 5]
    assert torch.equal(to_pixels(torch.cat([x for x, _ in batches])), images)
    low = (0 - torch.tensor(MEAN)) / torch.tensor(STD)
    high = (1 - torch.tensor(MEAN)) / torch.tensor(STD)
    x = batches[0][0]
    assert (x.amin(dim=(0, 2, 3)) >= low - 1e-5).all() and (x.amax(dim=(0, 2, 3)) <= high + 1e-5).all()


def test_rejects_float_images():
    with pytest.raises(ValueError, match="uint8"):
        DeviceLoader(
            torch.zeros(2, 3, 32, 32), torch.zeros(2, dtype=torch.int64), batch_size=1, device=CPU, mean=MEAN, std=STD
        )
