"""The session's language: chosen in the sidebar, kept in the URL (`?lang=`), first guessed from the browser.

Which language a run speaks is decided once at its top (`use_language`, the first call of app.py and of
every page, since AppTest runs a page without app.py) and set for the library's `_()`
(resnet_core/presentation/i18n.py); a fragment, which may rerun in a thread of its own, sets it again
(ui/live.py). The order: the session's choice (the sidebar's keyed selector) > `?lang=` of the link that
opened the session > the browser's language (`st.context.locale`: zh* -> Chinese) > English. Never one
language for every visitor: nothing here is per server.

Switching language keeps every control's value because every widget whose label is translated is keyed
(a keyless widget's identity includes its label), and choices are internal values shown through
`format_func`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from resnet_core.presentation.i18n import (
    DEFAULT,
    LANGUAGES,
    _,
    catalog,
    in_each_language,
    language,
    plotly_separators,
    set_language,
)

KEY = "app.lang"  # the sidebar selector's key: the session's language
PARAM = "lang"  # the URL parameter

F = TypeVar("F", bound=Callable[..., Any])


def browser_language() -> str | None:
    """The language of the browser's locale, if the app speaks it ("zh-CN", "zh-TW", "zh" -> "zh")."""
    try:
        locale = st.context.locale
    except Exception:  # no browser behind this run (AppTest), or an older Streamlit
        return None
    if not locale:
        return None
    code = str(locale).split("-")[0].split("_")[0].lower()
    return code if code in LANGUAGES else None


def use_language() -> str:
    """Decide this run's language (see the module docstring), set it for `_()`, and keep it in the URL."""
    lang = st.session_state.get(KEY)
    if lang not in LANGUAGES:
        raw = st.query_params.get(PARAM)
        lang = raw if raw in LANGUAGES else (browser_language() or DEFAULT)
        st.session_state[KEY] = lang
    set_language(lang)
    # The URL says the language whenever it is not the default or a link already named it, so a copied
    # link opens in the language it was copied in (an English link stays clean: no `?lang=en`).
    if (lang != DEFAULT or PARAM in st.query_params) and st.query_params.get(PARAM) != lang:
        st.query_params[PARAM] = lang
    return lang


def language_selector() -> None:
    """The sidebar's choice of language (keyed: its value is the session's language)."""
    st.segmented_control(
        _("Language"),
        list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        key=KEY,
        on_change=_keep_choice,
        label_visibility="collapsed",
    )


def _keep_choice() -> None:
    # A segmented control can be cleared by clicking its selected option: keep the language it had.
    if st.session_state.get(KEY) not in LANGUAGES:
        st.session_state[KEY] = language()


def carried() -> dict[str, str]:
    """The query parameters every link the app makes keeps: the language, when the URL names it."""
    lang = language()
    return {PARAM: lang} if lang != DEFAULT or PARAM in st.query_params else {}


def with_language(query: Mapping[str, str] | None = None) -> dict[str, str]:
    """A link's query parameters plus the language (for st.page_link's `query_params`)."""
    return {**(query or {}), **carried()}


def in_language(function: F) -> F:
    """`function` (a fragment's body) run in this session's language: a fragment reruns alone, maybe in a
    new thread where the context variable set at the page's top is not set."""
    lang = language()

    @functools.wraps(function)  # a fragment is known by its function's identity
    def run(*args: Any, **kwargs: Any) -> Any:
        set_language(st.session_state.get(KEY, lang))
        return function(*args, **kwargs)

    return run  # type: ignore[return-value]


def spinning(text: str) -> Callable[[F], F]:
    """Say `_(text)` while the decorated function runs (after Streamlit's half-second delay, so a cache hit
    shows nothing): `st.cache_*(show_spinner="…")` fixes its words once, at import, in no language. Put it
    above the cache decorator, with `show_spinner=False` there, and mark `text` with N_. Outside a page run
    (ui/warm.py's thread filling the caches ahead) there is no page to say it on: the function just runs."""

    def wrap(function: F) -> F:
        @functools.wraps(function)  # keeps the cache's own methods (`clear`)
        def run(*args: Any, **kwargs: Any) -> Any:
            if get_script_run_ctx(suppress_warning=True) is None:
                return function(*args, **kwargs)
            with st.spinner(_(text)):
                return function(*args, **kwargs)

        return run  # type: ignore[return-value]

    return wrap


def warm() -> None:
    """Each language's words and number symbols loaded (its catalog; Babel's CLDR data, which plotly's separators
    are read from): the first chart a server draws otherwise waits for them. For ui/warm.py's thread."""
    in_each_language(lambda: (catalog(language()), plotly_separators()))
