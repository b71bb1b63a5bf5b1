"""The chosen net, remembered across pages (session state) and in the URL (query parameters), and the
widgets that edit it."""

from __future__ import annotations

import streamlit as st

import resnet_core as rc
from resnet_core.presentation.i18n import N_, Messages, _, joined, say
from resnet_core.presentation.text import markdown_text

SPEC_KEY = "net_spec"

BLOCK_LABELS = Messages({"basic": N_("basic · 3×3, 3×3"), "bottleneck": N_("bottleneck · 1×1, 3×3, 1×1")})
STEM_LABELS = Messages({"cifar": N_("CIFAR · 32×32, 3 stages"), "imagenet": N_("ImageNet · 224×224, 4 stages")})
SHORTCUT_LABELS = Messages(
    {
        "A": N_("A · identity + zero-pad"),
        "B": N_("B · projection on reshape"),
        "C": N_("C · projection always"),
    }
)
NORM_LABELS = Messages({"batch": "BatchNorm", "none": N_("none")})  # BatchNorm: a name
# The widgets' ranges (NetSpec itself takes any positive number): a link asking for more is clamped, with a
# warning — a widget given a value beyond its range raises instead.
LIMITS = {"width": 512, "num_classes": 1000, "in_channels": 16}
LIMIT_WORDS = Messages(
    {"width": N_("width of the first stage"), "num_classes": N_("classes"), "in_channels": N_("input channels")}
)


def current_spec() -> rc.NetSpec:
    """The spec of this session; on first use, read from the link's query parameters."""
    if SPEC_KEY not in st.session_state:
        try:
            spec = rc.spec_from_params(st.query_params.to_dict())
        except ValueError as err:
            st.warning(
                _("The link's network settings are not valid ({err}). Showing the default net.").format(
                    err=markdown_text(say(err))  # the link's values quoted as text, in any language
                )
            )
            spec = rc.NetSpec()
        st.session_state[SPEC_KEY] = spec
    return st.session_state[SPEC_KEY]


def remember_spec(spec: rc.NetSpec) -> None:
    """Keep `spec` for the other pages and write it into the URL, so a link reproduces it."""
    st.session_state[SPEC_KEY] = spec
    params = rc.spec_to_params(spec)
    for name in rc.NetSpec.__dataclass_fields__:
        if name in params:
            if st.query_params.get(name) != params[name]:
                st.query_params[name] = params[name]
        elif name in st.query_params:
            del st.query_params[name]


# The depths the papers train, offered as one-click picks beside the precise control: He et al. 2015's CIFAR
# nets (Table 6: 20 … 110, and 1202 in §4.2) and its ImageNet nets (Table 1: 18 … 152).
PAPER_DEPTHS = {"cifar": (20, 32, 44, 56, 110, 1202), "imagenet": (18, 34, 50, 101, 152)}


def _picked(depth_key: str, pick_key: str) -> None:
    if st.session_state[pick_key] is not None:
        st.session_state[depth_key] = st.session_state[pick_key]


def depth_picks(depth_key: str, depths: list[int], stem: str) -> None:
    """The paper's depths among `depths`, as pills that set the precise control keyed `depth_key` (drawn
    after this, with no `value=`: its value is in session state). The pill of the current depth is shown
    selected; none when the depth is not one of the paper's."""
    picks = [d for d in PAPER_DEPTHS[stem] if d in depths]
    if not picks:
        return
    pick_key = f"{depth_key}.pick"
    current = st.session_state.get(depth_key)
    st.session_state[pick_key] = current if current in picks else None
    st.pills(
        _("The paper's depths"),
        picks,
        key=pick_key,
        on_change=_picked,
        args=(depth_key, pick_key),
        help=_(
            "One click for a depth the paper trains; the slider below reaches every valid depth "
            "(arrow keys step one at a time)."
        ),
    )


def _snap(depth: int, options: list[int]) -> int:
    return depth if depth in options else min(options, key=lambda d: (abs(d - depth), d))


