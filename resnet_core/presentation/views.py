"""What a view returns: one figure with the words that go with it, and the verdict the data gives.

A *view* is a function over the store's read interface and the view's parameters (ui/views/); pages and the
lesson lay its result out the same way (ui/views/render.py). Keeping the figure, its caption and its
verdict in one value is what lets the lesson show exactly what a tool page shows, and lets a test check
that a sentence stating a finding was computed from the data drawn beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# agrees: the data shows what the paper says; disagrees: it shows the opposite; too_close: the difference
# is within the noise of this experiment; untrained: a net did not learn, so its figure says nothing about
# trained nets; pending: the data is not there yet (a run still training, an analysis not computed).
VerdictKind = Literal["agrees", "disagrees", "too_close", "untrained", "pending"]


@dataclass(frozen=True)
class Verdict:
    """A sentence stating a finding, computed from the data shown, and which kind of finding it is."""

    kind: VerdictKind
    text: str


@dataclass
class View:
    """A figure (a plotly Figure, or None for a view that is text or a table), its title, one or two
    sentences saying what to see, the verdicts on it, and notes (e.g. which runs are shown and why)."""

    title: str
    figure: Any = None
    caption: str = ""
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    table: Any = None  # a pandas DataFrame shown under the figure, if any
