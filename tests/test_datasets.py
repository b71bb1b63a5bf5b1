"""Tests for resnet_core.data.datasets: the rendered ``shapes`` set, CIFAR loading and subsets.

CIFAR cannot be downloaded here, so the CIFAR tests write a tiny fake copy in the real on-disk format
(pickled batches of uint8 rows: 1024 red, then 1024 green, then 1024 blue values, each row-major).
"""

import os
import pickle
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.datasets.cifar
import torchvision.datasets.utils
from said import in_chinese

from resnet_core.data import datasets
from resnet_core.data.datasets import (
    DATASETS,
    DatasetUnavailable,
    ImageDataset,
    data_root,
    load_dataset,
    sample_test_images,
)
from resnet_core.data.shapes import SHAPES_CLASSES, make_shapes
from resnet_core.studies.experiments import dataset_problem


@pytest.fixture
def small_shapes(tmp_path, monkeypatch):
    """Point the data root at tmp_path and shrink the shapes split sizes, so tests render quickly."""
    monkeypatch.setenv("RESNET_LAB_DATA", str(tmp_path))
    monkeypatch.setattr(datasets, "SHAPES_TRAIN_SIZE", 1000)
    monkeypatch.setattr(datasets, "SHAPES_TEST_SIZE", 500)
    return tmp_path


# ----------------------------------------------------------------------------------------- shapes


def test_make_shapes_is_deterministic_in_seed_and_split():
    x0, y0 = make_shapes(600, seed=0)
    x1, y1 = make_shapes(600, seed=0)
    assert torch.equal(x0, x1) and torch.equal(y0, y1)
    assert not torch.equal(make_shapes(600, seed=1)[0], x0)
    assert not torch.equal(make_shapes(600, seed=0, split="test")[0], x0)


def test_make_shapes_shapes_dtypes_and_exact_balance():
    threads = torch.get_num_threads()
    x, y = make_shapes(1000, seed=3)
    assert torch.get_num_threads() == threads  # rendering runs single-threaded, then restores it
    assert x.shape == (1000, 3, 32, 32) and x.dtype == torch.uint8 and x.is_contiguous()
    assert y.shape == (1000,) and y.dtype == torch.int64
    assert torch.bincount(y, minlength=10).tolist() == [100] * 10
    assert not torch.equal(y, y.sort().values)  # shuffled, not grouped by class
    assert x.float().std() > 30  # real images, not blank: noise, objects and backgrounds


def test_load_shapes_writes_a_cache_and_reads_it_back(small_shapes, monkeypatch):
    ds = load_dataset("shapes")
    assert isinstance(ds, ImageDataset) and ds.name == "shapes" and ds.classes == SHAPES_CLASSES
    assert (ds.num_classes, ds.in_channels, ds.image_size) == (10, 3, 32)
    assert ds.train_images.shape == (1000, 3, 32, 32) and ds.test_images.shape == (500, 3, 32, 32)
    files = list((small_shapes / "shapes").iterdir())
    assert [f.name for f in files] == [f"shapes-v{datasets.SHAPES_FORMAT_VERSION}-seed0-1000-500.npz"]

    def no_rendering(*args, **kwargs):
        raise AssertionError("a cached dataset was rendered again")

    monkeypatch.setattr(datasets, "make_shapes", no_rendering)
    again = load_dataset("shapes")
    for name in ("train_images", "train_labels", "test_images", "test_labels"):
        assert torch.equal(getattr(ds, name), getattr(again, name))
    assert again.mean == ds.mean and again.std == ds.std


def test_an_unreadable_cache_is_rendered_again(small_shapes):
    ds = load_dataset("shapes")
    (cache,) = (small_shapes / "shapes").iterdir()
    cache.write_bytes(b"not a zip file")
    assert torch.equal(load_dataset("shapes").train_images, ds.train_images)
    assert cache.stat().st_size > 1_000_000


def test_a_subset_reads_its_own_images_not_the_whole_cache(small_shapes):
    """A run that keeps a subset (the Train page: 5,000 of 50,000) no longer reads the whole 185 MB cache
    into memory before picking its images (issue 12.5): the cache is memory-mapped, and only the kept rows
    are copied out. numpy reports its buffers to tracemalloc, so the peak is what was held at once."""
    import tracemalloc

    full = load_dataset("shapes")  # renders and caches 1,000 + 500 images
    whole = full.train_images.numel() + full.test_images.numel()
    tracemalloc.start()
    try:
        sub = load_dataset("shapes", train_size=100, test_size=50)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < whole / 3, f"{peak:,} bytes held at once to load {sub.train_images.numel():,} of {whole:,}"
    keep = sub.train_images.numel() + sub.test_images.numel()
    assert peak >= keep  # what was measured is the copy the run keeps
    original = int(sub.train_images[0, 0, 0, 0])
    sub.train_images[0, 0, 0, 0] = 255 - original  # a tensor of its own, not a view of the read-only file
    assert int(load_dataset("shapes", train_size=100, test_size=50).train_images[0, 0, 0, 0]) == original


