"""One read interface (store/protocol.RunReader): RunStore, RunView and LiveReader serve it with the same
signatures and the same answers, so every reader typed against it takes any of the three."""

import dataclasses
import inspect
from pathlib import Path

import pytest
import torch

import resnet_core as rc
from resnet_core.store.protocol import RunReader
from resnet_core.store.reader import LiveReader
from resnet_core.store.run_store import RunStore
from resnet_core.store.view import RunView
from resnet_core.studies import reference

SPEC = rc.NetSpec(depth=8, width=4)
MEMBERS = [name for name in vars(RunReader) if not name.startswith("_")]


@pytest.fixture
def store(tmp_path):
    store = RunStore(tmp_path / "runs")
    run_id = store.create(SPEC, {"epochs": 1}, status="running")
    rows = [
        {"step": s, "epoch": s / 4, "loss": 2 - s / 10, "error": 0.5, "lr": 0.1, "images_per_second": 9}
        for s in range(4)
    ]
    store.add_steps(run_id, rows)
    store.add_epoch(run_id, {"epoch": 1, "step": 4, "train_error": 0.4, "test_error": 0.45})
    store.add_probe(run_id, "grad_norms", 3, {"conv1": 1.0, "fc": 2.0})
    torch.manual_seed(0)
    net = rc.build_net(SPEC)
    store.save_checkpoint(run_id, 1, 4, net.state_dict())
    store.set_status(run_id, "completed")
    return store


def readers(store):
    return {"RunStore": store, "RunView": RunView(store), "LiveReader": LiveReader(store, ttl=0.0)}


def test_the_protocol_names_the_reads_the_readers_use():
    assert set(MEMBERS) == {
        "root",
        "get",
        "list",
        "steps",
        "epochs",
        "probe",
        "runs_with_probe",
        "latest_checkpoint",
        "load_checkpoint",
    }


def test_each_reader_implements_the_protocol_with_its_signatures(store):
    for name, reader in readers(store).items():
        assert isinstance(reader, RunReader), name
        for member in MEMBERS:
            wanted = getattr(RunReader, member)
            if isinstance(wanted, property):
                assert isinstance(getattr(reader, member), Path), (name, member)
                continue
            params = list(inspect.signature(getattr(reader, member)).parameters.values())
            expected = list(inspect.signature(wanted).parameters.values())[1:]  # without self
            assert [(p.name, p.kind, p.default) for p in params] == [(p.name, p.kind, p.default) for p in expected], (
                name,
                member,
            )
    assert not isinstance(object(), RunReader)


def test_the_three_readers_give_the_same_answers(store):
    (run,) = store.list()
    answers = {}
    for name, reader in readers(store).items():
        names, positions, values = reader.probe(run.id, "grad_norms")
        state, _, meta = reader.load_checkpoint(run.id)
        answers[name] = (
            reader.root,
            reader.get(run.id),
            [r.id for r in reader.list(["completed"])],
            reader.list(["queued"]),
            {k: v.tolist() for k, v in reader.steps(run.id, since_step=1).items()},
            reader.epochs(run.id),
            (names, positions.tolist(), values.tolist()),
            reader.runs_with_probe("grad_norms"),
            reader.latest_checkpoint(run.id),
            (meta["epoch"], meta["step"], sorted(state)),
        )
    assert answers["RunStore"] == answers["RunView"] == answers["LiveReader"]
    assert answers["RunStore"][4]["step"] == [2.0, 3.0] and answers["RunStore"][6][0] == ["conv1", "fc"]
    torch.manual_seed(0)
    assert torch.equal(store.load_checkpoint(run.id)[0]["fc.weight"], rc.build_net(SPEC).state_dict()["fc.weight"])


def test_a_view_reads_reference_runs_from_their_own_store(store, tmp_path):
    bundle = RunStore(tmp_path / "bundle")
    (mine,) = store.list()
    theirs = reference.PREFIX + "resnet-8"
    bundle.add_run(dataclasses.replace(mine, id=theirs, name="ResNet-8 · reference"))
    bundle.add_epoch(theirs, {"epoch": 1, "train_error": 0.2, "test_error": 0.25})
    view = RunView(store, bundle)
    assert [r.id for r in view.list()] == [theirs, mine.id]
    assert view.epochs(theirs)[0]["test_error"] == 0.25 and view.epochs(mine.id)[0]["test_error"] == 0.45
    assert view.store_of(theirs) is bundle and view.store_of(mine) is store
    assert reference.RunView is RunView and reference.is_reference(theirs) and not reference.is_reference(mine)
    assert len(view.steps(theirs)["loss"]) == 0 and len(view.steps(mine.id)["loss"]) == 4
