"""The last English a Chinese reader met (issue "中文"): the reference runs' provenance stored as fields and said
in the reader's language, NetSpec values and the built-in datasets' class names through the catalog, numbers
never in e-notation, the device's counts singular or plural."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import SHAPES_BUNDLE

from resnet_core.presentation.describe import describe_machine, describe_provenance, number
from resnet_core.presentation.i18n import say, set_language
from resnet_core.presentation.spec_words import class_name, spec_words
from resnet_core.studies import reference
from resnet_core.studies.experiments import cpu_long_preset, preset_by_key
from resnet_core.words import Words

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = json.loads((ROOT / "assets" / "reference" / "provenance.json").read_text())
SHAPES = json.loads((SHAPES_BUNDLE / "provenance.json").read_text())  # a bundle made on another machine


@pytest.fixture
def zh():
    set_language("zh")
    try:
        yield
    finally:
        set_language("en")


def test_the_shipped_provenance_holds_fields_not_sentences():
    assert SHIPPED["preset"] == "cpu_long" and preset_by_key("cpu_long") == cpu_long_preset()
    assert set(SHIPPED["machine"]) == {"cpu", "cores", "virtual", "os"} and SHIPPED["machine"]["cores"] >= 1
    assert SHAPES["machine"] == {"cpu": "Intel(R) Xeon(R) Processor", "cores": 2, "virtual": True, "os": "Linux"}
    made = reference.machine()  # the writer writes the same fields
    assert set(made) == {"cpu", "cores", "virtual", "os"} and made["cores"] >= 1 and isinstance(made["virtual"], bool)


def test_the_provenance_sentence_is_built_in_the_readers_language(zh):
    said = describe_provenance(SHAPES)
    assert said.startswith("于 2026-11-28 18:17 UTC 由 `python -m resnet_core reference` 训练 —— 较长的 CPU 预设，")
    assert "Intel(R) Xeon(R) Processor，2 核，虚拟机，Linux" in said  # the model is a name: as it is
    assert "preset" not in said and "cores" not in said and "virtual machine" not in said
    assert "，torch 2.14.1+cu130" in said


def test_the_provenance_sentence_in_english_is_as_it_was():
    said = describe_provenance(SHAPES)
    assert said.startswith("trained on 2026-11-28 18:17 UTC by `python -m resnet_core reference` — Longer CPU preset, ")
    assert " min on Intel(R) Xeon(R) Processor, 2 cores, virtual machine, Linux — at commit c1a3a70, torch " in said
    assert describe_machine({"cpu": "M1", "cores": 1, "virtual": False, "os": "Darwin"}) == "M1, 1 core, Darwin"
    assert describe_machine("an older bundle's sentence") == "an older bundle's sentence"


def test_net_settings_are_said_in_words(zh):
    assert spec_words("block", "basic") == "基本块" and spec_words("block", "bottleneck") == "瓶颈块"
    assert spec_words("norm", "batch") == "批归一化" and spec_words("norm", "none") == "无归一化"
    assert spec_words("shortcut", "A") == "快捷连接 A" and spec_words("shortcut", "zero-pad") == "补零"
    assert spec_words("activation", "relu") == "relu"  # a name


def test_net_settings_in_english_are_as_they_were():
    assert spec_words("block", "basic") == "basic blocks" and spec_words("norm", "batch") == "norm batch"


def test_class_names_of_the_built_in_datasets_are_translated_at_display(zh):
    assert class_name("circle", "shapes") == "圆形" and class_name("square", "shapes") == "正方形"
    assert class_name("T-shirt/top", "fashion-mnist") == "T恤/上衣" and class_name("trouser", "fashion-mnist") == "裤子"
    assert class_name("airplane", "cifar10") == "飞机" and class_name("automobile", "cifar10") == "汽车"
    assert class_name("7", "mnist") == "7"
    assert class_name("circle", "own:mine") == "circle"  # your own folders' names, as typed
    assert class_name("tench", None) == "tench"


def test_every_built_in_class_has_chinese(zh):
    from resnet_core.data.idx import CLASSES
    from resnet_core.data.shapes import SHAPES_CLASSES

    cifar = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
    for dataset, names in (("shapes", SHAPES_CLASSES), ("fashion-mnist", CLASSES["fashion-mnist"]), ("cifar10", cifar)):
        assert all(class_name(n, dataset) != n for n in names), dataset
    set_language("en")
    assert class_name("circle", "shapes") == "circle"


@pytest.mark.parametrize(
    "value, digits, text",
    [
        (1700.0, 2, "1,700"),
        (1234.5, 3, "1,230"),
        (0.042, 2, "0.042"),
        (1.0, 2, "1"),
        (3.2e-5, 2, "3.2 × 10⁻⁵"),
        (1e8, 2, "10⁸"),
        (2.5e12, 2, "2.5 × 10¹²"),
        (0.0, 2, "0"),
        (float("inf"), 2, "∞"),
    ],
)
def test_numbers_in_sentences_are_never_e_notation(value, digits, text):
    assert number(value, digits) == text


def test_gradient_verdicts_say_ratios_readably(zh):
    from resnet_core.presentation.gradient_text import describe_ratio, magnitude

    assert "1,700 倍" in describe_ratio(1700.0) and "e+" not in describe_ratio(1700.0)
    assert "3.2 × 10⁻⁵ 倍" in describe_ratio(3.2e-5)
    assert magnitude(3e8) == "~10⁸"


def test_the_device_counts_are_singular_or_plural(zh):
    one = Words("CPU ({cores}, {threads})", cores=Words("{n} cores", n=2), threads=Words("{n} thread", n=1))
    assert say(one) == "CPU（2 核，1 线程）"
    set_language("en")
    assert str(one) == "CPU (2 cores, 1 thread)"
    from resnet_core.training.device import device_words

    said = str(device_words("cpu"))
    assert "1 threads" not in said and "1 cores" not in said and said.startswith("CPU (")