@pytest.mark.parametrize("damage", ["too few images", "wrong dtype", "missing array", "compressed", "cut short"])
def test_a_cache_that_is_not_what_it_should_be_is_rendered_again(small_shapes, damage):
    ds = load_dataset("shapes")
    (cache,) = (small_shapes / "shapes").iterdir()
    arrays = {k: getattr(ds, k).numpy() for k in ("train_images", "train_labels", "test_images", "test_labels")}
    if damage == "too few images":
        arrays["train_images"], arrays["train_labels"] = arrays["train_images"][1:], arrays["train_labels"][1:]
    elif damage == "wrong dtype":
        arrays["test_labels"] = arrays["test_labels"].astype(np.int32)
    elif damage == "missing array":
        del arrays["test_labels"]
    if damage == "compressed":
        np.savez_compressed(cache, **arrays)
    elif damage == "cut short":
        cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])
    else:
        np.savez(cache, **arrays)
    again = load_dataset("shapes", train_size=200)
    assert again.train_images.shape == (200, 3, 32, 32)
    assert torch.equal(load_dataset("shapes").train_images, ds.train_images)
    assert torch.equal(load_dataset("shapes").test_labels, ds.test_labels)


def test_many_chunks_and_a_short_last_one_stay_balanced():
    # Rendering goes in chunks of shapes._CHUNK images; 5,010 spans ten of them plus a short tail.
    # (The full 50,000 render takes ~3 s on an idle 2-core machine but far longer under load.)
    x, y = make_shapes(5010)
    assert x.shape == (5010, 3, 32, 32)
    assert torch.bincount(y).tolist() == [501] * 10
    assert x[-10:].float().std() > 30  # the tail chunk was rendered, not left empty


def test_subsets_are_class_balanced_deterministic_and_drawn_from_the_full_set(small_shapes):
    full = load_dataset("shapes")
    sub = load_dataset("shapes", train_size=95, test_size=40)
    assert len(sub.train_labels) == 95 and len(sub.test_labels) == 40
    assert sorted(set(torch.bincount(sub.train_labels).tolist())) == [9, 10]
    assert torch.bincount(sub.test_labels).tolist() == [4] * 10
    again = load_dataset("shapes", train_size=95, test_size=40)
    assert torch.equal(sub.train_images, again.train_images)
    assert torch.equal(load_dataset("shapes", test_size=40).test_images, sub.test_images)  # same test set
    # Every subset image is one of the full set's, with its label.
    pairs = zip(full.train_images, full.train_labels, strict=True)
    label_of = {bytes(img.numpy()): int(lab) for img, lab in pairs}
    for img, lab in zip(sub.train_images, sub.train_labels, strict=True):
        assert label_of[bytes(img.numpy())] == lab


@pytest.mark.parametrize("kwargs", [{"train_size": 0}, {"train_size": 1001}, {"test_size": -1}])
def test_out_of_range_subset_sizes_are_rejected(small_shapes, kwargs):
    with pytest.raises(ValueError, match="between 1 and"):
        load_dataset("shapes", **kwargs)


def test_mean_and_std_match_a_direct_computation(small_shapes):
    ds = load_dataset("shapes", train_size=300)
    pixels = ds.train_images.double() / 255
    expected_mean = pixels.mean(dim=(0, 2, 3))
    expected_std = pixels.std(dim=(0, 2, 3), unbiased=False)
    assert torch.allclose(torch.tensor(ds.mean, dtype=torch.float64), expected_mean, atol=1e-9)
    assert torch.allclose(torch.tensor(ds.std, dtype=torch.float64), expected_std, atol=1e-9)


def test_mean_colour_says_nothing_about_the_class():
    # A nearest-class-mean classifier on each image's mean RGB colour must be near chance (10%):
    # the class has to come from shape, not from colour.
    def mean_rgb(images):
        return images.double().mean(dim=(2, 3))

    train_x, train_y = make_shapes(3000, seed=5)
    test_x, test_y = make_shapes(1000, seed=5, split="test")
    centroids = torch.stack([mean_rgb(train_x[train_y == c]).mean(dim=0) for c in range(10)])
    predicted = torch.cdist(mean_rgb(test_x), centroids).argmin(dim=1)
    assert (predicted == test_y).double().mean() < 0.3


