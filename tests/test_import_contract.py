"""The import contract of ARCHITECTURE.md ("Layers"): a lower layer never imports a higher one.

Read from the source with `ast` (no import is executed), so a function-level import counts as much as a
top-level one: a lazy import still ties the lower layer to the higher.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# resnet_core's packages, lowest first; a package may import its own layer and any lower one.
# (model and data share a layer: neither imports the other.)
LAYERS = [
    {"atomic", "words"},
    {"model", "data"},
    {"analysis"},
    {"training"},
    {"store"},
    {"execution"},
    {"studies"},
    {"presentation"},
    {"bench"},
    {"cli"},
    {"__main__", "__init__"},
]
RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}
APP = {"streamlit", "ui", "pages", "app"}  # the app's side: resnet_core imports none of it


def imported_modules(path: Path, package: list[str]) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in the file at `path`, whose package is `package`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if node.module:
                found.append((node.lineno, module))
            else:  # `from . import x`: x is a module of that package
                found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def layer_of(path: Path) -> str:
    parts = path.relative_to(ROOT / "resnet_core").parts
    return parts[0].removesuffix(".py")


def violations() -> list[str]:
    found = []
    for path in sorted((ROOT / "resnet_core").rglob("*.py")):
        source = layer_of(path)
        package = ["resnet_core", *path.relative_to(ROOT / "resnet_core").parts[:-1]]
        for line, module in imported_modules(path, package):
            top, _, rest = module.partition(".")
            where = f"{path.relative_to(ROOT)}:{line}"
            if top in APP:
                found.append(f"{where} imports {module}: resnet_core never imports the app")
            elif top == "resnet_core" and rest:
                target = rest.split(".")[0]
                if target not in RANK:
                    found.append(f"{where} imports {module}: resnet_core/{target} has no layer in this test")
                elif RANK[target] > RANK[source]:
                    found.append(f"{where}: {source} imports {target}, a higher layer")
    for path in sorted((ROOT / "ui").rglob("*.py")):
        package = ["ui", *path.relative_to(ROOT / "ui").parts[:-1]]
        for line, module in imported_modules(path, package):
            if module.split(".")[0] in ("pages", "app"):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}: ui never imports a page")
    return found


def test_every_package_of_resnet_core_has_a_layer():
    packages = {layer_of(p) for p in (ROOT / "resnet_core").rglob("*.py")}
    assert packages <= set(RANK), f"give these a layer: {sorted(packages - set(RANK))}"


def test_no_lower_layer_imports_a_higher_one():
    assert violations() == []


@pytest.mark.parametrize(
    ("source", "line", "bad"),
    [
        ("model/spec.py", "from ..training.config import TrainConfig\n", "model imports training"),
        ("store/run_store.py", "from ..studies import pairs\n", "store imports studies"),
        ("analysis/probes.py", "import streamlit as st\n", "never imports the app"),
        ("studies/pairs.py", "from resnet_core.presentation import text\n", "studies imports presentation"),
    ],
)
def test_the_check_catches_an_upward_import(tmp_path, monkeypatch, source, line, bad):
    """The checker itself: an upward import planted in a copy of the tree is reported."""
    import shutil

    shutil.copytree(ROOT / "resnet_core", tmp_path / "resnet_core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "ui", tmp_path / "ui", ignore=shutil.ignore_patterns("__pycache__"))
    planted = tmp_path / "resnet_core" / source
    planted.write_text(line + planted.read_text())
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert any(bad in v for v in violations())
