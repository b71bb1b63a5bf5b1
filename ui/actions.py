"""The one way a page acts on runs: each action is a call of execution/access.RunAccess, which checks it on the
run as stored now; `act` makes it and, when it is refused, says why in the reader's language.

A page is drawn from what it read at the start of its rerun (or, in a live view, up to a second before), so
what its buttons offer can be stale by the time one is pressed: the run was deleted in another tab, its owner
stopped sharing it, it started training, the student's queue filled up. Then the action changes nothing, and the
page says so and goes on drawing: no traceback, no lost input.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from resnet_core.execution.access import AccessDenied, NoSuchRun, QueueFull
from resnet_core.presentation.i18n import say
from resnet_core.presentation.text import markdown_text
from resnet_core.store.run_store import RunActive

# What a run action may be refused with: each one says, in words (resnet_core/words.py), what happened and what
# to do. Any other error is a bug, and shows as one.
REFUSALS = (AccessDenied, NoSuchRun, QueueFull, RunActive)


def act(action: Callable[[], object]) -> bool:
    """Do `action`; False, with the refusal said on the page (in the reader's language), if it was refused."""
    try:
        action()
    except REFUSALS as err:
        st.error(markdown_text(say(err)), icon=":material/block:")  # it may name a run: text, not Markdown
        return False
    return True
