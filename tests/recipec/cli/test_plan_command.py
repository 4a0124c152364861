"""`recipec plan`: JSON shape, --epochs, --data/--batch, errors without tracebacks, no torch."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recipec.cli import build_app

RECIPE = """
num_epochs: 6
training_modifiers:
  - !EpochRangeModifier
    start_epoch: 0
    end_epoch: eval(num_epochs)
  - !LearningRateFunctionModifier
    start_epoch: 0
    end_epoch: eval(num_epochs)
    lr_func: cosine
    init_lr: 0.01
    final_lr: 0.001
pruning_modifiers:
  - !GMPruningModifier
    params: __ALL_PRUNABLE__
    init_sparsity: 0.05
    final_sparsity: 0.8
    start_epoch: 1
    end_epoch: 3
    update_frequency: 0.5
  - !ConstantPruningModifier
    params: __ALL_PRUNABLE__
    start_epoch: 0.0
quantization_modifiers:
  - !QuantizationModifier
    start_epoch: 5
    freeze_bn_stats_epoch: 5.5
"""

FIXED = """
training_modifiers:
  - !EpochRangeModifier
    start_epoch: 0
    end_epoch: 4
"""


@pytest.fixture()
def recipe(tmp_path: Path) -> Path:
    p = tmp_path / "r.yaml"
    p.write_text(RECIPE)
    return p


def run(*args):
    return CliRunner().invoke(build_app(), ["plan", *map(str, args)])


def test_json_shape(recipe):
    r = run(recipe, "-S", 7, "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert list(doc) == ["version", "steps_per_epoch", "epochs", "total_steps", "pruning", "steps"]
    assert (doc["version"], doc["steps_per_epoch"], doc["epochs"], doc["total_steps"]) == (1, 7, 6, 42)
    assert len(doc["steps"]) == 42
    s = doc["steps"][9]
    assert list(s) == ["step", "epoch", "lr", "sparsity", "qat"]
    assert s["step"] == 9 and s["epoch"] == 9 / 7 and len(s["lr"]) == 3
    assert doc["steps"][6]["sparsity"] == [None, None] and doc["steps"][7]["sparsity"] == [0.05, None]
    assert doc["steps"][21]["sparsity"] == [0.8, None]
    assert [doc["steps"][i]["qat"] for i in (34, 35, 39)] == ["off", "observing", "bn_frozen"]


def test_epochs_override_moves_dependent_values(recipe):
    r = run(recipe, "-S", 7, "--format", "json", "--epochs", 5)
    doc = json.loads(r.stdout)
    assert doc["epochs"] == 5 and doc["total_steps"] == 35
    assert "RC505" in r.stderr and "does not depend on num_epochs" in r.stderr


def test_epochs_without_num_epochs_names_fixed_values(tmp_path):
    p = tmp_path / "fixed.yaml"
    p.write_text(FIXED)
    r = run(p, "-S", 7, "--epochs", 10)
    assert r.exit_code == 2
    assert "num_epochs" in r.stderr and "EpochRangeModifier#1 end_epoch = 4" in r.stderr


def test_data_and_batch(recipe, external_dir, tmp_path):
    data = tmp_path / "d.yaml"
    data.write_text(f"path: {external_dir / 'coco128'}\ntrain: images/train2017\nval: images/train2017\n")
    r = run(recipe, "--data", data, "--batch", 16, "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["steps_per_epoch"] == 8  # 128 images / 16


def test_data_relative_path_txt_and_list(tmp_path, external_dir):
    from recipec.cli.plan_data import count_train_images, steps_per_epoch_from_data

    imgs = external_dir / "coco8" / "images"
    (tmp_path / "list.txt").write_text("\n".join(str(p) for p in sorted((imgs / "train").iterdir())) + "\n")
    (tmp_path / "a.yaml").write_text(f"train: [list.txt, {imgs / 'val'}]\n")
    assert count_train_images(tmp_path / "a.yaml") == 8
    assert steps_per_epoch_from_data(tmp_path / "a.yaml", 3) == 3


def test_table_and_plot(recipe, tmp_path):
    png = tmp_path / "p.png"
    r = run(recipe, "-S", 7, "--plot", png)
    assert r.exit_code == 0, r.output
    assert "timeline" in r.stdout and "GMP#3" in r.stdout
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("args, code", [
    (["-S", 7, "--format", "xml"], 2),
    ([], 2),
    (["-S", 0], 2),
    (["-S", 7, "--data", "x.yaml", "--batch", 2], 2),
    (["--data", "missing.yaml", "--batch", 2], 2),
    (["-S", 10_000_000], 2),
])
def test_usage_errors(recipe, args, code):
    r = run(recipe, *args)
    assert r.exit_code == code
    assert "Traceback" not in r.output


def test_bad_recipe_is_a_diagnostic(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("training_modifiers:\n  - !LearningRateFunctionModifier\n    lr_func: nope\n")
    r = run(p, "-S", 7)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert run(tmp_path / "missing.yaml", "-S", 7).exit_code == 2


def test_plan_never_imports_torch(recipe, tmp_path):
    code = (
        "import sys\n"
        "from recipec.cli import main\n"
        "try:\n"
        f"    main(['plan', {str(recipe)!r}, '-S', '7', '--format', 'json', '--plot', {str(tmp_path / 'x.png')!r}])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'torch')\n"
        "sys.stderr.write(repr(bad))\n"
        "sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
