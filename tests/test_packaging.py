"""A plain install carries everything: every package of the tree, the example recipes (`recipec._examples` =
examples/recipes/, read with importlib.resources) and the export's sample images."""

from __future__ import annotations

import importlib.resources
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import REPO
from recipec.cli import build_app
from recipec.examples import PACKAGE, list_recipes, recipe_dir, recipe_path, resolve_recipe_arg

tomllib = pytest.importorskip("tomllib")
EXAMPLES = REPO / "examples" / "recipes"


def test_examples_package_maps_onto_the_checkout_folder():
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert cfg["package-dir"] == {PACKAGE: "examples/recipes"}
    assert f'"{PACKAGE}"' in (REPO / "setup.py").read_text()  # a find cannot see it: setup.py adds it


def test_examples_are_read_through_importlib_resources():
    where = Path(str(importlib.resources.files(PACKAGE)))  # the editable install maps it onto examples/recipes
    assert where.resolve() == EXAMPLES.resolve() == recipe_dir().resolve()
    assert list_recipes() == sorted(p.name for p in EXAMPLES.glob("*.yaml"))
    assert recipe_path("demo_dense.yaml").read_text() == (EXAMPLES / "demo_dense.yaml").read_text()
    for bad in ("nope.yaml", "../recipes/demo_dense.yaml", "__init__.py"):
        with pytest.raises(FileNotFoundError, match="no example recipe named"):
            recipe_path(bad)


def test_bare_names_resolve_to_shipped_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seed = "yolov5s_transfer_pruned_quantized.yaml"
    assert Path(resolve_recipe_arg(seed)) == recipe_path(seed)
    for other in ("nope.yaml", "sub/" + seed, "zoo:x", "", "demo_dense"):
        assert resolve_recipe_arg(other) == other
    (tmp_path / seed).write_text("a file here wins\n")
    assert resolve_recipe_arg(seed) == seed


def test_lint_and_plan_take_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(build_app(), ["lint", "--format", "concise", "yolov5s_transfer_pruned_quantized.yaml"])
    assert r.exit_code == 0 and "RC401" in r.stdout, r.output  # the seed recipe's known warning
    r = CliRunner().invoke(build_app(), ["plan", "demo_dense.yaml", "--steps-per-epoch", "2", "--format", "json"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(build_app(), ["plan", "nope.yaml", "--steps-per-epoch", "2"])
    assert r.exit_code == 2 and "no such file" in r.stderr


def test_train_takes_a_shipped_name(tmp_path, monkeypatch):
    from recipec.cli.train_app import recipe_source

    monkeypatch.chdir(tmp_path)
    path, text = recipe_source("demo_dense.yaml")
    assert Path(path) == recipe_path("demo_dense.yaml") and text == recipe_path("demo_dense.yaml").read_text()


@pytest.mark.slow
def test_the_wheel_carries_recipes_and_sample_images(tmp_path):
    """Build the wheel (no network: --no-build-isolation) from a copy of the tree and look inside."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE"):
        shutil.copy(REPO / name, src / name)
    for name in ("recipec", "engine", "yolo", "examples"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                        str(tmp_path / "dist"), str(src)], capture_output=True, text=True,
                       env={**os.environ, "PIP_NO_INDEX": "1"})
    assert r.returncode == 0, r.stderr
    names = set(zipfile.ZipFile(next((tmp_path / "dist").glob("*.whl"))).namelist())
    assert {f"recipec/_examples/{p.name}" for p in EXAMPLES.glob("*.yaml")} <= names
    samples = REPO / "engine" / "export" / "samples"
    assert {f"engine/export/samples/{p.name}" for p in samples.iterdir()} <= names
    assert not any(n.startswith(("tests/", "examples/")) for n in names)
    packages = {str(p.relative_to(REPO)) for top in ("recipec", "engine", "yolo")
                for p in (REPO / top).rglob("__init__.py")}
    assert packages <= names, packages - names  # every package of the tree, found without a list to keep
