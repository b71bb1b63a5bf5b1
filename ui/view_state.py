"""A page's view state, declared once and kept in the URL, so a link reproduces the view.

After TensorFlow Playground's `state.ts`: each page lists its URL parameters (name, default, the values
allowed); one pair of functions reads them into keyed widgets and writes them back. A link opened cold
shows the same view; a value a link cannot mean (tampered, or from an older version) falls back to the
default with a warning naming it, never a traceback. `?present=1` on any page hides the controls, so a
projector shows the figure, its claim and its verdict only (the teacher prepares the view, then shares the
link with `present=1`).

Widgets are keyed `"<page>.<name>"`: the key carries the value across reruns and languages, the URL
across visits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from resnet_core.presentation.i18n import _, joined
from resnet_core.presentation.text import markdown_text

PRESENT = "present"  # query parameter: hide the controls


@dataclass(frozen=True)
class Param:
    """One URL parameter of a view: its name, its default, and what a URL value may be.

    `choices`: the allowed values (strings in the URL, parsed by `parse`); None: any value `parse` accepts.
    `multi`: a comma-separated list of such values (e.g. run ids).
    """

    name: str
    default: Any
    parse: Callable[[str], Any] = str
    choices: Sequence[Any] | None = None
    multi: bool = False
    key: str | None = None  # the widget's key, when not "<page>.<name>" (e.g. one widget per model)

    def from_url(self, raw: str) -> Any:
        """The value `raw` means; ValueError when it means none."""
        if self.multi:
            values = [self._one(part) for part in raw.split(",") if part]
            return values
        return self._one(raw)

    def _one(self, raw: str) -> Any:
        value = self.parse(raw)
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{raw!r} is not one of the choices")
        return value

    def to_url(self, value: Any) -> str:
        if self.multi:
            return ",".join(_text(v) for v in value)
        return _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def parse_bool(raw: str) -> bool:
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{raw!r} is not a yes/no value")


class ViewState:
    """The URL parameters of one page: `key(name)` is the widget key, `value(name)` the current value."""

    def __init__(self, page: str, params: Sequence[Param]):
        self.page = page
        self.params = {p.name: p for p in params}

    def key(self, name: str) -> str:
        return self.params[name].key or f"{self.page}.{name}"

    def load(self) -> None:
        """On a session's first visit to the page, seed each widget's key from the URL (or the default).
        A value the URL cannot mean is dropped with one warning that names it."""
        bad = []
        for name, param in self.params.items():
            key = self.key(name)
            if key in st.session_state:
                continue
            raw = st.query_params.get(name)
            value = param.default
            if raw is not None:
                try:
                    value = param.from_url(raw)
                except ValueError:
                    bad.append(name)
            st.session_state[key] = value
        if bad:
            names = joined((markdown_text(n) for n in bad), ", ")
            st.warning(
                _("This link's value for {names} is not one this page can show; the default is shown instead.").format(
                    names=names
                )
            )

    def value(self, name: str) -> Any:
        key = self.key(name)
        if key not in st.session_state:
            self.load()
        return st.session_state[key]

    def set(self, name: str, value: Any) -> None:
        """Set a value from code (e.g. an informative default chosen after the data is read)."""
        st.session_state[self.key(name)] = value

    def save(self) -> None:
        """Write every value that differs from its default into the URL (and drop the others), so the
        address bar always holds the view; other parameters (the net's spec, `lang`, `present`) are kept."""
        for name, param in self.params.items():
            value = st.session_state.get(self.key(name), param.default)
            if value == param.default or value is None or value == []:
                if name in st.query_params:
                    del st.query_params[name]
                continue
            text = param.to_url(value)
            if st.query_params.get(name) != text:
                st.query_params[name] = text

    def link(self, values: dict[str, Any], *, present: bool = False) -> str:
        """The query string (`?a=1&b=2`) of this page's view with `values`, for "open this in the tool"."""
        parts = []
        for name, value in values.items():
            param = self.params[name]
            if value != param.default and value is not None and value != []:
                parts.append(f"{name}={param.to_url(value)}")
        if present:
            parts.append(f"{PRESENT}=1")
        return ("?" + "&".join(parts)) if parts else ""


def presenting() -> bool:
    """True when the link asks for the presentation view (`?present=1`): controls hidden."""
    try:
        return parse_bool(st.query_params.get(PRESENT, "0"))
    except ValueError:
        return False
