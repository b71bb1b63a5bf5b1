"""Bad state never shows a traceback: link values beyond the widgets' ranges, and a damaged run store (on the
pages and in the CLI), which is named, with a way out that keeps the damaged file."""

import logging
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_pages import run_page as page

import resnet_core as rc
from resnet_core.execution.jobs import JobRunner
from resnet_core.store.run_store import RunStore, StoreCorrupt

ROOT = Path(__file__).resolve().parent.parent
SPEC = rc.NetSpec(depth=8, width=4)


@pytest.fixture
def runs(page_runs):
    """The pages' runs folder (conftest.page_runs)."""
    return page_runs


@pytest.mark.parametrize("name", ["architecture", "train"])
def test_link_values_beyond_the_widgets_are_clamped_with_a_warning(runs, name):
    at = page(name, {"width": "100000", "num_classes": "5000", "in_channels": "99"})
    assert not at.exception, at.exception
    said = " ".join(w.value for w in at.warning)
    assert "100,000" in said and "512" in said and "16" in said
    key = "arch" if name == "architecture" else "train"
    assert at.number_input(key=f"{key}.width.cifar").value == 512
    assert at.number_input(key=f"{key}.in").value == 16
    if name == "architecture":
        assert at.number_input(key="arch.classes").value == 1000


def make_store(root: Path, runs: int = 30) -> None:
    store = RunStore(root)
    for i in range(runs):
        run_id = store.create(SPEC, {}, status="completed", name=f"run {i} " + "x" * 200)
        store.add_steps(run_id, [{"step": s, "loss": 1.0, "error": 0.5} for s in range(1, 200)])
    store._connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


def damage(db: Path, how: str) -> None:
    data = bytearray(db.read_bytes())
    if how == "header":
        data[:100] = b"\x13" * 100
    else:  # every page after the first: the schema reads, the tables do not
        page_size = int.from_bytes(data[16:18], "big")
        for start in range(page_size, len(data), page_size):
            data[start : start + 64] = b"\xff" * 64
    db.write_bytes(bytes(data))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "resnet_core", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("how", ["header", "pages"])
def test_the_cli_names_a_damaged_store_and_moves_it_aside_on_request(tmp_path, how):
    root = tmp_path / "runs"
    make_store(root)
    damage(root / "runs.sqlite", how)
    damaged = (root / "runs.sqlite").read_bytes()
    for command in (["runs"], ["runs", "--json"], ["delete", "2026"], ["train", "--depth", "8"]):
        proc = cli(*command, "--runs-dir", str(root))
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, (command, proc.stderr)
        assert str(root / "runs.sqlite") in proc.stderr and "new-store" in proc.stderr, proc.stderr
    proc = cli("new-store", "--runs-dir", str(root))
    assert proc.returncode == 0, proc.stderr
    kept = [p for p in root.iterdir() if p.name.startswith("runs.sqlite.damaged-")]
    assert [p.read_bytes() for p in kept if not p.name.endswith(("-wal", "-shm"))] == [damaged]  # lose nothing
    assert "no runs" in cli("runs", "--runs-dir", str(root)).stdout


@pytest.mark.parametrize("how", ["header", "pages"])
def test_pages_show_what_to_do_about_a_damaged_store(runs, how):
    make_store(runs)
    damage(runs / "runs.sqlite", how)
    at = page("train")
    assert not at.exception, at.exception
    said = " ".join(e.value for e in at.error)
    assert "runs.sqlite" in said and "damaged" in said
    at.button(key="store.new").click().run()
    assert not at.exception, at.exception
    assert "No runs yet" in at.info[0].value
    assert any(p.name.startswith("runs.sqlite.damaged-") for p in runs.iterdir())


def test_a_store_damaged_while_in_use_raises_store_corrupt(tmp_path):
    root = tmp_path / "runs"
    make_store(root)
    store = RunStore(root)
    damage(root / "runs.sqlite", "pages")
    with pytest.raises(StoreCorrupt, match="runs.sqlite"):
        RunStore(root).list()
    with pytest.raises(StoreCorrupt):
        store.check()


def test_the_scheduler_logs_a_lasting_failure_once_not_every_poll(tmp_path, caplog, monkeypatch):
    runner = JobRunner(tmp_path / "runs", poll_seconds=0.02)
    try:

        def locked(*args, **kwargs):
            raise sqlite3.OperationalError("database is locked")

        with caplog.at_level(logging.WARNING, logger="resnet_core.execution.jobs"):
            monkeypatch.setattr(runner.store, "list", locked)
            time.sleep(1.0)
            monkeypatch.undo()
            time.sleep(0.3)
        failures = [r for r in caplog.records if "could not" in r.getMessage()]
        assert len(failures) == 1 and "database is locked" in failures[0].getMessage() + str(failures[0].exc_info)
        assert any("again" in r.getMessage() for r in caplog.records)
    finally:
        runner.shutdown()
