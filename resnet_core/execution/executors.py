"""Where the JobRunner's runs train: its executors.

    local  worker processes on this machine (`python -m resnet_core.execution.worker ROOT RUN_ID`), the default;
           the JobRunner spawns and reaps them itself (jobs.py)
    ray    Ray tasks on a cluster (ray_executor.RayExecutor): their events come back to this process, which
           alone writes the store; no process on another node touches the SQLite file

Which one: `JobRunner(root, executor="ray")` (or an executor object), else env RESNET_LAB_EXECUTOR ("local"
or "ray"), else "ray" when RAY_ADDRESS is set (the app then sends its runs to that cluster), else "local".

A remote executor (`RemoteExecutor`) gets runs the JobRunner has claimed (status `running`, pid = the
runner's process) and records their events and their end itself; the runner asks it how many runs fit
(`capacity`), which are still going (`running`), relays stop requests it finds in the store
(`request_stop`) and records what `finished` reports for a run still `running` (the fallback when the
executor could not).
"""

from __future__ import annotations

import os
from typing import Protocol

from ..store.run_store import Run, RunStore

EXECUTORS = ("local", "ray")


class RemoteExecutor(Protocol):
    name: str

    def attach(self, store: RunStore) -> None: ...
    def capacity(self) -> int: ...
    def start(self, run: Run) -> None: ...
    def running(self) -> list[str]: ...
    def finished(self) -> list[tuple[str, str, str]]: ...
    def request_stop(self, run_id: str) -> None: ...
    def shutdown(self, kill: bool = True) -> None: ...


def default_executor() -> str:
    """env RESNET_LAB_EXECUTOR, else "ray" when RAY_ADDRESS names a cluster, else "local"."""
    name = os.environ.get("RESNET_LAB_EXECUTOR", "").strip().lower()
    if name:
        return check_executor(name)
    return "ray" if os.environ.get("RAY_ADDRESS") else "local"


def check_executor(name: str) -> str:
    if name not in EXECUTORS:
        raise ValueError(f"executor {name!r} is not valid; choose one of: {', '.join(EXECUTORS)}")
    return name


def remote_executor(name: str, **options) -> RemoteExecutor | None:
    """The executor object for `name` (None for "local": the JobRunner's own worker processes);
    `options`: RayExecutor's address, cpus_per_run, gpus_per_run."""
    if check_executor(name) == "ray":
        from .ray_executor import RayExecutor

        return RayExecutor(**options)
    return None
