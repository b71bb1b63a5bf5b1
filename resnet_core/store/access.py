"""Who may see and act on a run: the rules of the app's class mode, in one place (no Streamlit).

A run records its `owner` (the login's email, or its subject where the provider gives no email) and whether
its owner `shared` it with the class. An `Actor` is the person asking:

- the local administrator (`ADMIN`: the command line, and the app without a login — one person on their own
  machine) sees and acts on every run;
- a teacher (listed in the app's config) sees and acts on every run, sets the queue caps and clears a
  student's queue;
- anyone else sees their own runs and the runs shared with the class, and acts (stop, resume, rename, share,
  delete, download) only on their own.

A run without an owner (made on the command line, or by the app before it had a login) belongs to the
administrator: in class mode only teachers see it. These functions decide; execution/access.RunAccess applies
them at every action the app calls, and store/view.RunView at every read of a run.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..words import WordedError, Words
from .run_store import Run

# What may be done to a run, as a refusal names it: a verb the sentence takes, translated where it is shown.
ACTIONS = {
    "stop": Words("stop"),
    "resume": Words("resume"),
    "rename": Words("rename"),
    "share": Words("share"),
    "delete": Words("delete"),
    "download": Words("download"),
}


class AccessDenied(WordedError, PermissionError):
    """The actor may not do this to this run; the message says so in words for the user (in theirs on a page:
    words.py)."""


@dataclass(frozen=True)
class Actor:
    """The person asking. `id` None is the local administrator; `teacher` may act on every run."""

    id: str | None
    teacher: bool = False
    name: str | None = None  # for display only (the provider's name claim); never used to decide

    @property
    def admin(self) -> bool:
        return self.id is None

    @property
    def manages(self) -> bool:
        """Acts on every run: the administrator or a teacher."""
        return self.admin or self.teacher


ADMIN = Actor(None)


def can_see(actor: Actor, run: Run) -> bool:
    """Whether `actor` may see `run` (its curves, probes, checkpoints' analyses): their own, a shared one, or any
    for a teacher or the administrator."""
    return actor.manages or run.shared or run.owner == actor.id


def can_act(actor: Actor, run: Run) -> bool:
    """Whether `actor` may stop, resume, rename, share, delete or download `run`: its owner, a teacher, or the
    administrator."""
    return actor.manages or (run.owner is not None and run.owner == actor.id)


def require_act(actor: Actor, run: Run, action: str) -> None:
    """AccessDenied (in words) unless `actor` may do `action` (a key of ACTIONS) to `run`."""
    if not can_act(actor, run):
        if can_see(actor, run):
            raise AccessDenied(
                "You cannot {action} another person's run: only its owner or a teacher can.", action=ACTIONS[action]
            )
        raise AccessDenied(
            "You cannot {action} a run that is not yours: only its owner or a teacher can.", action=ACTIONS[action]
        )
