"""`JobRunner`: runs train in worker processes, at most N at once, the rest queued — started round-robin over
their owners (queue.fair_order: one person's runs in the order queued; thirty people's in turn).

N (`default_parallel_runs`): four on a GPU; on a CPU one per core, at least two, so the twins of the
Train page train side by side, each worker with its share of the cores (cpu_share.ThreadShare).

Workers talk to the rest of the world only through the `RunStore`. The runner is a thin scheduler: it
starts queued runs when a slot is free, reaps finished workers, and records how each one ended when the
worker itself could not (a process killed by a signal cannot write its own obituary). The app keeps
one runner for all sessions (st.cache_resource); the CLI trains in its own process instead.

Workers are fresh interpreters (`python -m resnet_core.execution.worker ROOT RUN_ID`), not multiprocessing
children: Streamlit runs each page as `sys.modules["__main__"]`, and a multiprocessing "spawn" child would
re-execute that page script before doing any work.

The runner keeps one *standby* worker ready (`python -m resnet_core.execution.worker ROOT --standby`): started
ahead of its run, it has imported torch and warmed up (worker.warm_up) and waits for a run id on its stdin.
The next run to start goes to it, so pressing Train does not wait seconds for an interpreter to import torch
(BENCHMARKS.md, "Time to first point"); the run then looks exactly as if its worker had been started for
it (its pid, niceness, log, stop and kill handling). A new standby worker starts once the runs started since
the last one have stored their first step (at most STANDBY_AFTER_SECONDS after the last start), so its imports
do not slow their start (a fresh install's first run renders the embedded dataset first). It is not used,
and is replaced, when this process's environment or working folder changed since it started (it would train
with the old one); one that exits on its own is logged and replaced after STANDBY_RETRY_SECONDS (runs start cold
meanwhile). It ends with the runner (`shutdown`), or when this process ends (its stdin closes). It holds
~360 MB while it waits: RESNET_LAB_STANDBY=0 turns it off (a machine short of memory; the tests that run
pages in-process, whose runners live as long as pytest does — `standby_wanted`). The CLI's runners keep
none: their runs are all queued at once, and a standby's imports would compete with the runs being timed.

With the `ray` executor (executors.py: `executor="ray"`, env RESNET_LAB_EXECUTOR=ray, or RAY_ADDRESS set)
the runner hands claimed runs to a RayExecutor instead of spawning workers: Ray tasks train them on a
cluster and their events come back here, where the executor writes them to the store.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import torch

from ..model.spec import NetSpec
from ..store.config import RunConfig
from ..store.run_store import GONE, Run, RunStore
from ..store.status import ACTIVE
from ..training.train import TrainConfig
from .cpu_share import trains_here
from .executors import RemoteExecutor, default_executor, remote_executor
from .lifecycle import RESUME_HINT
from .queue import fair_order
from .worker import worker_log

log = logging.getLogger(__name__)

# Signals that mean "someone stopped this process" rather than "it crashed": the run can resume.
KILL_SIGNALS = {signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
# A new standby worker waits for the runs just started to store their first step, or this long after the last
# start: its imports (seconds of a core) would compete with their start, in the middle of a fresh install's
# rendering of the dataset (BENCHMARKS.md, "Time to first point").
STANDBY_AFTER_SECONDS = 60.0
STANDBY_RETRY_SECONDS = 60.0  # after a standby worker exited without a run (a broken install, say)


def default_parallel_runs() -> int:
    """Four runs at once on a CUDA GPU; on a CPU one per core, at least two (a pair of twins grows its
    curves side by side) and at most four. The runs on a CPU split its threads between them
    (cpu_share.ThreadShare): a pair side by side trains as fast as one after another (BENCHMARKS.md, "Twins
    side by side — CPU"), where a one-slot queue left the plain twin waiting."""
    if torch.cuda.is_available():
        return 4
    return min(4, max(2, os.cpu_count() or 1))


def worker_command(root: str, run_id: str) -> list[str]:
    return [sys.executable, "-m", "resnet_core.execution.worker", root, run_id]


def standby_wanted() -> bool:
    """Whether runners keep a standby worker by default (env RESNET_LAB_STANDBY, default on; "0" is off)."""
    return os.environ.get("RESNET_LAB_STANDBY", "1").strip() != "0"


def standby_command(root: str, prepare: str | None = None) -> list[str]:
    """A worker started before its run: it reads the run id from stdin (worker.standby). `prepare`: a
    dataset it makes ready while it waits (the app's: the embedded set, rendered on a fresh install)."""
    command = [sys.executable, "-m", "resnet_core.execution.worker", root, "--standby"]
    return command + ["--prepare", prepare] if prepare else command


class _Standby:
    """A standby worker process and the environment it was started in."""

    def __init__(self, command: list[str]) -> None:
        self.environment = _environment()
        # stderr: a pipe until it has its run (then the run's worker.log), so that a standby worker that
        # dies on its own (an import error) can be logged with its message.
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert self.proc.stdin is not None and self.proc.stderr is not None  # both pipes, as asked above
        self._stdin, self._stderr = self.proc.stdin, self.proc.stderr

    def take(self, run_id: str) -> subprocess.Popen | None:
        """Give it its run; None (and it is ended) when it cannot take one: gone, or started in another
        environment than this process has now."""
        if self.proc.poll() is not None or self.environment != _environment():
            self.end()
            return None
        try:
            self._stdin.write(f"{run_id}\n".encode())
            self._stdin.close()
        except OSError:  # it died meanwhile (a broken pipe)
            self.end()
            return None
        self._stderr.close()  # it writes to the run's worker.log from now on
        return self.proc

    def failure(self) -> str:
        """What a standby worker that exited on its own said (the end of its stderr)."""
        try:
            text = self._stderr.read().decode(errors="replace").strip()
        except (OSError, ValueError):
            text = ""
        return f"exit code {self.proc.returncode}" + (f": {text[-2000:]}" if text else "")

    def end(self) -> None:
        for pipe in (self._stdin, self._stderr):
            try:
                pipe.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.terminate()  # it has no run: nothing to record
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# The environment variables a worker reads once at its start (its data and runs folders, its threads and
# devices, where torch and Python find things). Only these count: the server's own imports set others later
# (torch's inductor sets TORCHINDUCTOR_CACHE_DIR at an optimizer's first use, matplotlib MPLBACKEND), and
# each such change would throw a ready standby worker away.
WORKER_ENVIRONMENT = (
    "RESNET_LAB_",
    "OMP_",
    "MKL_",
    "CUDA_",
    "PYTORCH_",
    "TORCH_HOME",
    "PYTHONPATH",
    "PYTHONHASHSEED",
    "RAY_",
    "HOME",
    "PATH",
    "LD_LIBRARY_PATH",
)


def _environment() -> tuple:
    """What a worker process inherits from this one and keeps from its start: the environment variables it
    reads (WORKER_ENVIRONMENT) and its working folder."""
    return {k: v for k, v in os.environ.items() if k.startswith(WORKER_ENVIRONMENT)}, os.getcwd()


class JobRunner:
    """Background training for one runs folder. Thread-safe; call `shutdown()` when done (tests)."""

    def __init__(
        self,
        root,
        max_parallel: int | None = None,
        command: Callable[[str, str], list[str]] | None = None,
        poll_seconds: float = 0.5,
        executor: str | RemoteExecutor | None = None,
        only: Callable[[Run], bool] | None = None,
        standby: Callable[[str], list[str]] | bool | None = None,
    ) -> None:
        """`executor`: "local", "ray", a RayExecutor (with its address and resources per run), or None:
        executors.default_executor(). `only`: take only the queued runs it accepts (a CLI sweep's own).
        `standby`: the command of a standby worker (it reads its run id from stdin), True for
        `standby_command`, False for none; by default `standby_command` when the workers are the default ones
        (`command` None) on this machine and `standby_wanted()`."""
        self.store = RunStore(root)
        self.root = str(self.store.root)
        if executor is None or isinstance(executor, str):
            executor = remote_executor(executor or ("local" if command else default_executor()))
        self.remote = executor  # None: this runner's own worker processes
        if self.remote is not None:
            self.remote.attach(self.store)
        self.executor = self.remote.name if self.remote is not None else "local"
        self._only = only
        # Ray: None until needed, then what the cluster fits (RayExecutor.capacity)
        self.max_parallel = max_parallel or (default_parallel_runs() if self.remote is None else None)
        self._command = command or worker_command
        if standby is None:
            standby = command is None and standby_wanted()
        if standby is True:
            standby = standby_command
        self._standby_command = standby if self.remote is None and standby else None
        self._standby: _Standby | None = None
        self._standby_after = 0.0  # time.monotonic() after which a standby worker starts whatever is starting
        self._retry_after = 0.0  # time.monotonic() before which no standby worker starts (one just failed)
        self._starting: set[str] = set()  # runs started since, without a stored step yet: no standby meanwhile
        self._poll = poll_seconds
        self._workers: dict[str, subprocess.Popen] = {}
        self._last_start: dict[str | None, float] = {}  # owner -> when this runner last started one of theirs
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self.store.check()  # a damaged store: StoreCorrupt now (the app says what to do), not a failing loop
        self.store.mark_interrupted()  # runs left `running` by a process that no longer exists
        self._thread = threading.Thread(target=self._loop, name="resnet-lab-jobs", daemon=True)
        self._thread.start()

    # --- what pages and the CLI call -------------------------------------------------------------
    def submit(
        self,
        spec: NetSpec,
        config: RunConfig | TrainConfig | dict,
        dataset: str = "shapes",
        name: str | None = None,
        owner: str | None = None,
    ) -> str:
        """Queue a run. The runner itself checks nobody: the app calls it through execution/access.RunAccess,
        which checks who may (and the caps); the CLI is the local administrator."""
        run_id = self.store.create(spec, config, dataset=dataset, name=name, owner=owner)
        self._wake.set()
        return run_id

    def queue_order(self) -> list[Run]:
        """The queued runs in the order they will start (queue.fair_order), for a page's "place in line"."""
        queued = [r for r in self.store.list(["queued"]) if self._only is None or self._only(r)]
        with self._lock:
            last = dict(self._last_start)
        return fair_order(queued, self.store.list(["running"]), last)

    def stop(self, run_id: str) -> None:
        """The worker checkpoints and ends `stopped` at its next step; a queued run stops at once."""
        self.store.request_stop(run_id)
        self._wake.set()

    def resume(self, run_id: str) -> None:
        self.store.get(run_id).require_resumable()
        self.store.set_status(run_id, "queued")
        self._wake.set()

    def standby_pid(self) -> int | None:
        """The process id of the standby worker, if one is ready for the next run (tests, benchmarks)."""
        with self._lock:
            standby = self._standby
            return standby.proc.pid if standby is not None and standby.proc.poll() is None else None

    def running(self) -> list[str]:
        remote = self.remote.running() if self.remote is not None else []
        with self._lock:
            return [rid for rid, p in self._workers.items() if p.poll() is None] + remote

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or running (for tests and scripts)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.store.list(ACTIVE) or self.running():
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def shutdown(self, kill_workers: bool = True) -> None:
        self._closed.set()
        self._wake.set()
        self._thread.join(timeout=5)
        if kill_workers:
            with self._lock:
                for p in self._workers.values():
                    if p.poll() is None:
                        p.terminate()
                for p in self._workers.values():
                    try:
                        p.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        p.kill()
            self._reap()
        with self._lock:
            standby, self._standby = self._standby, None
        if standby is not None:
            standby.end()
        if self.remote is not None:
            self.remote.shutdown(kill=kill_workers)
            self._reap_remote()

    # --- the scheduler thread --------------------------------------------------------------------
    def _loop(self) -> None:
        failing = None  # the failure last logged: a lasting one is logged once, not at every poll
        while not self._closed.is_set():
            try:
                self._reap()
                self._reap_remote()
                self._start_queued()
                self._keep_standby()
            except Exception as err:  # a locked database or a full disk must not kill the scheduler: say so, go on
                if f"{type(err).__name__}: {err}" != failing:
                    failing = f"{type(err).__name__}: {err}"
                    log.exception(
                        "the job scheduler for %s could not start or reap runs (%s); retrying every %.1f s",
                        self.root,
                        failing,
                        self._poll,
                    )
            else:
                if failing is not None:
                    log.warning("the job scheduler for %s works again (after: %s)", self.root, failing)
                    failing = None
            self._wake.wait(self._poll)
            self._wake.clear()

    def _start_queued(self) -> None:
        if self.remote is not None:
            self._start_remote(self.remote, self.queue_order())
            return
        assert self.max_parallel is not None, "a runner with its own workers always has a limit (__init__)"
        with self._lock:  # every slot busy: the queue is not read (a read made before a slot opened is stale)
            if self._free_slots() <= 0:
                return
        queued = self.queue_order()
        with self._lock:
            free = self._free_slots()
            if queued:
                free -= self._others_training_here()
            for run in queued[: max(free, 0)]:
                if not self.store.claim(run.id, pid=os.getpid()):
                    continue  # another runner took it
                self._last_start[run.owner] = time.monotonic()
                self._standby_after = time.monotonic() + STANDBY_AFTER_SECONDS
                self._starting.add(run.id)
                standby, self._standby = self._standby, None
                proc = standby.take(run.id) if standby is not None else None
                if proc is None:
                    try:
                        with open(worker_log(self.root, run.id), "ab") as out:  # the child keeps its own copy
                            proc = subprocess.Popen(
                                self._command(self.root, run.id),
                                stdout=out,
                                stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL,
                            )
                    except OSError as err:
                        log.error("could not start a worker for run %s: %s", run.id, err)
                        self.store.set_status(run.id, "failed", error=f"could not start a worker: {err}")
                        continue
                self._workers[run.id] = proc  # reaped even if the next line fails (a run already ended)
                self.store.set_status(run.id, "running", pid=proc.pid)

    def _keep_standby(self) -> None:
        """Have a standby worker ready (see the module's docstring)."""
        if self._standby_command is None or self._closed.is_set():
            return
        with self._lock:
            standby = self._standby
            if standby is not None and standby.proc.poll() is not None:
                log.warning(
                    "the standby worker for %s exited before it had a run (%s); runs start their own "
                    "worker, and a new standby worker starts in %.0f s",
                    self.root,
                    standby.failure(),
                    STANDBY_RETRY_SECONDS,
                )
                standby.end()
                standby = self._standby = None
                self._retry_after = time.monotonic() + STANDBY_RETRY_SECONDS
            elif standby is not None and standby.environment != _environment():
                standby.end()  # it would train with the old environment: a new one
                standby = self._standby = None
            now = time.monotonic()
            if standby is not None or now < self._retry_after:
                return
            self._starting = {i for i in self._starting if self._still_starting(i)}
            if self._starting and now < self._standby_after:
                return
            self._starting.clear()
            try:
                self._standby = _Standby(self._standby_command(self.root))
            except OSError as err:
                log.error("could not start a standby worker for %s: %s", self.root, err)
                self._retry_after = now + STANDBY_RETRY_SECONDS

    def _still_starting(self, run_id: str) -> bool:
        """Whether a run this runner started is still before its first stored step (its worker alive)."""
        proc = self._workers.get(run_id)
        if proc is None or proc.poll() is not None:
            return False
        return self.store.count_steps(run_id, 2**62) == 0  # (a resumed run has its earlier steps: started)

    def _free_slots(self) -> int:
        """Slots not taken by this runner's own workers (under the lock)."""
        assert self.max_parallel is not None
        return self.max_parallel - sum(p.poll() is None for p in self._workers.values())

    def _others_training_here(self) -> int:
        """Runs of this folder training on this machine in processes this runner did not start: a previous
        server's workers that outlived it (they keep training; the store has their pid and start time), a
        CLI `train`, another runner. They use the same cores, so they take this runner's slots until they end
        (a reader marks a dead one `interrupted`: RunStore.list settles it) — a restarted server never runs
        more at once than it would have itself."""
        host = socket.gethostname()
        # Every run on this machine counts, whatever its device: the slots are the machine's (a GPU's four,
        # or the CPU's cores), as this runner's own workers count whatever theirs.
        return sum(
            1 for r in self.store.list(["running"]) if r.id not in self._workers and trains_here(r, host, cpu=False)
        )

    def _start_remote(self, remote: RemoteExecutor, queued: list[Run]) -> None:
        if not queued:
            return
        failure: Exception | None
        try:
            free = (self.max_parallel or remote.capacity()) - len(remote.running())
        except Exception as err:  # Ray missing, or no cluster at RAY_ADDRESS: the runs say so, not a log loop
            log.exception("could not reach the %s executor", self.executor)
            free, failure = len(queued), err
        else:
            failure = None
        for run in queued[: max(free, 0)]:
            if not self.store.claim(run.id, pid=os.getpid()):  # this process records the run: its pid
                continue  # another runner took it
            with self._lock:
                self._last_start[run.owner] = time.monotonic()
            try:
                if failure is not None:
                    raise failure
                remote.start(run)
            except Exception as err:
                log.exception("could not start run %s on %s", run.id, self.executor)
                self.store.set_status(run.id, "failed", error=f"could not start it on {self.executor}: {err}")

    def _reap_remote(self) -> None:
        """Relay stop requests (made here or by another process) and record runs the executor lost."""
        if self.remote is None:
            return
        for run_id in self.remote.running():
            if self.store.stop_requested(run_id):
                self.remote.request_stop(run_id)
        for run_id, status, error in self.remote.finished():
            try:
                if self.store.get(run_id).status == "running":
                    self.store.set_status(run_id, status, error=error)
            except KeyError:  # deleted meanwhile
                continue

    def _reap(self) -> None:
        with self._lock:
            for run_id, proc in list(self._workers.items()):
                if proc.poll() is None:
                    continue
                del self._workers[run_id]
                try:
                    run = self.store.get(run_id)
                except KeyError:  # deleted meanwhile
                    continue
                # The worker could not say how it ended: a reader may have noticed first (store.GONE);
                # the exit code says more.
                if run.status == "running" or (run.status == "interrupted" and (run.error or "").startswith(GONE)):
                    self._record_death(run_id, proc.returncode)

    def _record_death(self, run_id: str, exitcode: int | None) -> None:
        if exitcode is not None and exitcode < 0 and -exitcode in KILL_SIGNALS:
            name = signal.Signals(-exitcode).name
            self.store.set_status(
                run_id,
                "interrupted",
                error=f"the worker was killed ({name}; out of memory?) — {RESUME_HINT}",
            )
        elif exitcode is not None and exitcode < 0:
            self.store.set_status(run_id, "failed", error=f"the worker crashed ({signal.Signals(-exitcode).name})")
        else:
            self.store.set_status(run_id, "failed", error=f"the worker exited with code {exitcode}")
