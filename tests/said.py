"""What a page says for a lower layer's words (resnet_core/words.py) in a Chinese session: shared by the tests
that check an error reads in Chinese with its numbers, paths and names (a helper module, not a test file)."""

from __future__ import annotations

import contextvars

from resnet_core.presentation.i18n import say, set_language
from resnet_core.words import Words


def in_chinese(said: Words | BaseException) -> str:
    """`say(said)` as a Chinese page says it (before its Markdown escape); the caller's language is left as it was:
    the language is set in a copy of the context."""
    context = contextvars.copy_context()
    context.run(set_language, "zh")
    return context.run(say, said)
