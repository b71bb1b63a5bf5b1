"""The reference runs the app ships (assets/reference/, issue 12.3): the shipped weights do what the numbers
shown say, `python -m resnet_core reference` writes a valid bundle, and the pages show the reference runs
on a fresh install with an empty runs folder — labelled, hideable, beside the user's own runs — without
writing anything into the user's runs folder or into the bundle."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
import torch
from helpers import charts
from streamlit.testing.v1 import AppTest

import resnet_core as rc
import resnet_core.studies.analyses as analyses_module
from resnet_core.cli.main import main
from resnet_core.data.pixels import to_input
from resnet_core.store.run_store import RunStore
from resnet_core.studies.analyses import LESION_PARAMS, Analyses
from resnet_core.studies.reference import DEFAULT_BUNDLE, LANDSCAPE_PARAMS, PREFIX, RunView, open_reference
from resnet_core.training.checkpoints import load_checkpoint

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "pages"
BUNDLE = DEFAULT_BUNDLE


def read_only(bundle: Path) -> sqlite3.Connection:
    """The bundle's database opened read-only: the test itself must not change the shipped file."""
    db = sqlite3.connect(f"file:{bundle / 'runs.sqlite'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    return db


def fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def shipped_runs() -> list[dict]:
    db = read_only(BUNDLE)
    rows = [dict(r) for r in db.execute("SELECT * FROM runs ORDER BY seq")]
    for row in rows:
        row["epochs"] = [
            dict(e) for e in db.execute("SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch", (row["id"],))
        ]
        row["checkpoints"] = [dict(c) for c in db.execute("SELECT * FROM checkpoints WHERE run_id = ?", (row["id"],))]
    db.close()
    return rows


# ------------------------------------------------------------------------------------------ the bundle


def test_the_bundle_is_shipped_small_tracked_and_says_where_it_came_from():
    assert (BUNDLE / "runs.sqlite").is_file(), "assets/reference/ is missing: run `python -m resnet_core reference`"
    size = sum(p.stat().st_size for p in BUNDLE.rglob("*") if p.is_file())
    assert size < 8e6, f"the bundle is {size / 1e6:.1f} MB"
    assert not list(BUNDLE.glob("runs.sqlite-*")), "a -wal/-shm file: the database is not self-contained"
    prov = json.loads((BUNDLE / "provenance.json").read_text())
    for key in ("command", "git_commit", "machine", "date", "torch", "wall_seconds", "preset"):
        assert prov.get(key), key
    assert prov["command"].startswith("python -m resnet_core reference")
    runs = shipped_runs()
    assert {r["id"] for r in runs} == {e["id"] for e in prov["runs"]}
    assert all(r["id"].startswith(PREFIX) and "reference" in r["name"] and r["status"] == "completed" for r in runs)
    assert {(json.loads(r["spec"])["skip"]) for r in runs} == {True, False}  # plain and residual twins
    db = read_only(BUNDLE)  # the Why page's lesion study of every run, kept (`reference --add-lesion`)
    lesions = db.execute("SELECT run_id, params, status FROM analyses WHERE kind = 'lesion'").fetchall()
    assert sorted(row[0] for row in lesions) == sorted(r["id"] for r in runs) and prov["lesion"] == LESION_PARAMS
    assert all(json.loads(row[1]) == LESION_PARAMS and row[2] == "completed" for row in lesions)
    if (ROOT / ".git").exists():  # a fresh clone must have every file of it
        tracked = subprocess.run(
            ["git", "ls-files", "assets/reference"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        assert sorted(tracked) == sorted(str(p.relative_to(ROOT)) for p in BUNDLE.rglob("*") if p.is_file())


def test_the_shipped_runs_show_fig_6_as_the_paper_does():
    """Issue 23.5: plain-56 learns (far below chance) and still ends with a higher training error than plain-20,
    and ResNet-56 ends below ResNet-20 — the paper's Fig. 6, not "deep plain nets cannot train"."""
    final = {json.loads(r["spec"])["depth"] * (1 if json.loads(r["spec"])["skip"] else -1): r for r in shipped_runs()}
    train = {key: run["epochs"][-1]["train_error"] for key, run in final.items()}
    chance = 1 - 1 / 10
    assert train[-56] < chance / 2, f"plain-56 ended at {train[-56]:.1%}: it did not learn"
    assert train[-56] > train[-20] and train[56] < train[20], train
    assert all(run["dataset"] == "fashion-mnist" for run in final.values())


def test_each_shipped_checkpoint_gives_the_recorded_final_test_error(monkeypatch, shapes_root, fashion_files):
    """Evaluated here, from the files alone (not through the app's code): the numbers shown are what the
    weights do, on the very test images (the real Fashion-MNIST files, the run's class-balanced subset)."""
    monkeypatch.setenv("RESNET_LAB_DATA", str(shapes_root))
    for run in shipped_runs():
        spec, config = rc.NetSpec.from_dict(json.loads(run["spec"])), rc.RunConfig.from_dict(json.loads(run["config"]))
        assert len(run["epochs"]) == config.epochs and len(run["checkpoints"]) == 1
        assert run["checkpoints"][0]["epoch"] == config.epochs  # the final weights
        state, optimizer, _ = load_checkpoint(BUNDLE / run["checkpoints"][0]["path"])
        assert optimizer is None  # weights only
        net = rc.build_net(spec)
        net.load_state_dict(state)
        net.eval()
        data = rc.load_dataset(run["dataset"], **config.data_options())
        with torch.no_grad():
            predicted = torch.cat(
                [
                    net(to_input(data.test_images[i : i + 250], data.mean, data.std)).argmax(1)
                    for i in range(0, len(data.test_labels), 250)
                ]
            )
        error = (predicted != data.test_labels).float().mean().item()
        recorded = run["epochs"][-1]["test_error"]
        assert abs(error - recorded) <= 0.001, f"{run['id']}: {100 * error:.2f}% here, {100 * recorded:.2f}% recorded"


def test_the_reference_command_writes_a_valid_bundle_and_never_the_runs_folder(tmp_path, monkeypatch, shapes_root):
    runs = tmp_path / "runs"
    monkeypatch.setenv("RESNET_LAB_RUNS", str(runs))
    monkeypatch.setenv("RESNET_LAB_DATA", str(shapes_root))
    out = tmp_path / "bundle"
    assert (
        main(
            [
                "reference",
                "--out",
                str(out),
                "--depths",
                "8,14",
                "--epochs",
                "2",
                "--train-size",
                "200",
                "--test-size",
                "100",
                "--landscape-steps",
                "3",
            ]
        )
        == 0
    )
    assert not runs.exists()  # trained in a scratch store, which is gone
    assert sorted(p.name for p in out.iterdir()) == [
        "provenance.json",
        "ref-plain-14",
        "ref-plain-8",
        "ref-resnet-14",
        "ref-resnet-8",
        "runs.sqlite",
    ]
    assert sorted(p.name for p in (out / "ref-resnet-14").iterdir()) == ["epoch-0002.safetensors"]
    db = read_only(out)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["command"] == (
        "python -m resnet_core reference --depths 8,14 --epochs 2 --train-size 200 --test-size 100 --landscape-steps 3"
    )
    assert prov["landscape"] == dict(LANDSCAPE_PARAMS, steps=3) and prov["wall_seconds"] > 0
    assert prov["lesion"] == LESION_PARAMS
    assert {e["weights"] for e in prov["runs"]} <= {"fp16", "fp32"}
    store = open_reference(out, tmp_path / "cache")
    listed = store.list()
    assert [r.id for r in listed] == ["ref-plain-8", "ref-resnet-8", "ref-plain-14", "ref-resnet-14"]
    for run in listed:
        assert run.status == "completed" and run.config.experiment == "reference" and run.config.data_dir is None
        assert [e["epoch"] for e in store.epochs(run.id)] == [1, 2]
        assert len(store.steps(run.id)["step"]) > 0
        assert store.probe(run.id, "grad_norms")[2].size and store.probe(run.id, "responses")[2].shape[0] == 2
        state, _, meta = store.load_checkpoint(run.id)
        assert meta["epoch"] == 2
        entry = next(e for e in prov["runs"] if e["id"] == run.id)
        dtypes = {v.dtype for v in state.values() if v.is_floating_point()}
        assert dtypes == {torch.float16 if entry["weights"] == "fp16" else torch.float32}
        landscape = Analyses(store).find(run.id, "landscape", prov["landscape"])
        assert landscape.status == "completed" and len(landscape.result["loss"]) == 3
        held = Analyses(store).find(run.id, "lesion", LESION_PARAMS)
        assert held.status == "completed" and held.result["single"]["intact"]["error"] == pytest.approx(
            100 * entry["test_error_of_shipped_weights"]
        )  # its 100 test images: the whole test set here
    assert fingerprint(out) == fingerprint(out)  # (opening it copied it: the bundle's files are as written)
    assert not list(out.glob("runs.sqlite-*"))


def test_the_reference_command_refuses_the_runs_folder_as_its_output(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RESNET_LAB_RUNS", str(tmp_path / "runs"))
    assert main(["reference", "--out", str(tmp_path / "runs"), "--depths", "8,14", "--epochs", "1"]) == 2
    assert "runs folder" in capsys.readouterr().err and not (tmp_path / "runs").exists()


def test_a_view_routes_each_run_to_its_store_and_hiding_leaves_the_users(tmp_path):
    store = open_reference(BUNDLE, tmp_path / "cache")
    user = RunStore(tmp_path / "runs")
    mine = user.create(rc.NetSpec(depth=8), rc.TrainConfig(epochs=1), status="completed")
    user.add_epoch(mine, {"epoch": 1, "step": 3, "train_error": 0.5, "test_error": 0.6})
    view = RunView(user, store)
    ids = [r.id for r in view.list()]
    assert ids[-1] == mine and all(i.startswith(PREFIX) for i in ids[:-1])
    assert view.epochs(mine)[0]["test_error"] == 0.6 and view.store_of(ids[0]) is store
    assert view.epochs(ids[0]) == store.epochs(ids[0])
    assert [r.id for r in RunView(user).list()] == [mine]


# ------------------------------------------------------------------------------------------ the pages


@pytest.fixture
def fresh_install(tmp_path, monkeypatch, shapes_root):
    """An empty runs folder (not even created), the shipped bundle on, a cache of its own."""
    runs = tmp_path / "runs"
    monkeypatch.setenv("RESNET_LAB_RUNS", str(runs))
    monkeypatch.setenv("RESNET_LAB_DATA", str(shapes_root))
    monkeypatch.setenv("RESNET_LAB_REFERENCE", str(BUNDLE))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    from ui.reference import _reference_for

    _reference_for.clear()  # a copy opened by another test's cache
    before = fingerprint(BUNDLE)
    yield runs
    from ui.runs import release_runner

    release_runner(str(runs.resolve()))
    _reference_for.clear()
    assert fingerprint(BUNDLE) == before, "the shipped bundle was changed"


def assert_untouched(runs: Path) -> None:
    """The user's runs folder holds only the empty run store every page opens (the Train page's runner):
    no reference run, checkpoint or analysis was written into it."""
    assert {p.name for p in runs.iterdir()} <= {"runs.sqlite", "runs.sqlite-wal", "runs.sqlite-shm"}
    store = RunStore(runs)
    assert store.list() == []
    db = store._connect()
    for table in ("steps", "epochs", "probes", "checkpoints"):
        assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
    if db.execute("SELECT name FROM sqlite_master WHERE name = 'analyses'").fetchall():
        assert db.execute("SELECT COUNT(*) FROM analyses").fetchone()[0] == 0


def figures(at: AppTest) -> list[dict]:
    return [c.figure for c in charts(at)]


def labelled_reference(at: AppTest) -> bool:
    """The badge and the caption naming where the reference runs came from."""
    return any("reference" in m.value and "badge" in m.value for m in at.markdown) and any(
        "python -m resnet_core reference" in c.value for c in at.caption
    )


def page(name: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=600)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def test_degradation_shows_the_reference_experiment_on_a_fresh_install_and_hides_it(fresh_install):
    at = page("degradation")
    assert at.selectbox(key="deg.exp").value == "reference"
    assert labelled_reference(at)
    plain, residual, final = figures(at)  # Fig. 6's two halves, then the final errors by depth
    traces = plain["data"] + residual["data"]
    names = " ".join(t.get("name") or "" for t in traces)
    nets = [rc.NetSpec.from_dict(json.loads(r["spec"])) for r in shipped_runs()]
    assert all(net.name in names for net in nets)
    assert all(len(t.get("x", [])) > 0 for t in traces if t.get("name"))  # real curves
    table = at.table[0].value
    assert table.notna().all().all() and list(table["depth"]) == sorted({net.depth for net in nets})
    assert len(at.success) + len(at.warning) >= 2  # the verdict on the reference runs
    at.sidebar.toggle(key="reference.toggle.degradation").set_value(False).run()
    assert not at.exception
    assert "No experiment yet" in at.info[0].value and not figures(at)
    at.sidebar.toggle(key="reference.toggle.degradation").set_value(True).run()
    assert at.selectbox(key="deg.exp").value == "reference"
    assert_untouched(fresh_install)


def test_responses_and_gradients_show_reference_runs_labelled(fresh_install):
    at = page("responses")
    assert labelled_reference(at)
    (fig,) = figures(at)
    traces = [t for t in fig["data"] if t.get("y")]
    assert traces and all("reference" in t["name"] for t in traces)
    at.sidebar.toggle(key="reference.toggle.responses").set_value(False).run()
    assert "No run has finished an epoch yet" in at.info[0].value and not figures(at)
    assert at.session_state["reference.show"] is False  # kept for the session's other pages (browser test)

    at = page("gradients", tab="training")
    assert at.selectbox(key="grad.run").value.startswith(PREFIX)
    assert at.selectbox(key=f"grad.compare.{at.selectbox(key='grad.run').value}").value.startswith(PREFIX)
    assert labelled_reference(at)
    titles = [c["layout"]["title"]["text"] for c in figures(at)]
    assert sum("reference" in t for t in titles) == 2  # the two runs' heatmaps
    assert_untouched(fresh_install)


def test_explain_shows_a_reference_net_with_its_recorded_error(fresh_install):
    at = page("explain")
    chosen = at.selectbox(key="explain.model").value
    assert chosen.startswith(PREFIX) and labelled_reference(at)
    run = next(r for r in shipped_runs() if r["id"] == chosen)
    assert any(f"final test error **{100 * run['epochs'][-1]['test_error']:.1f}%**" in m.value for m in at.markdown)
    keys = [c.id for c in charts(at)]
    assert any("explain.maps" in k for k in keys) and sum("explain.top5" in k for k in keys) == 2  # with its twin
    assert_untouched(fresh_install)


def test_why_shows_the_reference_twins_with_their_precomputed_landscape_and_lesion(fresh_install, monkeypatch):
    def computed_here(*args, **kwargs):
        raise AssertionError("the page computed a lesion study the bundle keeps")

    monkeypatch.setattr(analyses_module, "lesion_study", computed_here)  # the page imports it when it runs
    at = page("why")
    assert at.selectbox(key="why.pair").value.startswith(PREFIX) and labelled_reference(at)
    pairs = at.selectbox(key="why.pair").options
    assert "ResNet-20" in pairs[0] and "ResNet-56" in pairs[-1]  # the quicker lesion study first
    assert "Test error after deleting one block" in [c["layout"]["title"]["text"] for c in figures(at)]
    at.segmented_control(key="why.tab").set_value("landscape").run()  # one experiment at a time
    if at.select_slider(key="why.steps").value != LANDSCAPE_PARAMS["steps"]:  # a GPU's default is finer
        at.select_slider(key="why.steps").set_value(LANDSCAPE_PARAMS["steps"]).run()
    titles = [c["layout"]["title"]["text"] for c in figures(at)]
    assert "Loss around the trained weights (log₁₀ of the mean cross-entropy)" in titles  # shown, not computed
    assert not [b for b in at.button if b.key == "why.landscape.start"]
    assert_untouched(fresh_install)


def test_the_users_runs_appear_beside_the_reference_runs(fresh_install, shapes_root):
    store = RunStore(fresh_install)
    config = rc.RunConfig(
        rc.TrainConfig(epochs=1, batch_size=100, device="cpu"), train_size=200, test_size=100, data_dir=str(shapes_root)
    )
    from resnet_core.execution.worker import execute_run

    run_id = store.create(rc.NetSpec(depth=8), config, name="my ResNet-8")
    assert execute_run(store, run_id) == "completed"
    at = page("responses")
    options = at.multiselect(key="resp.runs").options
    assert any("my ResNet-8" in o for o in options) and any("reference" in o for o in options)
    at = page("explain")
    picker = at.selectbox(key="explain.model")
    # The user's run is offered; a lone run has no twin, so the page opens on the informative reference pair
    # (issue 22.4: the reference runs until the user has a pair that learned) and says so.
    assert any("my ResNet-8" in o for o in picker.options) and picker.value.startswith("ref-")
    assert [r.id for r in store.list()] == [run_id]  # and no reference run went into the user's store
