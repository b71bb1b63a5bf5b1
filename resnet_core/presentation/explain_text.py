"""Explain's sentences about the image itself: whether it is like the images the net learned from
(analysis/familiarity.py measures it), said with the classes the net knows."""

from __future__ import annotations

from collections.abc import Sequence

from ..analysis.familiarity import Familiarity
from .describe import percent
from .i18n import _, joined
from .spec_words import class_name
from .text import markdown_text


def knows(net: str, dataset: str, classes: Sequence[str]) -> str:
    """ "ResNet-20 knows only the 10 classes of fashion-mnist: T-shirt/top, …" — what every label it gives is one of."""
    names = joined((class_name(c, dataset) for c in classes), ", ")
    return _("{net} knows only the {count} classes of {dataset}: {names}.").format(
        net=net, count=len(classes), dataset=markdown_text(dataset), names=markdown_text(names)
    )


def familiarity_note(fam: Familiarity, net: str, dataset: str, classes: Sequence[str]) -> tuple[bool, str]:
    """(whether to warn, the sentence): is this image unlike the net's training images, by how much (its rank
    among the net's test images, per measure), and what that means for the label shown."""
    ranks = _(
        "Colour and texture: further from its training images than {pixels} of its {count} test images; what "
        "its layers see: further than {layers}."
    ).format(pixels=percent(fam.ranks["pixels"]), layers=percent(fam.ranks["layers"]), count=fam.test_images)
    if fam.unlike:
        lead = _(
            "This image is unlike the images {net} learned from, so the labels it gives are only the nearest of the "
            "classes it knows, not what the image shows."
        ).format(net=net)
    else:
        lead = _(
            "This image is like the images {net} learned from: as near to them as most of its test images."
        ).format(net=net)
    return fam.unlike, f"{lead} {knows(net, dataset, classes)} {ranks}"
