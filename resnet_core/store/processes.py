"""Whether the process that trains a run (or computes an analysis) still runs: one reading of
`/proc/<pid>/stat` for its state, parent and start time, and the checks built on it.

A pid alone does not name a process: pids get reused. The store keeps each worker's pid with its start time
(clock ticks since boot, field 22 of /proc/<pid>/stat), so a reused pid is not taken for the worker."""

from __future__ import annotations

import os
from pathlib import Path

_HAVE_PROC = Path("/proc/self/stat").exists()  # Linux; elsewhere the pid alone decides


def _stat(pid: int | None) -> list[str] | None:
    """The fields of /proc/<pid>/stat from field 3 (state) on, or None (no such process, no /proc)."""
    if pid is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()  # after "pid (comm)": comm may hold spaces and parentheses


def process_start(pid: int | None) -> int | None:
    """When process `pid` started (clock ticks since boot: /proc/<pid>/stat field 22), or None where that
    cannot be read (no such process, no /proc). With the pid, it names one process."""
    fields = _stat(pid)
    if fields is None:
        return None
    try:
        return int(fields[19])  # field 22 (fields[0] is field 3)
    except (IndexError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process `pid` exists and has not exited (a zombie, exited but not yet reaped, has)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not _HAVE_PROC:
        return True
    fields = _stat(pid)
    return fields is not None and fields[:1] != ["Z"]  # unreadable now: it ended since the kill(0)


def process_alive(pid: int, started: int | None) -> bool:
    """Whether the process that had `pid` and start time `started` still runs (a pid reused by a newer
    process does not count; where start times are unknown, the pid alone decides)."""
    if not pid_alive(pid):
        return False
    now = process_start(pid)
    return started is None or now is None or now == started


def our_zombie(pid: int) -> bool:
    """A child of this process that has exited but is not reaped yet: our JobRunner reaps it within a
    poll and records how it ended (its exit code says more than "gone")."""
    fields = _stat(pid)
    # fields 3 (state) and 4 (ppid)
    return fields is not None and len(fields) > 1 and fields[0] == "Z" and fields[1] == str(os.getpid())


def children(parent: int | None = None) -> list[tuple[int, list[str]]]:
    """The live processes whose parent is `parent` (this process by default), each as (pid, its command line's
    arguments); empty without /proc."""
    parent = os.getpid() if parent is None else parent
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat") if _HAVE_PROC else ():
        pid = int(stat.parent.name)
        fields = _stat(pid)
        if fields is None or len(fields) < 2 or fields[1] != str(parent) or fields[0] == "Z":
            continue  # ended meanwhile, another's child, or exited
        try:
            argv = (stat.parent / "cmdline").read_bytes().decode(errors="replace").rstrip("\0").split("\0")
        except OSError:
            continue
        found.append((pid, argv))
    return found
