"""`RunStore`: every run, its metrics, probes and checkpoints — the only channel between the UI and
training (ARCHITECTURE.md, "How data flows").

SQLite in WAL mode (readers never block the writer), a busy timeout, `BEGIN IMMEDIATE` for short write
transactions, and one connection per thread and process. Checkpoints are safetensors files next to the
database, written atomically. A page refresh, a second tab or a server restart loses nothing written.
The tables are in schema.py; the statuses and the moves between them (which `set_status` enforces) in
status.py; whether a run's process still runs, processes.py.
"""

from __future__ import annotations

import builtins
import functools
import json
import logging
import os
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..model.spec import NetSpec
from ..training.config import TrainConfig
from ..words import WordedError, Words
from .config import RunConfig
from .processes import our_zombie, pid_alive, process_alive, process_start
from .schema import EPOCH_FIELDS, SCHEMA, STEP_FIELDS, create_tables
from .status import ACTIVE, RESUMABLE, STATUSES, check_status, check_transition

# Names whose home is now schema.py, processes.py or status.py stay importable from here (tests, scripts).
__all__ = [
    "ACTIVE",
    "EPOCH_FIELDS",
    "GONE",
    "RESUMABLE",
    "SCHEMA",
    "STATUSES",
    "STEP_FIELDS",
    "Run",
    "RunStore",
    "StoreCorrupt",
    "move_aside",
    "pid_alive",
    "process_alive",
    "process_start",
    "runs_dir",
]

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

# The message of a run found `running` with its process gone (JobRunner refines it for its own workers).
GONE = "the process training this run ended unexpectedly"

# Deleting a queued or running run is refused (`RunStore.delete`): one sentence per active status, so that the
# status is translated with the sentence around it (the status names stay English in the store and the CLI).
STILL_ACTIVE = {
    "queued": Words("run {run_id} is queued: stop it before deleting it"),
    "running": Words("run {run_id} is running: stop it before deleting it"),
}


class RunActive(WordedError, ValueError):
    """A queued or running run cannot be deleted: its worker would go on writing for a run that no longer
    exists. The message says to stop it first (in the reader's language on a page: words.py)."""


class StoreCorrupt(RuntimeError):
    """The SQLite file of a run store is damaged (a header overwritten, pages garbled). Nothing was changed;
    `move_aside` keeps the file under another name so that a new, empty store can start."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path, self.detail = Path(path), detail
        super().__init__(f"the run store {self.path} is damaged ({detail})")


def move_aside(db_path: str | os.PathLike) -> Path:
    """Rename a damaged store's database (and its -wal, -shm files) to `runs.sqlite.damaged-<time>`, so
    that the next RunStore starts an empty one. Nothing is deleted: run folders and checkpoints stay.
    Returns the database's new name."""
    db_path = Path(db_path)
    kept = db_path.with_name(f"{db_path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{db_path}{suffix}").exists():
            os.replace(f"{db_path}{suffix}", f"{kept}{suffix}")
    log.warning("moved the damaged run store %s aside to %s", db_path, kept)
    return kept


def runs_dir(path: str | os.PathLike | None = None) -> Path:
    """The argument, else env RESNET_LAB_RUNS, else ./runs."""
    return Path(path or os.environ.get("RESNET_LAB_RUNS") or "runs")


@dataclass(frozen=True)
class Run:
    id: str
    name: str
    spec: NetSpec
    config: RunConfig
    dataset: str
    device: str | None
    status: str
    created_at: float
    updated_at: float
    error: str | None = None
    pid: int | None = None
    progress: dict = field(default_factory=dict)
    stop_requested: bool = False
    executor: str | None = None  # "local" or "ray" once it started (runs/executors.py)
    node: str | None = None  # the host it trains on (Ray: "host (ip)")
    owner: str | None = None  # who started it in the app's class mode; None: the local administrator
    shared: bool = False  # its owner shows it to the class, read-only (store/access.py)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def resumable(self) -> bool:
        return self.status in RESUMABLE

    def require_resumable(self) -> None:
        """ValueError, in words for the user, unless the run can resume."""
        if not self.resumable:
            raise ValueError(f"run {self.id} is {self.status}; only {' or '.join(RESUMABLE)} runs can resume")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "spec": self.spec.to_dict(),
            "config": self.config.to_dict(),
            "dataset": self.dataset,
            "device": self.device,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "error": self.error,
            "executor": self.executor,
            "node": self.node,
            "owner": self.owner,
            "shared": self.shared,
        }


