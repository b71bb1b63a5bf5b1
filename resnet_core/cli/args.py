"""argparse types the commands share: depths lists and numbers with a range, each refusing bad text with a
message that says what it wanted (argparse then exits 2 with it); and the options several commands take, each
declared once so that every --help says it the same way."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

from ..training.device import DEVICE_CHOICES

Number = TypeVar("Number", int, float)


def depths_arg(text: str) -> tuple[int, ...]:
    """ "20,56": a tuple of depths (NetSpec judges each one later)."""
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected depths like 20,56, got {text!r}") from None


def comparison_depths(text: str) -> tuple[int, ...]:
    """Depths to compare (an experiment, the reference runs): at least two."""
    depths = depths_arg(text)
    if len(depths) < 2:
        raise argparse.ArgumentTypeError("give at least two depths to compare, like 20,56")
    return depths


def _number(text: str, kind: Callable[[str], Number], wanted: str, ok: Callable[[Number], bool]) -> Number:
    """`text` as `kind` if `ok(value)`; else the message "must be <wanted>, got <text>" (not a number too)."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
    return value


def positive_int(text: str) -> int:
    return _number(text, int, "a positive integer", lambda v: v >= 1)


def non_negative_int(text: str) -> int:
    return _number(text, int, "a whole number >= 0", lambda v: v >= 0)


def positive_float(text: str) -> float:  # NaN and infinity are not
    return _number(text, float, "a number > 0", lambda v: 0 < v < float("inf"))


def non_negative_float(text: str) -> float:
    return _number(text, float, "a number >= 0", lambda v: 0 <= v < float("inf"))


# The options several commands share, declared once so that each says the same thing in every --help.


def add_depths(
    p: argparse.ArgumentParser,
    default_words: str,
    depths: Callable[[str], tuple[int, ...]] = comparison_depths,
    default: tuple[int, ...] | None = None,
) -> None:
    """--depths: comma-separated 6n+2 depths; `default_words` says what the default is."""
    p.add_argument(
        "--depths",
        type=depths,
        default=default,
        metavar="DEPTHS",
        help=f"comma-separated depths, 6n+2 (default: {default_words})",
    )


def add_recipe_sizes(p: argparse.ArgumentParser, whose: str) -> None:
    """--epochs, --train-size, --test-size: each left to `whose` recipe unless given."""
    for flag in ("--epochs", "--train-size", "--test-size"):
        p.add_argument(flag, type=positive_int, default=None, help=f"default: {whose}")


def add_data_dir(p: argparse.ArgumentParser | argparse._ArgumentGroup, where: str = "") -> None:
    p.add_argument("--data-dir", default=None, help=f"default: env RESNET_LAB_DATA or ~/.cache/resnet-lab/data{where}")


def add_runs_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs-dir", default=None, help="default: env RESNET_LAB_RUNS or ./runs")


def add_device(p: argparse.ArgumentParser | argparse._ArgumentGroup, help: str | None = None) -> None:
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help=help)
