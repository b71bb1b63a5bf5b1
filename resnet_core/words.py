"""Words the library says to a person, kept translatable: an English template with named fields, and the fields.

The layers below `presentation` cannot import its catalog (`presentation/i18n.py`), yet what they say reaches
the app's pages (an upload that is not an image, a queue that is full). So they say it as `Words` — or raise a
`WordedError`, which keeps its `Words` — whose `str()` is the English, exactly as an f-string would give it (the
command line and the logs read that); the app says the same template in the reader's language (`i18n.say`).

A field is a number (formatted by the template: `{size:.1f}`), text that stays as it is (a file's name, a
library's own error message), or `Words` again (a phrase the catalog translates too: "none yet", the import
limits). Every template is marked for the catalog in `presentation/library_words.py`, and tests/test_i18n.py
fails on one that is not: so a template is a literal string, never an f-string.
"""

from __future__ import annotations

from typing import Any


class Words:
    """`template` (English, with `str.format` fields) said with `params`; `str()` is the English."""

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template, self.params = template, params

    def __str__(self) -> str:
        return self.template.format(**self.params)

    def __repr__(self) -> str:
        return f"Words({self.template!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Words) and (self.template, self.params) == (other.template, other.params)

    __hash__ = None  # type: ignore[assignment]  # equal by value, and the fields may be unhashable


class WordedError(Exception):
    """An error whose message a person reads: `words` (its template and fields) says it in any language, and
    `str(err)` is the English. Subclasses add the built-in they are (ValueError, PermissionError)."""

    def __init__(self, template: str, /, **params: Any) -> None:
        self.words = Words(template, **params)
        super().__init__(str(self.words))

    def __str__(self) -> str:
        # The English, whatever built-in the subclass is: KeyError's own str() would quote it.
        return str(self.words)

    @property
    def template(self) -> str:
        return self.words.template

    @property
    def params(self) -> dict[str, Any]:
        return self.words.params

    def __reduce__(self) -> tuple:
        # Rebuilt from the template and its fields: pickle's default would pass the English message back in as
        # the template, whose braces (a file's name may hold some) `format` would then read as fields.
        return (_rebuild, (type(self), self.template, self.params))


def _rebuild(cls: type[WordedError], template: str, params: dict[str, Any]) -> WordedError:
    return cls(template, **params)
