"""The language words are said in: one gettext catalog per language, and `_()` to look a message up.

Every string a person reads is written in English in the code, wrapped in `_()` (or marked with `N_()` where
it is data translated later, e.g. the lesson's steps), and extracted by Babel into
`resnet_core/locale/messages.pot`; `resnet_core/locale/zh/LC_MESSAGES/messages.po` holds the Chinese (README:
"Translations" for the extract → update → translate cycle; docs/glossary.md for the terms).

The catalog is read from the .po itself (Babel's parser, once per process), not from a compiled .mo: a
fresh clone then works with `make run` and `make test` without a compile step, and there is no second file
that can go stale beside the one translators edit. A fuzzy or empty entry counts as untranslated (English
is shown); tests/test_i18n.py fails on both.

The language is per Streamlit script run, not per process: one server serves English and Chinese sessions
at once, each script run in its own thread. `set_language` sets a context variable at the top of every
run (ui/language.py: every page, and every fragment, which may rerun in a new thread); with none set —
the command line, a notebook, a worker process — everything is English, so the CLI's text stays as it was.

Messages carry named placeholders (`_("{depth} layers").format(depth=56)`), never fragments joined in
code: a translation may put the words around a number in another order.
"""

from __future__ import annotations

import contextvars
import functools
import html
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from babel.messages.pofile import read_po
from babel.numbers import get_decimal_symbol, get_group_symbol

from ..words import WordedError, Words

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
# The languages the app speaks: the code used in `?lang=` and session state -> the name in its own words.
LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT = "en"  # the source language: every msgid is English
# The CLDR locale of each language: number symbols come from it (Babel's data), not from our guesses.
LOCALES = {"en": "en_US", "zh": "zh_Hans_CN"}

# An SVG's words: the text of its <text> and <title> elements (assets/*.svg write no markup inside them).
SVG_WORDS = re.compile(r"(<(text|title)\b[^>]*>)([^<]+)(</\2>)")

_current: contextvars.ContextVar[str] = contextvars.ContextVar("resnet_lab_language", default=DEFAULT)


def set_language(lang: str) -> None:
    """Say this script run's words in `lang` (a key of LANGUAGES; anything else means English)."""
    _current.set(lang if lang in LANGUAGES else DEFAULT)


def in_each_language(function: Callable[[], object]) -> None:
    """Call `function` once in each language, each time in a copy of the current context, so the caller's
    language is left as it was (a warm-up that prepares words in every language, run in any thread)."""
    for lang in LANGUAGES:
        context = contextvars.copy_context()
        context.run(set_language, lang)
        context.run(function)


def language() -> str:
    """The current run's language code ("en" when none was set: the CLI, a worker, a notebook)."""
    return _current.get()


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def catalog(lang: str) -> dict[str | tuple[str, str], str]:
    """`lang`'s translations: msgid (or (singular, plural) for a plural message) -> the translation (the
    first plural form: Chinese has one). Fuzzy and empty entries are left out, so they show in English."""
    if lang == DEFAULT:
        return {}
    path = po_path(lang)
    if not path.exists():
        return {}
    with path.open("rb") as f:
        po = read_po(f, locale=lang)
    table: dict[str | tuple[str, str], str] = {}
    for message in po:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple | list):
            forms = message.string if isinstance(message.string, tuple | list) else (message.string,)
            if forms and forms[0]:
                table[(message.id[0], message.id[1])] = forms[0]
        elif isinstance(message.string, str) and message.string:
            table[message.id] = message.string
    return table


def gettext(message: str) -> str:
    """`message` in the current language (itself when English, or when it has no translation yet)."""
    lang = _current.get()
    if lang == DEFAULT:
        return message
    found = catalog(lang).get(message)
    return found if isinstance(found, str) else message


def ngettext(singular: str, plural: str, n: float) -> str:
    """The form of a message for a count `n`: English picks singular or plural; Chinese has one form."""
    lang = _current.get()
    if lang != DEFAULT:
        found = catalog(lang).get((singular, plural))
        if isinstance(found, str):
            return found
    return singular if n == 1 else plural


def N_(message: str) -> str:  # noqa: N802 (gettext's name for it, which Babel's extractor knows)
    """Mark `message` for the catalog without translating it now: data defined at import (the lesson's
    steps, a table of labels), translated with `_()` where it is shown, in the run's language."""
    return message


_ = gettext


def say(said: Words | BaseException) -> str:
    """What a lower layer says (resnet_core/words.py), in the run's language: the template translated, then
    filled — a field that is `Words` said the same way, numbers formatted by the template, any other text as it
    is. An error raised with words says its words; any other error its own (English) message."""
    if isinstance(said, WordedError):
        said = said.words
    if not isinstance(said, Words):
        return str(said)
    return gettext(said.template).format(
        **{name: say(value) if isinstance(value, Words) else value for name, value in said.params.items()}
    )


# The marks between the items of a list inside a sentence: "; " and ", " are "；" and "，" in Chinese.
SEPARATORS = (N_("; "), N_(", "))


def joined(items: Iterable[str], separator: str = "; ") -> str:
    """Items of a list inside a sentence, joined by the run's language's mark (`separator`, one of SEPARATORS):
    "a; b" in English, "a；b" in Chinese."""
    return gettext(separator).join(items)


def svg_words(svg: str) -> str:
    """An SVG drawing (assets/) with its words in the run's language: each <text> and <title> looked up in the
    catalog (marked in library_words.ASSETS; symbols and names, "x", "relu", have no entry and stay)."""
    return SVG_WORDS.sub(
        lambda m: m[1] + html.escape(gettext(html.unescape(m[3])), quote=False) + m[4],
        svg,
    )


def both(term: str) -> str:
    """A term in the run's language followed by its English, for its first appearance on a page:
    "残差块（residual block）" (the glossary's rule); just the term in English or where it has no translation."""
    translated = gettext(term)
    if translated == term:
        return term
    return gettext("{term} ({english})").format(term=translated, english=term)


def plotly_separators() -> str:
    """plotly's `layout.separators` (decimal mark, then group mark) for the current language: plotly ignores
    the browser's locale for numbers, so the figure is told."""
    locale = LOCALES[language()]
    return get_decimal_symbol(locale) + get_group_symbol(locale)


class Messages(Mapping[str, str]):
    """A read-only table of messages (their English msgids, marked with N_), translated when looked up: a
    module's table of sentences is built at import, before any run has a language."""

    def __init__(self, messages: Mapping[str, str]) -> None:
        self._messages = dict(messages)

    def __getitem__(self, name: str) -> str:
        return gettext(self._messages[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._messages)

    def __len__(self) -> int:
        return len(self._messages)
