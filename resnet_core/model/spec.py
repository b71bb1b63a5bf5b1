"""`NetSpec`: what a residual (or plain) network looks like, validated and hashable.

The spec derives the stage layout the way the papers do:

- CIFAR stem (He et al. 2015, §4.2): a 3×3 conv, then 3 stages of widths w, 2w, 4w (w = 16) on feature
  maps of 32, 16, 8. Basic blocks: depth = 6n + 2 (n blocks per stage, 2 convs each, + stem + fc).
  Bottleneck blocks (He et al. 2016, ResNet-164): depth = 9n + 2.
- ImageNet stem (2015, Table 1): a 7×7/2 conv and a 3×3/2 max-pool, then 4 stages of widths
  w, 2w, 4w, 8w (w = 64) with a fixed number of blocks per depth (18, 34, 50, 101, 152).

Being a frozen dataclass, a spec keys caches and round-trips through query parameters.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..words import WordedError, Words

BLOCKS = ("basic", "bottleneck")
SHORTCUTS = ("A", "B", "C")
STEMS = ("cifar", "imagenet")
NORMS = ("batch", "none")
ACTIVATIONS = ("relu", "sigmoid", "tanh")

# Blocks per stage of the ImageNet nets (2015, Table 1).
IMAGENET_STAGE_BLOCKS = {
    "basic": {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)},
    "bottleneck": {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)},
}
# Weighted layers per block: two 3×3 convs, or 1×1-3×3-1×1.
CONVS_PER_BLOCK = {"basic": 2, "bottleneck": 3}
# Output channels of a block relative to its stage width (torchvision's `expansion`).
EXPANSION = {"basic": 1, "bottleneck": 4}


class SpecError(WordedError, ValueError):
    """Settings no net can have (a depth its block does not fit, a choice that is not one): the message names
    what would be valid, in words for the user (in theirs on a page: words.py)."""


@dataclass(frozen=True)
class NetSpec:
    """A residual network, or its plain twin (`skip=False`: the same layers without shortcuts)."""

    depth: int = 20  # weighted layers (convs + fc) as the paper counts them; shortcut projections excluded
    skip: bool = True  # False: the plain twin, the paper's baseline for the degradation problem
    # "basic" (3×3, 3×3) or "bottleneck" (1×1, 3×3, 1×1); None (the default) follows the depth where the
    # papers fix it: ImageNet 50/101/152 and CIFAR depths that are 9n+2 but not 6n+2 (ResNet-1001) are
    # bottleneck nets, every other depth basic. After construction it is always one of BLOCKS.
    block: str | None = None
    shortcut: str = "A"  # option A/B/C of the 2015 paper, §3.3 and §4.1
    preact: bool = False  # BN-ReLU-conv ordering of He et al. 2016 ("Identity Mappings")
    stem: str = "cifar"  # "cifar" (3×3 conv, 3 stages) or "imagenet" (7×7/2 conv + max-pool, 4 stages)
    norm: str = "batch"  # "batch" or "none"; without BN, deep nets show vanishing/exploding gradients
    activation: str = "relu"  # "relu", "sigmoid" or "tanh"
    width: int | None = None  # channels of the first stage; None: 16 (cifar) or 64 (imagenet)
    num_classes: int = 10
    in_channels: int = 3

    def __post_init__(self) -> None:
        if self.block is None:
            object.__setattr__(self, "block", default_block(self.depth, self.stem))
        _check_choice("block", self.block, BLOCKS)
        _check_choice("shortcut", self.shortcut, SHORTCUTS)
        _check_choice("stem", self.stem, STEMS)
        _check_choice("norm", self.norm, NORMS)
        _check_choice("activation", self.activation, ACTIVATIONS)
        for name in ("depth", "num_classes", "in_channels"):
            _check_positive_int(name, getattr(self, name))
        if self.width is not None:
            _check_positive_int("width", self.width)
        for name in ("skip", "preact"):
            if not isinstance(getattr(self, name), bool):
                raise SpecError("{name} must be True or False, got {value!r}", name=name, value=getattr(self, name))
        _ = self.stage_blocks  # raises SpecError for a depth this block/stem cannot have

    # --- derived layout -------------------------------------------------------------------------
    @property
    def block_kind(self) -> str:
        """`block` as resolved by construction: "basic" or "bottleneck", never None."""
        assert self.block is not None, "__post_init__ resolves block=None to the depth's default block"
        return self.block

    @property
    def stage_blocks(self) -> tuple[int, ...]:
        """Blocks in each stage."""
        block = self.block_kind
        if self.stem == "imagenet":
            table = IMAGENET_STAGE_BLOCKS[block]
            if self.depth not in table:
                raise SpecError(
                    "depth {depth} is not an ImageNet-style {block} net; valid depths: {valid}{hint}",
                    depth=self.depth,
                    block=block,
                    valid=", ".join(str(d) for d in table),
                    hint=_other_block_hint(self.depth, block, self.stem),
                )
            return table[self.depth]
        per_block = CONVS_PER_BLOCK[block]
        n, rest = divmod(self.depth - 2, 3 * per_block)
        if rest or n < 1:
            raise SpecError(
                "depth {depth} is not {formula} for {block} blocks on the cifar stem; nearest: {nearest}{hint}",
                depth=self.depth,
                formula=f"{3 * per_block}n+2",
                block=block,
                nearest=", ".join(str(d) for d in nearest_depths(self.depth, block, self.stem)),
                hint=_other_block_hint(self.depth, block, self.stem),
            )
        return (n, n, n)

    @property
    def stage_widths(self) -> tuple[int, ...]:
        """Width (channels of the 3×3 convs) of each stage: doubles whenever the map size halves."""
        base = self.width or (16 if self.stem == "cifar" else 64)
        return tuple(base * 2**i for i in range(len(self.stage_blocks)))

    @property
    def expansion(self) -> int:
        return EXPANSION[self.block_kind]

    @property
    def input_size(self) -> int:
        """The image side the paper uses with this stem."""
        return 32 if self.stem == "cifar" else 224

    @property
    def name(self) -> str:
        """Short label as the paper writes it, e.g. 'ResNet-56' or 'plain-20'."""
        label = f"{'ResNet' if self.skip else 'plain'}-{self.depth}"
        if self.preact:
            label += " (pre-act)"
        return label

    def replace(self, **changes) -> NetSpec:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> NetSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(
                "unknown NetSpec fields {unknown}; valid fields: {known}", unknown=unknown, known=sorted(known)
            )
        return cls(**data)


def _fits(depth: int, block: str, stem: str) -> bool:
    if stem == "imagenet":
        return depth in IMAGENET_STAGE_BLOCKS[block]
    n, rest = divmod(depth - 2, 3 * CONVS_PER_BLOCK[block])
    return rest == 0 and n >= 1


def default_block(depth: int, stem: str = "cifar") -> str:
    """The block a depth implies where the papers fix it: bottleneck for ImageNet 50/101/152 (2015,
    Table 1) and for CIFAR depths of the form 9n+2 only (2016: ResNet-1001); basic otherwise."""
    _check_choice("stem", stem, STEMS)
    if isinstance(depth, int) and not _fits(depth, "basic", stem) and _fits(depth, "bottleneck", stem):
        return "bottleneck"
    return "basic"


def _other_block_hint(depth: int, block: str, stem: str) -> Words | str:
    """The clause that ends a wrong depth's message when the other block fits it; "" when neither does."""
    other = "bottleneck" if block == "basic" else "basic"
    return (
        Words("; depth {depth} fits {other} blocks (block={other!r})", depth=depth, other=other)
        if _fits(depth, other, stem)
        else ""
    )


