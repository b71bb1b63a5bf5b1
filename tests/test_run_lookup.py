"""Finding a run by its id or a prefix (the CLI's `resume`/`stop`/`delete RUN`): literal prefixes only, never
an empty one, never a guess; deleting a run removes files inside the runs folder only."""

import subprocess
import sys
from pathlib import Path

import pytest

import resnet_core as rc
from resnet_core.store.run_store import RunStore

ROOT = Path(__file__).resolve().parent.parent
SPEC = rc.NetSpec(depth=8, width=4)


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "runs")


def test_prefixes_are_literal_and_never_empty(store):
    run_id = store.create(SPEC, {}, status="completed")
    assert store.find(run_id).id == run_id and store.find(run_id[:10]).id == run_id
    for pattern in ("", "  ", "%", "%" + run_id[-4:], "_" * len(run_id), run_id[:4] + "%"):
        with pytest.raises(KeyError):
            store.find(pattern)


def test_an_ambiguous_prefix_names_the_runs_it_matches(store):
    first, second = store.create(SPEC, {}), store.create(SPEC, {})
    common = next(i for i in range(len(first)) if first[i] != second[i])
    with pytest.raises(KeyError, match="matches 2 runs") as err:
        store.find(first[:common])
    assert first in str(err.value) and second in str(err.value)


def test_delete_removes_nothing_outside_the_runs_folder(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    db = store._connect()
    for bad in ("../outside", "", "."):  # ids a tampered store might hold
        db.execute(
            "INSERT INTO runs (id, name, spec, config, dataset, status, created_at, updated_at) "
            "VALUES (?, 'x', ?, '{}', 'shapes', 'completed', 0, 0)",
            (bad, '{"depth": 8}'),
        )
        store.delete(bad)
    assert (outside / "precious.txt").read_text() == "keep me"
    assert store.db_path.exists()
    kept = store.create(SPEC, {}, status="completed")
    store.run_dir(kept).mkdir()
    store.delete(kept)
    assert not store.run_dir(kept).exists()


@pytest.mark.parametrize("pattern", ["", "%", "%TAIL"])
def test_cli_delete_refuses_empty_and_wildcard_prefixes(store, pattern):
    run_id = store.create(SPEC, {}, status="completed")
    pattern = pattern.replace("TAIL", run_id[-5:])
    proc = subprocess.run(
        [sys.executable, "-m", "resnet_core", "delete", pattern, "--runs-dir", str(store.root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert [r.id for r in store.list()] == [run_id]
