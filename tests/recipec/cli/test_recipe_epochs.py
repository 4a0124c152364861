"""`--epochs N` (plan and train) compiles the recipe once, with N as the `num_epochs` override."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from recipec.cli import build_app
from recipec.cli import recipe_epochs

RECIPE = """num_epochs: 4
modifiers:
  - !EpochRangeModifier
    start_epoch: 0
    end_epoch: eval(num_epochs)
  - !SetLearningRateModifier
    start_epoch: 2
    learning_rate: 0.01
"""


@pytest.fixture
def compiles(monkeypatch):
    import recipec.frontend

    calls = []
    real = recipec.frontend.compile_recipe

    def counting(*a, **k):
        calls.append(k.get("overrides"))
        return real(*a, **k)

    monkeypatch.setattr(recipec.frontend, "compile_recipe", counting)
    return calls


def test_epochs_is_one_compile_with_the_override(compiles):
    res, has, fixed = recipe_epochs.compile_with_epochs("r.yaml", text=RECIPE, epochs=9)
    assert compiles == [{"num_epochs": 9.0}] and has and fixed == {0, 1}  # literal starts stay put
    assert res.recipe.variables["num_epochs"].value == 9.0 and res.recipe.max_epochs == 9


def test_no_num_epochs_variable_is_reported(compiles):
    _res, has, _fixed = recipe_epochs.compile_with_epochs("r.yaml", text=RECIPE.replace("num_epochs", "n"), epochs=3)
    assert not has and len(compiles) == 1


def test_train_and_plan_compile_once(compiles, tmp_path):
    from recipec.cli.train_app import compile_for_training

    recipe, kw = compile_for_training("r.yaml", RECIPE, 6, say=lambda m: None)
    assert recipe.max_epochs == 6 and kw == {"fixed_from_epochs": {0, 1}, "epochs_override": 6} and len(compiles) == 1
    (tmp_path / "r.yaml").write_text(RECIPE)
    r = CliRunner().invoke(build_app(), ["plan", str(tmp_path / "r.yaml"), "--steps-per-epoch", "2", "--epochs", "5",
                                         "--format", "json"])
    assert r.exit_code == 0, r.output
    assert len(compiles) == 2 and compiles[-1] == {"num_epochs": 5.0}