class RunStore:
    """Runs under one folder: `runs.sqlite` and `<run id>/epoch-NNNN.safetensors` checkpoints."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.root = runs_dir(path)
        self.root.mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "runs.sqlite"
        self._local = threading.local()
        self._connect()  # creates the schema

    # --- connections ------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        """One connection per thread and per process (a forked child must not reuse its parent's)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None, check_same_thread=True)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # safe in WAL mode; durable at checkpoints
        create_tables(conn)
        conn.row_factory = sqlite3.Row
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction, taking the write lock up front so it never deadlocks on upgrade."""
        db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def check(self) -> None:
        """StoreCorrupt unless SQLite's quick check finds the file whole. It reads every page, so a runner
        does it once when it starts; queries that meet a damaged page raise StoreCorrupt anyway."""
        problems = [r[0] for r in self._connect().execute("PRAGMA quick_check(5)").fetchall()]
        if problems != ["ok"]:
            raise StoreCorrupt(self.db_path, "; ".join(problems))

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None

    # --- runs -------------------------------------------------------------------------------------
    def create(
        self,
        spec: NetSpec,
        config: RunConfig | TrainConfig | dict,
        dataset: str = "shapes",
        name: str | None = None,
        device: str | None = None,
        status: str = "queued",
        owner: str | None = None,
    ) -> str:
        """A new run (queued unless told otherwise); returns its id. `config` may be a RunConfig, a bare
        TrainConfig or the stored dict form (ValueError for unknown keys or invalid values). `owner`: who
        started it (store/access.py); None is the local administrator (the CLI, the app without a login)."""
        check_status(status)
        config = RunConfig.of(config)
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
        now = time.time()
        pid = os.getpid() if status == "running" else None  # created running: this process trains it (CLI)
        run = Run(
            run_id,
            name or f"{spec.name} · {dataset}",
            spec,
            config,
            dataset,
            device,
            status,
            now,
            now,
            pid=pid,
            owner=owner,
        )
        with self._write() as db:
            _insert(db, run)
        return run_id

    def add_run(self, run: Run) -> None:
        """Keep `run` as it is: its id, name, status and times (a copy of a finished run, such as the reference
        bundle's; its id must be new here). Its pid is not kept: no process of this store trains it."""
        check_status(run.status)
        with self._write() as db:
            _insert(db, replace(run, pid=None))

    def get(self, run_id: str) -> Run:
        row = self._connect().execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no run {run_id!r} in {self.root}")
        return _run_from_row(self._settle([row])[0])

    def find(self, prefix: str) -> Run:
        """A run by its id or a unique prefix of it (for the command line). The prefix is literal text
        (no LIKE: `%` or `_` would match any id) and never empty (it would match every run)."""
        prefix = prefix.strip()
        if not prefix:
            raise KeyError("give a run id (or the start of one); see `python -m resnet_core runs`")
        rows = (
            self._connect()
            .execute("SELECT * FROM runs WHERE substr(id, 1, ?) = ? ORDER BY seq", (len(prefix), prefix))
            .fetchall()
        )
        exact = [r for r in rows if r["id"] == prefix]
        if exact or len(rows) == 1:
            return _run_from_row(self._settle([(exact or rows)[0]])[0])
        if not rows:
            raise KeyError(f"no run {prefix!r} in {self.root}")
        shown = ", ".join(r["id"] for r in rows[:5]) + (", …" if len(rows) > 5 else "")
        raise KeyError(f"{prefix!r} matches {len(rows)} runs ({shown}); give more of the id")

    def list(self, statuses: Sequence[str] | None = None) -> list[Run]:
        """Runs in the order they were created (the queue order)."""
        sql = "SELECT * FROM runs"
        args: tuple[str, ...] = ()
        if statuses:
            sql += f" WHERE status IN ({','.join('?' * len(statuses))})"
            args = tuple(statuses)
        rows = self._settle(self._connect().execute(sql + " ORDER BY seq", args).fetchall())
        return [_run_from_row(r) for r in rows if not statuses or r["status"] in statuses]

    # Below `def list`, `list` in this class's annotations names that method: they say `builtins.list`.
    def _settle(self, rows: builtins.list[sqlite3.Row]) -> builtins.list[sqlite3.Row]:
        """The rows, with every `running` run whose process is gone marked `interrupted` first.

        A process killed outright (SIGKILL, a killed server's orphaned worker killed later) cannot write
        its own status; whoever reads the run next does, so it can resume, stop or be deleted at once."""
        lost = [
            r
            for r in rows
            if r["status"] == "running"
            and r["pid"] is not None
            and not process_alive(r["pid"], r["pid_started"])
            and not our_zombie(r["pid"])
        ]
        if not lost:
            return rows
        with self._write() as db:
            for r in lost:  # only if nothing changed meanwhile (a resumed run has a new pid)
                db.execute(
                    "UPDATE runs SET status = 'interrupted', error = ?, pid = NULL, stop_requested = 0,"
                    " updated_at = ? WHERE id = ? AND status = 'running' AND pid = ?",
                    (
                        f"{GONE} (pid {r['pid']}) — resume to continue from the last checkpoint",
                        time.time(),
                        r["id"],
                        r["pid"],
                    ),
                )
        fresh = {
            r["id"]: r
            for r in self._connect().execute(
                f"SELECT * FROM runs WHERE id IN ({','.join('?' * len(lost))})", [r["id"] for r in lost]
            )
        }
        return [fresh.get(r["id"], r) for r in rows]

    def set_status(
        self, run_id: str, status: str, error: str | None = None, pid: int | None = None, device: str | None = None
    ) -> None:
        """Move a run to `status` (store/status.py: ValueError for a move its TRANSITIONS table does not
        allow, KeyError for no such run), with its message, the process training it, its device."""
        check_status(status)
        with self._write() as db:
            row = db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise KeyError(f"no run {run_id!r}")
            check_transition(row["status"], status)
            db.execute(
                "UPDATE runs SET status = ?, error = ?, pid = ?, pid_started = ?, device = COALESCE(?, device),"
                f" updated_at = ?, stop_requested = CASE WHEN ? IN ({_sql_list(ACTIVE)}) THEN stop_requested ELSE 0"
                " END WHERE id = ?",
                (status, error, pid, process_start(pid), device, time.time(), status, run_id),
            )

    def claim(self, run_id: str, pid: int) -> bool:
        """Atomically move a queued run to running for process `pid`; False if it is no longer queued.

        Its progress says "starting" from here until the worker's first phase event: a new process imports
        torch and renders or loads the data first, 20-30 s on a busy CPU, and a resumed run's old speed no
        longer holds."""
        with self._write() as db:
            row = db.execute("SELECT progress FROM runs WHERE id = ? AND status = 'queued'", (run_id,)).fetchone()
            if row is None:
                return False
            old = json.loads(row["progress"]) if row["progress"] else {}
            progress = {k: old[k] for k in ("step", "epoch", "total_steps") if k in old} | {"phase": "starting"}
            cur = db.execute(
                "UPDATE runs SET status = 'running', pid = ?, pid_started = ?, error = NULL,"
                " progress = ?, updated_at = ? WHERE id = ? AND status = 'queued'",
                (pid, process_start(pid), json.dumps(progress), time.time(), run_id),
            )
            return cur.rowcount == 1

    def set_progress(self, run_id: str, **progress) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE runs SET progress = ?, updated_at = ? WHERE id = ?", (json.dumps(progress), time.time(), run_id)
            )

    def set_placement(self, run_id: str, executor: str, node: str | None) -> None:
        """Record where a run trains: its executor ("local", "ray") and host."""
        with self._write() as db:
            db.execute(
                "UPDATE runs SET executor = ?, node = ?, updated_at = ? WHERE id = ?",
                (executor, node, time.time(), run_id),
            )

    def request_stop(self, run_id: str) -> None:
        """Ask the worker to stop at its next step (it checkpoints and ends `stopped`); a queued run
        is simply marked stopped."""
        with self._write() as db:
            db.execute("UPDATE runs SET stop_requested = 1, updated_at = ? WHERE id = ?", (time.time(), run_id))
            db.execute("UPDATE runs SET status = 'stopped' WHERE id = ? AND status = 'queued'", (run_id,))

    def stop_requested(self, run_id: str) -> bool:
        row = self._connect().execute("SELECT stop_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
        return bool(row and row[0])

    def rename(self, run_id: str, name: str) -> None:
        name = name.strip()
        if not name:
            raise ValueError("a run's name cannot be empty")
        with self._write() as db:
            if (
                db.execute(
                    "UPDATE runs SET name = ?, updated_at = ? WHERE id = ?", (name, time.time(), run_id)
                ).rowcount
                == 0
            ):
                raise KeyError(f"no run {run_id!r}")

    def set_shared(self, run_id: str, shared: bool) -> None:
        """Show a run to the class (read-only) or keep it to its owner and the teachers."""
        with self._write() as db:
            cur = db.execute(
                "UPDATE runs SET shared = ?, updated_at = ? WHERE id = ?", (int(shared), time.time(), run_id)
            )
            if cur.rowcount == 0:
                raise KeyError(f"no run {run_id!r}")

    def setting(self, key: str) -> str | None:
        """A server setting a teacher changed in the app (the `settings` table), or None."""
        row = self._connect().execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_setting(self, key: str, value: str | None) -> None:
        """Keep a server setting (None forgets it: the configured default applies again)."""
        with self._write() as db:
            if value is None:
                db.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, value))

    def delete(self, run_id: str) -> None:
        """The run, its metrics and its checkpoint files. ValueError for a queued or running run: its worker
        would go on writing rows and checkpoints for a run that no longer exists (stop it first)."""
        row = self._connect().execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is not None and row["status"] in ACTIVE:
            refusal = STILL_ACTIVE[row["status"]]
            raise RunActive(refusal.template, run_id=run_id)
        with self._write() as db:
            for table in ("steps", "epochs", "probes", "probe_layers", "checkpoints"):
                db.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
            if db.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount == 0:
                raise KeyError(f"no run {run_id!r}")
        folder = self.run_dir(run_id)
        if _inside(folder, self.root):  # an id is only trusted as a folder name below the root
            shutil.rmtree(folder, onerror=lambda _f, path, err: log.warning("could not remove %s: %s", path, err[1]))

    def mark_interrupted(self, is_alive=None) -> builtins.list[str]:
        """Runs left `running` by a process that no longer exists become `interrupted` (at a runner's start,
        also those `running` without a pid: claimed by a server that is gone)."""
        alive = process_alive if is_alive is None else (lambda pid, started: is_alive(pid))
        rows = self._connect().execute("SELECT id, pid, pid_started FROM runs WHERE status = 'running'").fetchall()
        lost = [r["id"] for r in rows if r["pid"] is None or not alive(r["pid"], r["pid_started"])]
        for run_id in lost:
            self.set_status(run_id, "interrupted", error=f"{GONE} — resume to continue from the last checkpoint")
        return lost

    # --- metrics ----------------------------------------------------------------------------------
    def add_steps(self, run_id: str, rows: Iterable[dict]) -> None:
        values = [(run_id, *(r.get(f) for f in STEP_FIELDS)) for r in rows]
        with self._write() as db:
            db.executemany("INSERT OR REPLACE INTO steps VALUES (?, ?, ?, ?, ?, ?, ?)", values)

    def add_epoch(self, run_id: str, row: dict) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, *(row.get(f) for f in EPOCH_FIELDS)),
            )

    def steps(self, run_id: str, since_step: int = -1) -> dict[str, np.ndarray]:
        """Per-step metrics with step > since_step, as columns (a live view asks only for what is new)."""
        rows = (
            self._connect()
            .execute(
                f"SELECT {', '.join(STEP_FIELDS)} FROM steps WHERE run_id = ? AND step > ? ORDER BY step",
                (run_id, since_step),
            )
            .fetchall()
        )
        return _columns(rows, STEP_FIELDS)

    def count_steps(self, run_id: str, up_to_step: int) -> int:
        """How many step rows a run has at or before `up_to_step` (a live reader's check that the rows it
        holds were not rewritten since)."""
        return (
            self._connect()
            .execute("SELECT COUNT(*) FROM steps WHERE run_id = ? AND step <= ?", (run_id, up_to_step))
            .fetchone()[0]
        )

    def epochs(self, run_id: str) -> builtins.list[dict]:
        rows = (
            self._connect()
            .execute(f"SELECT {', '.join(EPOCH_FIELDS)} FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,))
            .fetchall()
        )
        return [dict(r) for r in rows]

    def add_probe(self, run_id: str, kind: str, position: int, values: dict[str, float]) -> None:
        """Per-layer values (gradient norms at a step, or responses at an epoch), names stored once."""
        names = json.dumps(list(values))
        blob = np.asarray(list(values.values()), dtype=np.float32).tobytes()
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO probe_layers VALUES (?, ?, ?)", (run_id, kind, names))
            db.execute("INSERT OR REPLACE INTO probes VALUES (?, ?, ?, ?)", (run_id, kind, position, blob))

    def probe(self, run_id: str, kind: str) -> tuple[builtins.list[str], np.ndarray, np.ndarray]:
        """(layer names, positions (P,), values (P, layers)) of one kind of probe."""
        db = self._connect()
        row = db.execute("SELECT names FROM probe_layers WHERE run_id = ? AND kind = ?", (run_id, kind)).fetchone()
        if row is None:
            return [], np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        names = json.loads(row[0])
        rows = db.execute(
            "SELECT position, vals FROM probes WHERE run_id = ? AND kind = ? ORDER BY position", (run_id, kind)
        ).fetchall()
        positions = np.array([r[0] for r in rows], dtype=np.int64)
        values = (
            np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            if rows
            else np.zeros((0, len(names)), dtype=np.float32)
        )
        return names, positions, values

    def runs_with_probe(self, kind: str) -> set[str]:
        """Ids of the runs that recorded at least one probe of `kind` (its layer names are stored with the first)."""
        rows = self._connect().execute("SELECT run_id FROM probe_layers WHERE kind = ?", (kind,)).fetchall()
        return {r[0] for r in rows}

    def truncate_after(self, run_id: str, step: int, epoch: int) -> None:
        """Forget what was recorded after a checkpoint, before a run resumes from it."""
        with self._write() as db:
            db.execute("DELETE FROM steps WHERE run_id = ? AND step > ?", (run_id, step))
            db.execute("DELETE FROM epochs WHERE run_id = ? AND epoch > ?", (run_id, epoch))
            db.execute("DELETE FROM probes WHERE run_id = ? AND kind = 'grad_norms' AND position > ?", (run_id, step))
            db.execute("DELETE FROM probes WHERE run_id = ? AND kind = 'responses' AND position > ?", (run_id, epoch))

    # --- background analyses of runs (the `analyses` table; studies/analyses.py computes them) -------------
    def add_analysis(self, analysis_id: str, run_id: str, kind: str, params: str) -> None:
        """A queued analysis of a run; `params` its JSON (keys sorted: the same request finds the same row)."""
        now = time.time()
        with self._write() as db:
            db.execute(
                "INSERT INTO analyses (id, run_id, kind, params, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, 'queued', ?, ?)",
                (analysis_id, run_id, kind, params, now, now),
            )

    def analysis_row(self, analysis_id: str) -> dict | None:
        row = self._connect().execute("SELECT * FROM analyses WHERE id = ?", (analysis_id,)).fetchone()
        return None if row is None else dict(row)

    def find_analysis_row(self, run_id: str, kind: str, params: str) -> dict | None:
        """The newest analysis of this run and kind with exactly these parameters (JSON), or None."""
        row = (
            self._connect()
            .execute(
                "SELECT * FROM analyses WHERE run_id = ? AND kind = ? AND params = ? ORDER BY created_at DESC LIMIT 1",
                (run_id, kind, params),
            )
            .fetchone()
        )
        return None if row is None else dict(row)

    def set_analysis_status(
        self, analysis_id: str, status: str, error: str | None, pid: int | None, result: str | None
    ) -> None:
        """Move an analysis to `status` (the runs' TRANSITIONS table; KeyError for no such analysis); `pid` and
        `result` (JSON) replace what is stored only when given."""
        check_status(status)
        with self._write() as db:
            row = db.execute("SELECT status FROM analyses WHERE id = ?", (analysis_id,)).fetchone()
            if row is None:
                raise KeyError(f"no analysis {analysis_id!r}")
            check_transition(row["status"], status, "an analysis")
            db.execute(
                "UPDATE analyses SET status = ?, error = ?, pid = COALESCE(?, pid), "
                "result = COALESCE(?, result), updated_at = ? WHERE id = ?",
                (status, error, pid, result, time.time(), analysis_id),
            )

    def set_analysis_progress(self, analysis_id: str, fraction: float) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE analyses SET progress = ?, updated_at = ? WHERE id = ?",
                (float(fraction), time.time(), analysis_id),
            )

    def request_analysis_stop(self, analysis_id: str) -> None:
        with self._write() as db:
            db.execute("UPDATE analyses SET stop_requested = 1 WHERE id = ?", (analysis_id,))
            # A queued analysis has no worker to notice: it stops at once.
            db.execute("UPDATE analyses SET status = 'stopped' WHERE id = ? AND status = 'queued'", (analysis_id,))

    def analysis_stop_requested(self, analysis_id: str) -> bool:
        row = self._connect().execute("SELECT stop_requested FROM analyses WHERE id = ?", (analysis_id,)).fetchone()
        return bool(row and row[0])

    # --- checkpoints ------------------------------------------------------------------------------
    def run_dir(self, run_id: str) -> Path:
        return self.root / run_id

    def save_checkpoint(
        self,
        run_id: str,
        epoch: int,
        step: int,
        model_state: dict[str, torch.Tensor],
        optimizer_state: dict | None = None,
        keep_last: int = 2,
    ) -> Path:
        """Write epoch `epoch`'s checkpoint atomically and keep only the newest `keep_last` files."""
        path = self.run_dir(run_id) / f"epoch-{epoch:04d}.safetensors"
        _checkpoints().save_checkpoint(
            path, model_state, optimizer_state, {"run_id": run_id, "epoch": epoch, "step": step}
        )
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?, ?)",
                (run_id, epoch, step, str(path.relative_to(self.root)), time.time()),
            )
            old = db.execute(
                "SELECT epoch, path FROM checkpoints WHERE run_id = ? ORDER BY epoch DESC LIMIT -1 OFFSET ?",
                (run_id, keep_last),
            ).fetchall()
            db.executemany("DELETE FROM checkpoints WHERE run_id = ? AND epoch = ?", [(run_id, r[0]) for r in old])
        for r in old:
            (self.root / r[1]).unlink(missing_ok=True)
        return path

    def latest_checkpoint(self, run_id: str) -> tuple[int, int, Path] | None:
        """(epoch, step, path) of the newest checkpoint, or None."""
        row = (
            self._connect()
            .execute(
                "SELECT epoch, step, path FROM checkpoints WHERE run_id = ? ORDER BY epoch DESC LIMIT 1", (run_id,)
            )
            .fetchone()
        )
        return None if row is None else (row[0], row[1], self.root / row[2])

    def load_checkpoint(self, run_id: str, epoch: int | None = None):
        """(model state_dict, optimizer state or None, meta) of the newest checkpoint that loads (a damaged
        newer one is skipped, and logged), or of a given epoch's."""
        if epoch is None:
            model, optimizer, meta, skipped = self.newest_good_checkpoint(run_id)
            for note in skipped:
                log.warning("run %s: %s; using epoch %s's", run_id, note, meta.get("epoch"))
            return model, optimizer, meta
        else:
            row = (
                self._connect()
                .execute("SELECT path FROM checkpoints WHERE run_id = ? AND epoch = ?", (run_id, epoch))
                .fetchone()
            )
            if row is None:
                raise FileNotFoundError(f"run {run_id} has no checkpoint for epoch {epoch}")
            path = self.root / row[0]
        return _checkpoints().load_checkpoint(path)

    def newest_good_checkpoint(self, run_id: str, set_aside: bool = False):
        """(model state, optimizer state or None, meta, skipped) of the newest checkpoint that loads, where
        `skipped` says which newer ones did not and why. With `set_aside`, a damaged file is renamed
        `<name>.corrupt` (kept for a look, never loaded or overwritten by the resumed run) and forgotten.
        FileNotFoundError if the run has no checkpoint; CheckpointCorrupt if none of them loads."""
        rows = (
            self._connect()
            .execute("SELECT epoch, path FROM checkpoints WHERE run_id = ? ORDER BY epoch DESC", (run_id,))
            .fetchall()
        )
        if not rows:
            raise FileNotFoundError(f"run {run_id} has no checkpoint yet")
        skipped = []
        for epoch, rel in rows:
            path = self.root / rel
            try:
                model, optimizer, meta = _checkpoints().load_checkpoint(path)
            except (_checkpoints().CheckpointCorrupt, FileNotFoundError) as err:
                log.warning("run %s: cannot load the checkpoint of epoch %s: %s", run_id, epoch, err)
                kept = path.with_name(path.name + ".corrupt")
                missing = isinstance(err, FileNotFoundError)
                if set_aside:
                    if not missing:
                        os.replace(path, kept)
                    with self._write() as db:
                        db.execute("DELETE FROM checkpoints WHERE run_id = ? AND epoch = ?", (run_id, epoch))
                damaged = f"damaged ({_short(err)})" + (f", kept as {kept.name}" if set_aside else "")
                skipped.append(f"the checkpoint of epoch {epoch} is {'missing' if missing else damaged}")
                continue
            return model, optimizer, meta, skipped
        raise _checkpoints().CheckpointCorrupt(f"run {run_id}: no checkpoint loads: " + "; ".join(skipped))


