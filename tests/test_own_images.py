"""Your own images as a dataset (data/own.py): a folder of class subfolders or a .zip of one, imported into
the data folder; broken, tiny and hostile inputs get a clear message and leave nothing half-made."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from said import in_chinese as chinese

import resnet_core as rc
from resnet_core.data import own
from resnet_core.data.catalog import available_datasets, facts
from resnet_core.presentation.text import markdown_text

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 60), "blue": (40, 60, 220)}


def png(colour, size=(40, 30), seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(colour) + rng.integers(-20, 20, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


def image_folder(folder: Path, per_class=10, extra: dict[str, bytes] | None = None) -> Path:
    for name, colour in COLOURS.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            (folder / name / f"{i}.png").write_bytes(png(colour, seed=i))
    for relative, data in (extra or {}).items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)
    return folder


def zip_of(folder: Path, top: str | None = "photos", extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, f"{top}/{path.relative_to(folder)}" if top else str(path.relative_to(folder)))
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def test_a_folder_becomes_a_dataset_every_page_can_load(tmp_path):
    source = image_folder(tmp_path / "my photos", extra={"red/notes.txt": b"not an image", ".DS_Store": b"x"})
    data_dir = tmp_path / "data"
    info = own.import_images(source, data_dir)
    assert info.dataset == "own:my-photos" and info.classes == ("blue", "green", "red")
    assert info.test_counts == (2, 2, 2) and info.train_counts == (8, 8, 8)  # 20 % of each class held out
    assert info.skipped == 1  # notes.txt (the hidden .DS_Store is not even looked at)
    data = rc.load_dataset("own:my-photos", data_dir)
    assert data.train_images.shape == (24, 3, 32, 32) and data.test_images.shape == (6, 3, 32, 32)
    assert data.train_labels.bincount().tolist() == [8, 8, 8]
    # The pixels are the images': the red class is red.
    red = data.train_images[data.train_labels == 2].float().mean(dim=(0, 2, 3))
    assert red[0] > 180 and red[1] < 60
    assert facts("own:my-photos", data_dir).num_classes == 3
    assert "own:my-photos" in available_datasets(data_dir)
    assert list((data_dir / "own").iterdir()) == [data_dir / "own" / "my-photos"]  # no temporary left


def test_the_split_is_reproducible_by_seed(tmp_path):
    source = image_folder(tmp_path / "src", per_class=10)
    a = own.import_images(source, tmp_path / "a", seed=3)
    b = own.import_images(source, tmp_path / "b", seed=3)
    own.import_images(source, tmp_path / "c", seed=4)
    load = lambda root: rc.load_dataset(f"own:{a.name}", root).test_images  # noqa: E731
    assert a == b and bool((load(tmp_path / "a") == load(tmp_path / "b")).all())
    assert not bool((load(tmp_path / "a") == load(tmp_path / "c")).all())


def test_a_zip_with_one_top_folder_imports_like_the_folder(tmp_path):
    archive = zip_of(image_folder(tmp_path / "src"), extra={"__MACOSX/red/._0.png": b"\x00\x05"})
    info = own.import_images(archive, tmp_path / "data", source_name="holiday.zip", size=28)
    assert info.name == "holiday" and info.classes == ("blue", "green", "red") and info.skipped == 0
    assert rc.load_dataset("own:holiday", tmp_path / "data").train_images.shape[-1] == 28


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: b"PK\x03\x04 this is not really a zip", "not a zip archive"),
        (lambda tmp: zip_of(image_folder(tmp / "one", per_class=3), extra={}, top=None)[:200], "not a zip archive"),
        (lambda tmp: zip_of(tmp / "empty", top=None), "found 0 class folder"),
        (lambda tmp: _one_class(tmp), "found 1 class folder"),
        (lambda tmp: _empty_class(tmp), "fewer than 2 images"),
        (lambda tmp: _loose_files(tmp), "one subfolder per class"),
        (lambda tmp: _escaping(tmp), "leaves its folder"),
    ],
)
def test_a_broken_archive_gets_a_clear_message_and_leaves_nothing(tmp_path, make, message):
    (tmp_path / "empty").mkdir()
    with pytest.raises(own.OwnDataError, match=message):
        own.import_images(make(tmp_path), tmp_path / "data", source_name="upload.zip")
    assert not (tmp_path / "data" / "own" / "upload").exists()
    assert (
        [p.name for p in (tmp_path / "data" / "own").glob("*")] == [] if (tmp_path / "data" / "own").exists() else True
    )


def _one_class(tmp: Path) -> bytes:
    (tmp / "one" / "cat").mkdir(parents=True)
    (tmp / "one" / "cat" / "a.png").write_bytes(png((1, 2, 3)))
    return zip_of(tmp / "one", top=None)


def _empty_class(tmp: Path) -> bytes:
    folder = image_folder(tmp / "src", per_class=3, extra={"purple/readme.txt": b"no images here"})
    return zip_of(folder)


def _loose_files(tmp: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("a.png", png((1, 2, 3)))
        z.writestr("b.png", png((4, 5, 6)))
    return out.getvalue()


def _escaping(tmp: Path) -> bytes:
    return zip_of(image_folder(tmp / "src", per_class=3), extra={"photos/../../evil/x.png": png((9, 9, 9))})


def test_a_chinese_page_says_an_import_error_and_its_limits_in_chinese(tmp_path):
    with pytest.raises(own.OwnDataError) as info:
        own.import_images(_one_class(tmp_path), tmp_path / "data", source_name="upload.zip")
    # the command line's English, as it was: the limits sentence inside the message
    assert str(info.value) == (
        "found 1 class folder(s): a dataset needs 2–100 (limits: 2–100 classes (one subfolder each), at least 2 "
        "images a class, at most 20,000 images and 200 MB in all; PNG, JPEG, WebP, BMP or GIF)"
    )
    assert chinese(info.value) == (
        "找到 1 个类别文件夹：一个数据集需要 2–100 个（限制：2–100 个类别（每个类别一个子文件夹），"
        "每个类别至少 2 张图像，总共最多 20,000 张图像、200 MB；格式为 PNG、JPEG、WebP、BMP 或 GIF）"
    )
    assert chinese(own.LIMITS).startswith("2–100 个类别")  # the same sentence in the import popover's caption


def test_a_file_name_in_an_import_error_stays_text_in_any_language(tmp_path):
    label = "**{x}** [a](http://evil.example).zip"
    with pytest.raises(own.OwnDataError) as info:
        own.import_images(b"PK\x03\x04 not a zip", tmp_path / "data", source_name=label)
    assert str(info.value).startswith(label + " is not a zip archive we can read (")
    said = chinese(info.value)
    assert said.startswith(label + " 不是我们能读取的 zip 压缩包（")  # the name as it is, not translated
    shown = markdown_text(said)  # as the Train page shows it
    assert "\\*\\*" in shown and "http\u2060" in shown


def test_an_unknown_own_dataset_says_none_yet_in_chinese(tmp_path):
    with pytest.raises(own.OwnDataError) as info:
        own.find_own("own:nope", tmp_path / "data")
    assert "(yours: none yet)" in str(info.value)
    assert "（你的：还没有）" in chinese(info.value) and "'own:nope'" in chinese(info.value)


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path, monkeypatch):
    archive = zip_of(image_folder(tmp_path / "src", per_class=3))
    monkeypatch.setattr(own, "MAX_INFLATED_BYTES", 1000)  # the guard reads the declared sizes only
    with pytest.raises(own.OwnDataError, match="would inflate to more than"):
        own.import_images(archive, tmp_path / "data", source_name="bomb.zip")


def test_an_existing_name_is_not_overwritten_unless_asked(tmp_path):
    source = image_folder(tmp_path / "pics", per_class=3)
    own.import_images(source, tmp_path / "data")
    with pytest.raises(own.OwnDataError, match="already exists"):
        own.import_images(source, tmp_path / "data")
    assert own.import_images(source, tmp_path / "data", replace=True).name == "pics"


def test_an_unknown_own_dataset_names_the_ones_there_are(tmp_path):
    own.import_images(image_folder(tmp_path / "pics", per_class=3), tmp_path / "data")
    with pytest.raises(rc.DatasetUnavailable, match="own:pics") as info:
        rc.load_dataset("own:nope", tmp_path / "data")
    # the import's words, not its English: the Train page says them in the reader's language
    assert isinstance(info.value, FileNotFoundError) and "（你的：own:pics）" in chinese(info.value)


def test_the_command_line_imports_a_folder_and_trains_on_it(tmp_path, capsys):
    from resnet_core.cli import main as cli

    source = image_folder(tmp_path / "colours", per_class=6)
    runs, data = tmp_path / "runs", tmp_path / "data"
    args = ["--depth", "8", "--epochs", "1", "--device", "cpu", "--runs-dir", str(runs), "--data-dir", str(data)]
    assert cli.main(["train", "--dataset", str(source), *args]) == 0
    assert "as own:colours" in capsys.readouterr().out
    (run,) = rc.RunStore(runs).list()
    assert run.dataset == "own:colours" and run.spec.num_classes == 3 and run.status == "completed"
    assert cli.main(["train", "--dataset", str(tmp_path / "empty-folder-that-is-missing"), *args]) == 2


def test_the_train_page_trains_on_your_imported_images(tmp_path, monkeypatch):
    """The picker lists an imported dataset by name; Train makes a run on it whose net and subset fit it
    (3 classes; the largest class-balanced subsets of an unbalanced set), and the worker trains it."""
    import time

    from streamlit.testing.v1 import AppTest

    from ui.runs import release_runner

    source = image_folder(tmp_path / "colours", per_class=6)
    for i in range(6, 10):  # unbalanced: red has 10 images, the others 6
        (source / "red" / f"{i}.png").write_bytes(png(COLOURS["red"], seed=i))
    own.import_images(source, tmp_path / "data")
    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("RESNET_LAB_DATA", str(tmp_path / "data"))
    page = str(Path(__file__).resolve().parent.parent / "pages" / "train.py")
    try:
        at = AppTest.from_file(page, default_timeout=120).run()
        assert not at.exception
        picker = at.selectbox(key="train.dataset")
        assert "own:colours" in picker.options or "colours (your images)" in picker.options
        picker.set_value("own:colours")
        at.number_input(key="train.epochs").set_value(1)
        at.run()
        at.button(key="train.one").click().run()
        assert not at.exception, at.exception
        (run,) = rc.RunStore(tmp_path / "runs").list()
        assert run.dataset == "own:colours" and run.spec.num_classes == 3
        # 6 a class: 1 held out (20 %), 5 to train — balanced over 3 classes: 15 and 3.
        assert (run.config.train_size, run.config.test_size) == (15, 3)
        deadline = time.monotonic() + 300
        while rc.RunStore(tmp_path / "runs").get(run.id).status in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.5)
        assert rc.RunStore(tmp_path / "runs").get(run.id).status == "completed"
    finally:
        release_runner(str((tmp_path / "runs").resolve()))
