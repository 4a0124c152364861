"""`--epochs N` shorter than a recipe's fixed phases: the error names the variables and a `--set` that works."""

import pytest
from typer.testing import CliRunner

from conftest import REPO
from recipec.cli import build_app
from recipec.plan.epochs_fit import epochs_fit_hint

SEED = REPO / "examples" / "recipes" / "yolov5s_transfer_pruned_quantized.yaml"

RECIPE = """
num_epochs: 10
warmup_epochs: 3
modifiers:
  - !EpochRangeModifier
    start_epoch: 0
    end_epoch: eval(num_epochs)
  - !LearningRateFunctionModifier
    start_epoch: 0
    end_epoch: eval(warmup_epochs)
    lr_func: linear
    init_lr: 0.0
    final_lr: 0.01
  - !LearningRateFunctionModifier
    start_epoch: eval(warmup_epochs)
    end_epoch: eval(num_epochs)
    lr_func: cosine
    init_lr: 0.01
    final_lr: 0.001
"""


def plan(*args):
    return CliRunner().invoke(build_app(), ["plan", *map(str, args)])


def test_seed_recipe_two_epochs():
    hint = epochs_fit_hint(str(SEED), SEED.read_text(), 2)
    assert hint == ("warmup_epochs (2) + qat_epochs (2) do not fit in 2 epochs: lower them, "
                    "e.g. --set warmup_epochs=1 --set qat_epochs=1")


@pytest.mark.parametrize("epochs, hint", [
    (3, "warmup_epochs (3) does not fit in 3 epochs: lower it, e.g. --set warmup_epochs=2"),
    (2, "warmup_epochs (3) does not fit in 2 epochs: lower it, e.g. --set warmup_epochs=1"),
    (4, None),   # fits: no hint
])
def test_one_variable(tmp_path, epochs, hint):
    assert epochs_fit_hint("r.yaml", RECIPE, epochs) == hint


def test_no_hint_when_the_recipe_is_broken_as_written():
    assert epochs_fit_hint("r.yaml", RECIPE.replace("warmup_epochs: 3", "warmup_epochs: 30"), 2) is None


def test_no_fix_says_epochs_must_be_larger():
    fixed = RECIPE.replace("start_epoch: eval(warmup_epochs)", "start_epoch: 3")  # a literal, not a variable
    assert epochs_fit_hint("r.yaml", fixed, 2) == ("the recipe's epoch values (warmup_epochs = 3) do not fit in "
                                                   "2 epochs; give --epochs a larger value")


def test_user_sets_are_kept():
    # the user already chose warmup_epochs: nothing is left to lower
    assert "give --epochs a larger value" in epochs_fit_hint("r.yaml", RECIPE, 2, {"warmup_epochs": 3})


def test_plan_cli_hint_and_set_fix():
    r = plan(SEED, "--epochs", 2, "-S", 5)
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines()[-1] == (
        "error: --epochs 2: warmup_epochs (2) + qat_epochs (2) do not fit in 2 epochs: lower them, "
        "e.g. --set warmup_epochs=1 --set qat_epochs=1")
    assert "recipec lint" not in r.stderr
    r = plan(SEED, "--epochs", 2, "-S", 5, "--set", "warmup_epochs=1", "--set", "qat_epochs=1")
    assert r.exit_code == 0, r.output
    r = plan(SEED, "--epochs", 2, "-S", 5, "--set", "warmup_epochs")
    assert r.exit_code == 2 and "--set expects NAME=VALUE" in r.stderr


def test_plan_batch_size_alias(tmp_path, external_dir):
    y = tmp_path / "c8.yaml"
    y.write_text(f"path: {external_dir / 'coco8'}\ntrain: images/train\nval: images/val\nnc: 80\n")
    r = plan(SEED, "--data", y, "--batch-size", 2, "--format", "json")
    assert r.exit_code == 0, r.output
    assert '"steps_per_epoch": 2' in r.stdout
