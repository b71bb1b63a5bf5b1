"""The Train page's class-mode parts: each person's place in the fair queue with an estimate of when their run
starts, the share switch, and the teacher's panel (the queue of everyone, clearing a student's queue, the cap).
Every action goes through execution/access.RunAccess, which checks it; these only draw."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from resnet_core.execution.access import RunAccess
from resnet_core.execution.estimates import estimate
from resnet_core.execution.queue import start_times
from resnet_core.presentation.describe import describe_duration
from resnet_core.presentation.i18n import _
from resnet_core.presentation.reports import owner_label, planned_steps
from resnet_core.presentation.text import markdown_text
from resnet_core.store.run_store import Run
from ui.actions import act


def expected_seconds(run: Run, rates: list[tuple[int, float]], macs_of: Callable) -> float | None:
    """How long `run` trains here (estimates.py), or what is left of it while it trains."""
    steps = planned_steps(run)
    if not steps:
        return None
    p = run.progress
    if run.status == "running" and p.get("images_per_second") and p.get("total_steps"):
        return max(0.0, (p["total_steps"] - p.get("step", 0)) * run.config.batch_size / p["images_per_second"])
    found = estimate(macs_of(run.spec), steps * run.config.batch_size, 1, rates)
    return found.seconds if found else None


def queue_places(
    access: RunAccess, rates: list[tuple[int, float]], macs_of: Callable
) -> dict[str, tuple[int, float | None]]:
    """Each queued run's (place in line from 1, seconds until it should start or None): the fair queue's order
    (queue.fair_order), and list scheduling over the runs training now (queue.start_times)."""
    order = access.queue()
    running = access.runner.store.list(["running"])
    ahead = [expected_seconds(r, rates, macs_of) for r in order]
    left = [expected_seconds(r, rates, macs_of) for r in running]
    known = all(s is not None for s in ahead + left)
    starts = start_times([s or 0.0 for s in ahead], [s or 0.0 for s in left], access.max_parallel or 1)
    return {r.id: (i + 1, starts[i] if known else None) for i, r in enumerate(order)}


def place_words(place: tuple[int, float | None], total: int) -> str:
    """ "3rd of 7 in line · starts in about 4 min" — a guide, as every estimate here."""
    n, seconds = place
    if seconds is None:
        return _("place {n} of {total} in line").format(n=n, total=total)
    return _("place {n} of {total} in line · starts in {when}").format(
        n=n, total=total, when=describe_duration(seconds)
    )


def room_caption(access: RunAccess) -> None:
    """How many more runs the student may queue (nothing for a teacher or the administrator)."""
    room = access.room()
    if room is not None:
        st.caption(
            _("You can queue {room} more of your {cap} places (runs waiting or training).").format(
                room=room, cap=access.queue_cap()
            )
        )


def submit_checked(access: RunAccess, count: int) -> bool:
    """Whether `count` runs fit the student's cap; if not, says why (the page then queues nothing)."""
    return act(lambda: access.check_room(count))


def resume_checked(access: RunAccess, run_id: str) -> bool:
    """Resume a run (queued again) unless it is refused (past the student's cap, gone meanwhile), which is then
    said."""
    return act(lambda: access.resume(run_id))


def share_switch(access: RunAccess, run: Run, key: str) -> None:
    """Share a run with the class (read-only) or keep it private: its owner's (or a teacher's) switch."""
    shared = st.toggle(
        _("Shared with the class (read-only)"),
        value=run.shared,
        key=f"{key}.{run.id}.{run.shared}",  # a new widget when it changes elsewhere: it shows the stored value
        help=_("Others see its curves and probes; only you and the teachers can stop, rename, delete or download it."),
    )
    if shared != run.shared and act(lambda: access.share(run.id, shared)):
        st.rerun()


def teacher_panel(access: RunAccess, places: dict[str, tuple[int, float | None]]) -> None:
    """The whole queue with each run's owner, a student's queue cleared, the students' cap set."""
    if not access.actor.teacher:
        return
    with st.expander(_("Teacher: the queue, the caps")):
        order = access.queue()
        if order:
            st.dataframe(
                [
                    {
                        _("place"): places.get(r.id, (0, None))[0],
                        _("owner"): owner_label(r),
                        _("name"): r.name,
                        _("id"): r.id,
                    }
                    for r in order
                ],
                hide_index=True,
                width="stretch",
            )
        else:
            st.caption(_("Nobody's run is waiting."))
        owners = sorted({r.owner for r in order if r.owner is not None})
        cols = st.columns([2, 1])
        student = cols[0].selectbox(_("Student"), owners, key="class.student", placeholder="—")
        if cols[1].button(_("Clear their queue"), key="class.clear", disabled=student is None) and student:
            stopped: list[str] = []
            if act(lambda: stopped.extend(access.clear_queue(student))):
                st.toast(
                    _("Stopped {count} waiting runs of {student}").format(
                        count=len(stopped), student=markdown_text(student)
                    )
                )
                st.rerun()
        cols = st.columns([2, 1])
        cap = cols[0].number_input(
            _("Runs each student may have waiting or training"), 1, 100, access.queue_cap(), key="class.cap"
        )
        if cols[1].button(_("Set the cap"), key="class.setcap") and act(lambda: access.set_queue_cap(int(cap))):
            st.toast(_("Each student may now have {cap} runs waiting or training").format(cap=int(cap)))
