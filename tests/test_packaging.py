"""The library is installable: `pip wheel .` builds a wheel holding `resnet_core` (not the app, not the
tests), with its dependencies and the `resnet-lab` console script, importable away from the repo."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_the_library_and_works_outside_the_repo(tmp_path):
    # Build from a copy of what the wheel is made of (setuptools writes build/ beside the sources), with
    # this venv's setuptools (requirements-dev.txt, --no-build-isolation), so no network is needed.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "resnet_core", source / "resnet_core", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "requirements.txt", "requirements-dev.txt", "requirements-ray.txt"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(source),
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path / "dist"),
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = (tmp_path / "dist").glob("resnet_lab-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = next(z.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = next(z.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"resnet_core"}, top
    for module in (
        "__init__.py",
        "__main__.py",
        "model/net.py",
        "data/datasets.py",
        "training/train.py",
        "store/run_store.py",
        "execution/jobs.py",
        "studies/reference.py",
        "bench/trainer.py",
        "analysis/probes.py",
        "presentation/charts.py",
        "cli/main.py",
        "locale/zh/LC_MESSAGES/messages.po",  # the app's Chinese, read at runtime (presentation/i18n.py)
    ):
        assert f"resnet_core/{module}" in names, module
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    for dependency in ("torch", "torchvision", "safetensors", "captum", "streamlit"):
        assert any(line.split()[1].startswith(dependency) for line in requires), dependency
    assert "Provides-Extra: ray" in metadata  # `pip install resnet-lab[ray]`: the ray executor
    assert any(line.startswith("Requires-Dist: ray") and 'extra == "ray"' in line for line in requires)
    assert "resnet-lab = resnet_core.cli.main:console" in entry_points

    # Installed on its own (dependencies from this venv), it works from a folder that is not the repo.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        check=True,
    )
    code = (
        "import resnet_core as rc, sys; assert rc.__file__.startswith(sys.argv[1]), rc.__file__; "
        "print(rc.count_params(rc.build_net(rc.NetSpec(depth=20))))"
    )
    out = subprocess.run(
        [sys.executable, "-P", "-c", code, str(target)],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "269722"  # ResNet-20, Table 6: 0.27M