def test_dataset_rejects_wrong_dtypes():
    x, y = make_shapes(20)
    with pytest.raises(ValueError, match="uint8"):
        ImageDataset("bad", SHAPES_CLASSES, x.float(), y, x, y)
    with pytest.raises(ValueError, match="int64"):
        ImageDataset("bad", SHAPES_CLASSES, x, y.int(), x, y)


# --------------------------------------------------------------------------------- names and paths


def test_unknown_dataset_name_lists_the_choices():
    with pytest.raises(ValueError, match="shapes, cifar10, cifar100, fashion-mnist, mnist") as info:
        load_dataset("svhn")
    assert "svhn" in str(info.value)
    assert DATASETS == ("shapes", "cifar10", "cifar100", "fashion-mnist", "mnist")


def test_data_root_prefers_argument_then_env_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("RESNET_LAB_DATA", str(tmp_path / "env"))
    assert data_root(tmp_path / "arg") == tmp_path / "arg"
    assert data_root() == tmp_path / "env"
    monkeypatch.delenv("RESNET_LAB_DATA")
    assert data_root() == Path.home() / ".cache" / "resnet-lab" / "data"


# ------------------------------------------------------------------------------------------ CIFAR


@pytest.fixture
def no_md5(monkeypatch):
    """Fake files cannot match the real checksums: make torchvision check only that files exist.

    torchvision checks twice, through ``check_integrity`` in its cifar module (the data and meta
    files) and in its utils module (a present archive), so both are patched, in this test only.
    """

    def exists(fpath, md5=None):
        return os.path.isfile(fpath)

    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", exists)
    monkeypatch.setattr(torchvision.datasets.utils, "check_integrity", exists)


def _fake_batch(rng, n, num_classes, label_key):
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    return {"data": data, label_key: rng.integers(0, num_classes, n).tolist()}


def _write_fake_cifar10(root: Path) -> dict:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    batches = {name: _fake_batch(rng, 4, 10, "labels") for name in [f"data_batch_{i}" for i in range(1, 6)]}
    batches["test_batch"] = _fake_batch(rng, 6, 10, "labels")
    # Known pixels: red at row 1, column 2 and green at row 3, column 4 of the first training image.
    batches["data_batch_1"]["data"][0, 0 * 1024 + 1 * 32 + 2] = 200
    batches["data_batch_1"]["data"][0, 1 * 1024 + 3 * 32 + 4] = 77
    names = [f"class{i}" for i in range(10)]
    for name, batch in {**batches, "batches.meta": {"label_names": names}}.items():
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    return batches


def test_cifar10_from_the_real_file_format(tmp_path, no_md5):
    batches = _write_fake_cifar10(tmp_path)
    ds = load_dataset("cifar10", root=tmp_path)
    assert ds.classes == tuple(f"class{i}" for i in range(10))
    assert ds.train_images.shape == (20, 3, 32, 32) and ds.train_images.dtype == torch.uint8
    assert ds.test_images.shape == (6, 3, 32, 32) and ds.test_labels.dtype == torch.int64
    assert ds.train_images.is_contiguous()
    assert ds.train_images[0, 0, 1, 2] == 200 and ds.train_images[0, 1, 3, 4] == 77
    assert torch.equal(ds.test_images[5].reshape(-1), torch.from_numpy(batches["test_batch"]["data"][5]))
    train_labels = sum((batches[f"data_batch_{i}"]["labels"] for i in range(1, 6)), [])
    assert ds.train_labels.tolist() == train_labels
    assert ds.test_labels.tolist() == batches["test_batch"]["labels"]
    expected_mean = (ds.train_images.double() / 255).mean(dim=(0, 2, 3))
    assert torch.allclose(torch.tensor(ds.mean, dtype=torch.float64), expected_mean)


def test_cifar100_from_the_real_file_format(tmp_path, no_md5):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    rng = np.random.default_rng(1)
    train, test = _fake_batch(rng, 8, 100, "fine_labels"), _fake_batch(rng, 3, 100, "fine_labels")
    train["coarse_labels"] = [0] * 8
    test["coarse_labels"] = [0] * 3
    train["data"][2, 2 * 1024 + 31 * 32 + 0] = 123  # blue, bottom-left pixel of the third image
    meta = {"fine_label_names": [f"fine{i}" for i in range(100)], "coarse_label_names": ["all"]}
    for name, obj in {"train": train, "test": test, "meta": meta}.items():
        with open(folder / name, "wb") as f:
            pickle.dump(obj, f)
    ds = load_dataset("cifar100", root=tmp_path)
    assert ds.num_classes == 100 and ds.classes[7] == "fine7"
    assert ds.train_images[2, 2, 31, 0] == 123
    assert ds.train_labels.tolist() == train["fine_labels"] and ds.test_labels.tolist() == test["fine_labels"]


