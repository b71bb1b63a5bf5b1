"""A net's settings (NetSpec's fixed values: "basic", "batch", "A", …) and the datasets' class names, in the
reader's language. The stored values stay English; they are translated where they are shown, here.

`spec_words(field, value)` says one NetSpec value ("basic" -> "basic blocks" / 基本块); `class_name(name,
dataset)` one class of a built-in dataset ("circle" -> 圆形); a dataset made from your own images keeps its
folders' names as typed.
"""

from __future__ import annotations

from .i18n import N_, Messages

# NetSpec's values, as a phrase that stands on its own in a line of settings ("basic blocks · shortcut A ·
# norm batch · relu"); a value with no entry (an activation: a name) is shown as it is.
SPEC_WORDS = {
    "block": Messages({"basic": N_("basic blocks"), "bottleneck": N_("bottleneck blocks")}),
    "shortcut": Messages(
        {
            "A": N_("shortcut A"),
            "B": N_("shortcut B"),
            "C": N_("shortcut C"),
            "none": N_("shortcut none"),  # a plain net
            # a built block's own shortcut (model/net.py BlockInfo.shortcut)
            "identity": N_("identity"),
            "zero-pad": N_("zero-pad"),
            "projection": N_("projection"),
        }
    ),
    "norm": Messages({"batch": N_("norm batch"), "none": N_("norm none")}),
    "stem": Messages({"cifar": N_("CIFAR stem"), "imagenet": N_("ImageNet stem")}),
}

# The built-in datasets' class names (data/shapes.py, data/idx.py, torchvision's CIFAR-10), English as stored.
# MNIST's digits are digits in every language.
CLASS_WORDS = {
    "shapes": Messages(
        {
            name: name
            for name in (
                N_("circle"),
                N_("square"),
                N_("triangle"),
                N_("cross"),
                N_("star"),
                N_("ring"),
                N_("ellipse"),
                N_("stripes"),
                N_("checkerboard"),
                N_("dots"),
            )
        }
    ),
    "fashion-mnist": Messages(
        {
            name: name
            for name in (
                N_("T-shirt/top"),
                N_("trouser"),
                N_("pullover"),
                N_("dress"),
                N_("coat"),
                N_("sandal"),
                N_("shirt"),
                N_("sneaker"),
                N_("bag"),
                N_("ankle boot"),
            )
        }
    ),
    "cifar10": Messages(
        {
            name: name
            for name in (
                N_("airplane"),
                N_("automobile"),
                N_("bird"),
                N_("cat"),
                N_("deer"),
                N_("dog"),
                N_("frog"),
                N_("horse"),
                N_("ship"),
                N_("truck"),
            )
        }
    ),
}


def spec_words(field: str, value: object) -> str:
    """One NetSpec value shown to a reader: `spec_words("block", "basic")` -> "basic blocks" (基本块);
    `spec_words("norm", "batch")` -> "norm batch" (批归一化). A value with no words (an activation) as it is."""
    words = SPEC_WORDS.get(field)
    return words[value] if words is not None and isinstance(value, str) and value in words else str(value)


# A built-in dataset's name in a picker (the pages show it as text); marked for the catalog, said with _().
DATASET_LABELS = {
    "shapes": N_("shapes (embedded, offline)"),
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "fashion-mnist": N_("Fashion-MNIST (28×28 grayscale)"),
    "mnist": N_("MNIST (28×28 grayscale)"),
}


def class_name(name: str, dataset: str | None) -> str:
    """A class's name as a reader sees it: a built-in dataset's in the reader's language ("circle" -> 圆形,
    "T-shirt/top" -> T恤/上衣); any other dataset's (your own images' folders: "own:…"; ImageNet's; None, no
    dataset at hand) as it is."""
    words = CLASS_WORDS.get(dataset or "")
    return words[name] if words is not None and name in words else name