def _naming_damage(method):
    """`method`, raising StoreCorrupt (which names the file) where SQLite reports a damaged database."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as err:
            code = getattr(err, "sqlite_errorcode", 0) & 0xFF
            if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in str(err):
                raise StoreCorrupt(self.db_path, str(err)) from err
            raise

    return wrapper


# Every public method (and opening the store) names a damaged file instead of raising sqlite3's bare error.
for _name, _method in list(vars(RunStore).items()):
    if callable(_method) and (_name == "__init__" or not _name.startswith("_")):
        setattr(RunStore, _name, _naming_damage(_method))


def _checkpoints():
    """training.checkpoints, imported on first use: it loads torch, which listing runs does not need."""
    from ..training import checkpoints

    return checkpoints


def _short(err: Exception, limit: int = 160) -> str:
    text = str(err).split(": ", 1)[-1]  # without the path, which the caller names
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _inside(path: Path, root: Path) -> bool:
    """Whether `path` is a folder directly below `root` (an id such as "", "." or "../x" is not)."""
    path, root = path.resolve(), root.resolve()
    return path.parent == root and path != root


def _sql_list(values: Sequence[str]) -> str:
    """A literal SQL list of fixed status names: 'queued', 'running'."""
    return ", ".join(f"'{v}'" for v in values)


def _insert(db: sqlite3.Connection, run: Run) -> None:
    """The one INSERT of a run (RunStore.create and add_run)."""
    db.execute(
        "INSERT INTO runs (id, name, spec, config, dataset, device, status, created_at, updated_at, error, pid,"
        " pid_started, progress, executor, node, owner, shared)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run.id,
            run.name,
            json.dumps(run.spec.to_dict()),
            json.dumps(run.config.to_dict()),
            run.dataset,
            run.device,
            run.status,
            run.created_at,
            run.updated_at,
            run.error,
            run.pid,
            process_start(run.pid),
            json.dumps(run.progress) if run.progress else None,
            run.executor,
            run.node,
            run.owner,
            int(run.shared),
        ),
    )


def _run_from_row(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"],
        name=row["name"],
        spec=NetSpec.from_dict(json.loads(row["spec"])),
        config=RunConfig.from_dict(json.loads(row["config"])),
        dataset=row["dataset"],
        device=row["device"],
        status=row["status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        error=row["error"],
        pid=row["pid"],
        progress=json.loads(row["progress"]) if row["progress"] else {},
        stop_requested=bool(row["stop_requested"]),
        executor=row["executor"],
        node=row["node"],
        owner=row["owner"],
        shared=bool(row["shared"]),
    )


def _columns(rows: list, names: Sequence[str]) -> dict[str, np.ndarray]:
    if not rows:
        return {n: np.zeros(0) for n in names}
    data = np.array([tuple(r) for r in rows], dtype=np.float64)
    return {n: data[:, i] for i, n in enumerate(names)}