def spec_editor(spec: rc.NetSpec, key: str = "spec", max_depth: int = 1202) -> rc.NetSpec:
    """A control for every NetSpec field; returns the spec they describe (always a valid one)."""
    # Rows of two and three, not five: at 1024 px five columns cut the choices ("A · identi", "basic · 3×").
    top = st.columns([3, 2], gap="large")
    row = st.columns(2) + st.columns([1.5, 1, 1])
    stem = row[0].selectbox(
        _("Stem"), rc.STEMS, index=rc.STEMS.index(spec.stem), format_func=STEM_LABELS.get, key=f"{key}.stem"
    )
    block = row[1].selectbox(
        _("Block"), rc.BLOCKS, index=rc.BLOCKS.index(spec.block), format_func=BLOCK_LABELS.get, key=f"{key}.block"
    )
    depths = rc.valid_depths(block, stem, max_depth=max_depth)
    rule = {"basic": "6n+2", "bottleneck": "9n+2"}[block] if stem == "cifar" else _("the paper's Table 1")
    # The key carries block and stem: the valid depths differ, so the slider is a different widget. Its value
    # lives in session state (no `value=`), so the quick picks can set it.
    depth_key = f"{key}.depth.{block}.{stem}"
    if st.session_state.get(depth_key) not in depths:
        st.session_state[depth_key] = _snap(spec.depth, depths)
    with top[0]:
        depth_picks(depth_key, depths, stem)
    depth = top[0].select_slider(
        _("Depth (weighted layers)"),
        depths,
        key=depth_key,
        help=_("Convolutions plus the final fully-connected layer, as the paper counts them ({rule}).").format(
            rule=rule
        ),
    )
    skip = top[1].toggle(
        _("Skip connections"),
        value=spec.skip,
        key=f"{key}.skip",
        help=_("Off: the plain twin — the same layers without shortcuts."),
    )
    preact = top[1].toggle(
        _("Pre-activation"),
        value=spec.preact,
        key=f"{key}.preact",
        help=_("BN → ReLU → conv ordering of He et al. 2016 (Identity Mappings)."),
    )
    shortcut = row[2].selectbox(
        _("Shortcut"),
        rc.SHORTCUTS,
        index=rc.SHORTCUTS.index(spec.shortcut),
        format_func=SHORTCUT_LABELS.get,
        key=f"{key}.shortcut",
        help=_("The paper's options A, B and C (§3.3). A plain net has no shortcuts."),
    )
    norm = row[3].selectbox(
        _("Normalisation"), rc.NORMS, index=rc.NORMS.index(spec.norm), format_func=NORM_LABELS.get, key=f"{key}.norm"
    )
    activation = row[4].selectbox(
        _("Activation"), rc.ACTIVATIONS, index=rc.ACTIVATIONS.index(spec.activation), key=f"{key}.activation"
    )
    default_width = 16 if stem == "cifar" else 64
    asked = {"width": spec.width or default_width, "num_classes": spec.num_classes, "in_channels": spec.in_channels}
    start = {name: min(value, LIMITS[name]) for name, value in asked.items()}
    over = [
        _("{limit_words} {value:,} (this page goes up to {limits:,})").format(
            limit_words=LIMIT_WORDS[name], value=value, limits=LIMITS[name]
        )
        for name, value in asked.items()
        if value > LIMITS[name]
    ]
    if over:
        st.warning(_("The link asks for {join}: showing the largest instead.").format(join=joined(over)))
    with st.expander(_("Width, classes and input channels"), key=f"{key}.limits"):  # keyed: kept across languages
        cols = st.columns(3)
        width = cols[0].number_input(
            _("Width of the first stage"), 1, LIMITS["width"], start["width"], key=f"{key}.width.{stem}"
        )
        num_classes = cols[1].number_input(
            _("Classes"), 1, LIMITS["num_classes"], start["num_classes"], key=f"{key}.classes"
        )
        in_channels = cols[2].number_input(
            _("Input channels"), 1, LIMITS["in_channels"], start["in_channels"], key=f"{key}.in"
        )
    return rc.NetSpec(
        depth=depth,
        skip=skip,
        block=block,
        shortcut=shortcut,
        preact=preact,
        stem=stem,
        norm=norm,
        activation=activation,
        width=None if width == default_width else int(width),
        num_classes=int(num_classes),
        in_channels=int(in_channels),
    )