def test_cifar10_from_a_hand_copied_archive_without_download(tmp_path, no_md5):
    source = tmp_path / "source"
    _write_fake_cifar10(source)
    root = tmp_path / "data"
    root.mkdir()
    with tarfile.open(root / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(source / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    ds = load_dataset("cifar10", root=root, download=False)
    assert ds.train_images[0, 0, 1, 2] == 200


@pytest.mark.parametrize(
    "name, archive", [("cifar10", "cifar-10-python.tar.gz"), ("cifar100", "cifar-100-python.tar.gz")]
)
def test_missing_cifar_says_where_to_put_it(tmp_path, name, archive):
    root = tmp_path / "nothing-here"
    with pytest.raises(DatasetUnavailable) as info:
        load_dataset(name, root=root)
    message = str(info.value)
    for needle in (str(root), archive, "RESNET_LAB_DATA", "download=True", "shapes"):
        assert needle in message
    assert isinstance(info.value, FileNotFoundError)


def test_a_chinese_train_page_says_a_missing_cifar_in_chinese_with_its_paths(tmp_path):
    root = tmp_path / "nothing-here"
    err = dataset_problem("cifar10", root)  # what the Train page says for a dataset that is not here
    assert isinstance(err, DatasetUnavailable) and isinstance(err, FileNotFoundError)
    # the command line's English, as it was
    assert str(err) == (
        f"cifar10 was not found in {root} (or its files are corrupted), and it could not be downloaded. Put "
        f"cifar-10-python.tar.gz (or its extracted folder cifar-10-batches-py/) in {root}, or point the environment "
        "variable RESNET_LAB_DATA at the folder that holds it, or run load_dataset('cifar10', download=True) on a "
        "machine with internet access. The embedded 'shapes' dataset needs no download: load_dataset('shapes')."
    )
    said = in_chinese(err)
    assert said.startswith(f"在 {root} 中找不到 cifar10（或者它的文件已损坏），也无法下载。")
    for needle in ("cifar-10-python.tar.gz", "cifar-10-batches-py/", "RESNET_LAB_DATA", "load_dataset('cifar10'"):
        assert needle in said
    assert said.count(str(root)) == 2 and "was not found" not in said
    assert pickle.loads(pickle.dumps(err)).words == err.words  # an error that crosses processes keeps its words


@pytest.mark.parametrize("name, cls", [("cifar10", "CIFAR10"), ("cifar100", "CIFAR100")])
def test_cifar_file_names_are_torchvisions(name, cls):
    """A missing CIFAR is told from these names without importing torchvision: they must be its names."""
    from resnet_core.data.datasets import CIFAR_FILES

    dataset = getattr(torchvision.datasets, cls)
    assert CIFAR_FILES[name] == (dataset.filename, dataset.base_folder)


def test_a_damaged_cifar_folder_is_still_told_by_torchvision(tmp_path):
    """The shortcut only skips torchvision when nothing is there: a folder without its batches goes to it."""
    (tmp_path / "cifar-10-batches-py").mkdir()
    with pytest.raises(DatasetUnavailable) as info:
        load_dataset("cifar10", root=tmp_path)
    assert isinstance(info.value.__cause__, RuntimeError)  # torchvision's "Dataset not found or corrupted"


def test_failed_download_becomes_dataset_unavailable(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", offline)
    with pytest.raises(DatasetUnavailable, match="shapes") as info:
        load_dataset("cifar10", root=tmp_path, download=True)
    assert isinstance(info.value.__cause__, urllib.error.URLError)


# ------------------------------------------------------------------------------- sample_test_images


def test_sample_test_images_covers_the_classes_first(small_shapes):
    ds = load_dataset("shapes")
    images, labels = sample_test_images(ds, n=8, seed=0)
    assert images.shape == (8, 3, 32, 32) and images.dtype == torch.uint8 and labels.dtype == torch.int64
    assert labels.tolist() == list(range(8))  # one per class, in class order
    images, labels = sample_test_images(ds, n=15, seed=2)
    assert labels[:10].tolist() == list(range(10))
    assert len({bytes(img.numpy()) for img in images}) == 15  # no image picked twice
    assert torch.equal(sample_test_images(ds, n=15, seed=2)[0], images)
    for img, lab in zip(images, labels, strict=True):  # every pick is a real test image with its own label
        matches = (ds.test_images == img).flatten(1).all(dim=1)
        assert int(lab) in ds.test_labels[matches].tolist()
    with pytest.raises(ValueError):
        sample_test_images(ds, n=0)


def test_dataset_repr_is_short(small_shapes):
    assert len(repr(load_dataset("shapes", train_size=50, test_size=50))) < 400
