"""Every table of a run store's database (`runs.sqlite`), in one place: the runs, their metrics, probes and
checkpoints (RunStore), and the background analyses of runs (studies/analyses.py). `RunStore` creates them
all when it opens a database, and adds the columns that later versions brought (ADDED_COLUMNS)."""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,   -- queue order
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,                      -- JSON of NetSpec
    config TEXT NOT NULL,                    -- JSON of the training config
    dataset TEXT NOT NULL,
    device TEXT,
    status TEXT NOT NULL,                    -- store/status.py: RunStatus, and the moves between them
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    error TEXT,
    pid INTEGER,                             -- the process training it while running
    pid_started INTEGER,                     -- that process's start time (tells a reused pid apart)
    progress TEXT,                           -- JSON: epoch, step, total_steps, images_per_second
    stop_requested INTEGER NOT NULL DEFAULT 0,
    executor TEXT,                           -- where it trains: "local" or "ray" (NULL: not started yet,
    node TEXT,                               --   or recorded by an older version); node: its host
    owner TEXT,                              -- who started it (the login's email or subject); NULL: the local
                                             --   administrator (the CLI, the app without a login, older stores)
    shared INTEGER NOT NULL DEFAULT 0        -- 1: its owner shows it to the class (read-only)
);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL, step INTEGER NOT NULL, epoch REAL, loss REAL, error REAL, lr REAL,
    images_per_second REAL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL, epoch INTEGER NOT NULL, step INTEGER, train_loss REAL, train_error REAL,
    test_loss REAL, test_error REAL, seconds REAL, images_per_second REAL,
    PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS probes (            -- per-layer values as float32 blobs
    run_id TEXT NOT NULL, kind TEXT NOT NULL, position INTEGER NOT NULL, vals BLOB NOT NULL,
    PRIMARY KEY (run_id, kind, position)        -- kind 'grad_norms': position = step; 'responses': epoch
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS probe_layers (
    run_id TEXT NOT NULL, kind TEXT NOT NULL, names TEXT NOT NULL,
    PRIMARY KEY (run_id, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
    run_id TEXT NOT NULL, epoch INTEGER NOT NULL, step INTEGER NOT NULL, path TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS settings (        -- the server's settings a teacher changes in the app (caps)
    key TEXT PRIMARY KEY, value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS analyses (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,                    -- JSON, keys sorted: the same request finds the same row
    status TEXT NOT NULL,                    -- RunStatus but diverged (ANALYSIS_STATUSES)
    progress REAL NOT NULL DEFAULT 0,        -- fraction done, 0..1
    result TEXT,                             -- JSON, once completed (or the rows done when stopped)
    error TEXT,
    pid INTEGER,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
"""

STEP_FIELDS = ("step", "epoch", "loss", "error", "lr", "images_per_second")
EPOCH_FIELDS = ("epoch", "step", "train_loss", "train_error", "test_loss", "test_error", "seconds", "images_per_second")
# Columns added after the first release: (table, name, type); old stores get them on first open.
# `owner` and `shared` came with the class mode (store/access.py): an older store's runs get NULL (the local
# administrator's) and 0 (private), so they stay what they were, the runs of the machine's one user.
ADDED_COLUMNS = (
    ("runs", "pid_started", "INTEGER"),
    ("runs", "executor", "TEXT"),
    ("runs", "node", "TEXT"),
    ("runs", "owner", "TEXT"),
    ("runs", "shared", "INTEGER NOT NULL DEFAULT 0"),
)


def create_tables(conn: sqlite3.Connection) -> None:
    """Every table (if missing), and the columns an earlier version's store lacks; once per connection."""
    conn.executescript(SCHEMA)
    for table, column, kind in ADDED_COLUMNS:
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            try:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            except sqlite3.OperationalError as err:  # another process added it just now
                if "duplicate column" not in str(err):
                    raise
