"""Fashion-MNIST and MNIST from their real IDX files (Debian's `dataset-fashion-mnist`, which `make test`
installs as root), and what broken or missing files get."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from helpers import tiny_cli
from said import in_chinese

import resnet_core as rc
from resnet_core.data import idx
from resnet_core.data.catalog import CATALOG

SYSTEM = idx.SYSTEM_FOLDERS["fashion-mnist"][0]


@pytest.fixture(scope="module")
def system_files(fashion_files):
    return fashion_files


def write_idx(path: Path, array: np.ndarray, *, gz: bool = True) -> Path:
    header = bytes([0, 0, idx.UBYTE, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def tiny_idx_folder(folder: Path, n_train=40, n_test=20, *, gz=True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    write_idx(folder / idx.FILES["train_images"], rng.integers(0, 256, (n_train, 28, 28)), gz=gz)
    write_idx(folder / idx.FILES["train_labels"], np.arange(n_train) % 10, gz=gz)
    write_idx(folder / idx.FILES["test_images"], rng.integers(0, 256, (n_test, 28, 28)), gz=gz)
    write_idx(folder / idx.FILES["test_labels"], np.arange(n_test) % 10, gz=gz)
    return folder


def test_the_real_files_load_as_zalando_describes_them(system_files, tmp_path):
    data = rc.load_dataset("fashion-mnist", tmp_path)  # nothing in tmp_path: found in Debian's folder
    facts = CATALOG["fashion-mnist"]
    assert data.train_images.shape == (facts.train_size, 1, 28, 28) == (60_000, 1, 28, 28)
    assert data.test_images.shape == (facts.test_size, 1, 28, 28) == (10_000, 1, 28, 28)
    assert data.classes[0] == "T-shirt/top" and data.classes[9] == "ankle boot"
    assert data.in_channels == 1 and data.image_size == 28 and data.num_classes == 10
    # Balanced: 6,000 training and 1,000 test images a class (Zalando's README).
    assert data.train_labels.bincount().tolist() == [6000] * 10
    assert data.test_labels.bincount().tolist() == [1000] * 10
    # The training set's pixel statistics as commonly quoted (mean 0.286, std 0.353 on [0, 1]).
    assert data.mean[0] == pytest.approx(0.2860, abs=5e-4) and data.std[0] == pytest.approx(0.3530, abs=5e-4)


def test_a_balanced_subset_and_a_net_that_fits_it(system_files, tmp_path):
    data = rc.load_dataset("fashion-mnist", tmp_path, train_size=200, test_size=100, seed=1)
    assert data.train_labels.bincount().tolist() == [20] * 10
    net = rc.build_net(rc.NetSpec(depth=8, in_channels=1, num_classes=10))
    assert net(data.train_images[:4].float()).shape == (4, 10)  # 28 px: the CIFAR stem gives 28 → 14 → 7


def test_files_in_the_data_folder_come_first_gzipped_or_not(tmp_path):
    tiny_idx_folder(tmp_path / "mnist", gz=False)
    data = rc.load_dataset("mnist", tmp_path)
    assert data.train_images.shape == (40, 1, 28, 28) and data.classes == tuple("0123456789")
    tiny_idx_folder(tmp_path / "fashion-mnist", n_train=30)
    assert rc.load_dataset("fashion-mnist", tmp_path).train_images.shape[0] == 30


def test_missing_files_name_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setitem(idx.SYSTEM_FOLDERS, "mnist", (tmp_path / "nowhere",))
    with pytest.raises(rc.DatasetUnavailable) as err:
        rc.load_dataset("mnist", tmp_path)
    message = str(err.value)
    assert str(tmp_path / "mnist") in message and "t10k-images-idx3-ubyte.gz" in message


FOUR_FILES = ", ".join(f"{stem}.gz" for stem in idx.FILES.values())


def test_a_missing_fashion_mnist_is_said_in_chinese_with_its_paths_and_package(tmp_path, monkeypatch):
    system = tmp_path / "nowhere"
    monkeypatch.setitem(idx.SYSTEM_FOLDERS, "fashion-mnist", (system,))
    with pytest.raises(rc.DatasetUnavailable) as err:
        rc.load_dataset("fashion-mnist", tmp_path)
    folder = tmp_path / "fashion-mnist"
    assert str(err.value) == (  # the command line's English, as it was
        f"fashion-mnist was not found: put its four files ({FOUR_FILES}) in {folder}, or install them in {system} "
        "(Debian/Ubuntu: `apt-get install dataset-fashion-mnist`), or run load_dataset('fashion-mnist', "
        "download=True) on a machine with internet access. The embedded 'shapes' dataset needs no download."
    )
    assert in_chinese(err.value) == (
        f"找不到 fashion-mnist：请把它的四个文件（{FOUR_FILES}）放到 {folder}，或安装到 {system}"
        "（Debian/Ubuntu：`apt-get install dataset-fashion-mnist`），或在能上网的机器上运行 "
        "load_dataset('fashion-mnist', download=True)。内置的 'shapes' 数据集无需下载。"
    )


def test_a_failed_download_and_a_broken_file_are_said_in_chinese(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise RuntimeError("no network")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    monkeypatch.setitem(idx.SYSTEM_FOLDERS, "mnist", ())
    with pytest.raises(rc.DatasetUnavailable) as err:
        rc.load_dataset("mnist", tmp_path, download=True)
    assert str(err.value).endswith("needs no download. (The download failed: no network.)")
    said = in_chinese(err.value)
    assert said.startswith("找不到 mnist：") and said.endswith("无需下载。（下载失败：no network。）")
    assert "Debian" not in said  # no package installs MNIST
    folder = tiny_idx_folder(tmp_path / "mnist")
    write_idx(folder / idx.FILES["train_labels"], np.arange(39) % 10)
    with pytest.raises(rc.DatasetUnavailable) as err:
        rc.load_dataset("mnist", tmp_path)
    broken = "train-labels-idx1-ubyte.gz holds 39 labels for 40 images"  # IdxError's words, quoted in the sentence
    assert str(err.value) == f"mnist: {broken}. Replace that file with a good copy."
    assert (
        in_chinese(err.value)
        == "mnist：train-labels-idx1-ubyte.gz 中有 39 个标签，却对应 40 张图像。请用完好的副本替换该文件。"
    )


def test_a_file_is_read_once_while_it_is_unchanged(tmp_path):
    """Pages load a run's dataset again and again: the files are decompressed once per process, and a file
    changed since is read anew."""
    folder = tiny_idx_folder(tmp_path / "mnist")
    path = folder / (idx.FILES["train_labels"] + ".gz")
    first = idx.read_idx(path)
    assert idx.read_idx(path) is first and not first.flags.writeable  # shared, so nobody may write to it
    before = path.stat()
    write_idx(folder / idx.FILES["train_labels"], (np.arange(40) + 1) % 10)  # other labels, in place
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))  # a second later
    again = idx.read_idx(path)
    assert again is not first and again.tolist() == ((np.arange(40) + 1) % 10).tolist()


@pytest.mark.parametrize("damage", ["truncated", "not gzip", "wrong magic", "labels do not match"])
def test_a_broken_file_gets_a_clear_message(tmp_path, monkeypatch, damage):
    monkeypatch.setitem(idx.SYSTEM_FOLDERS, "mnist", ())
    folder = tiny_idx_folder(tmp_path / "mnist")
    images = folder / (idx.FILES["train_images"] + ".gz")
    if damage == "truncated":
        images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes())[:-100]))
        expected, chinese = "its header promises", "中有 31,260 字节的数据；其文件头声明的是 31,360 字节"
    elif damage == "not gzip":
        images.write_bytes(b"this is not a gzip file at all")
        expected, chinese = "cannot be read", "无法读取 train-images-idx3-ubyte.gz："
    elif damage == "wrong magic":
        images.write_bytes(gzip.compress(b"\x1f\x8bPK" + bytes(100)))
        expected, chinese = "not an IDX file", "不是 IDX 文件（它开头的字节不是 IDX 文件头）"
    else:
        write_idx(folder / idx.FILES["train_labels"], np.arange(39) % 10)
        expected, chinese = "39 labels for 40 images", "中有 39 个标签，却对应 40 张图像"
    with pytest.raises(rc.DatasetUnavailable, match=expected) as err:
        rc.load_dataset("mnist", tmp_path)
    said = in_chinese(err.value)  # the file's words in Chinese too, inside the dataset's sentence
    assert said.startswith("mnist：") and chinese in said and said.endswith("。请用完好的副本替换该文件。")


def test_the_command_line_trains_on_it_with_one_channel(system_files, tmp_path, capsys):
    from resnet_core.cli import main as cli

    runs = tmp_path / "runs"
    code = cli.main(tiny_cli("train", tmp_path / "data", runs, dataset="fashion-mnist", depth=8))
    assert code == 0
    (run,) = rc.RunStore(runs).list()
    assert run.dataset == "fashion-mnist" and run.spec.in_channels == 1 and run.status == "completed"