def valid_depths(block: str = "basic", stem: str = "cifar", max_depth: int = 1202) -> list[int]:
    """Every depth a net with this block and stem can have, up to `max_depth` (cifar stems)."""
    _check_choice("block", block, BLOCKS)
    _check_choice("stem", stem, STEMS)
    if stem == "imagenet":
        return list(IMAGENET_STAGE_BLOCKS[block])
    step = 3 * CONVS_PER_BLOCK[block]
    return list(range(step + 2, max_depth + 1, step))


def nearest_depths(depth: int, block: str = "basic", stem: str = "cifar") -> list[int]:
    """The valid depths just below and above `depth` (one of them when depth is below the smallest)."""
    if stem == "imagenet":
        return valid_depths(block, stem)
    step = 3 * CONVS_PER_BLOCK[block]
    below = 2 + step * max(1, (depth - 2) // step)
    above = below + step if below < depth else below
    return sorted({below, above})


def _check_choice(name: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SpecError(
            "{name} {value!r} is not valid; choose one of: {choices}",
            name=name,
            value=value,
            choices=", ".join(choices),
        )


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError("{name} must be a positive integer, got {value!r}", name=name, value=value)


def spec_to_params(spec: NetSpec) -> dict[str, str]:
    """The fields that differ from the defaults, as strings for a URL's query string."""
    default = NetSpec()
    params = {}
    for field in dataclasses.fields(NetSpec):
        value = getattr(spec, field.name)
        if value != getattr(default, field.name):
            params[field.name] = str(int(value)) if isinstance(value, bool) else str(value)
    return params


def spec_from_params(params: dict[str, str]) -> NetSpec:
    """Inverse of `spec_to_params`; other keys are ignored. SpecError (a ValueError) for values that do not parse."""
    fields: dict[str, Any] = {}  # field name -> parsed value, typed per field below
    for field in dataclasses.fields(NetSpec):
        if field.name not in params:
            continue
        raw = str(params[field.name]).strip()
        if field.name in ("skip", "preact"):
            if raw.lower() not in ("1", "0", "true", "false"):
                raise SpecError("{name} must be 1/0 or true/false, got {value!r}", name=field.name, value=raw)
            fields[field.name] = raw.lower() in ("1", "true")
        elif field.name in ("depth", "num_classes", "in_channels", "width"):
            if field.name == "width" and raw.lower() in ("", "none"):
                fields[field.name] = None
                continue
            try:
                fields[field.name] = int(raw)
            except ValueError:
                raise SpecError("{name} must be a whole number, got {value!r}", name=field.name, value=raw) from None
        else:
            fields[field.name] = raw
    return NetSpec(**fields)
