"""`recipec train` without --recipe trains on YOLOv5's own schedule, written as a recipe that lints clean."""

import pytest

from recipec.cli.default_recipe import epoch_recipe
from recipec.frontend import compile_recipe
from recipec.plan import build_plan

HYP = {"lr0": 0.01, "lrf": 0.01, "warmup_epochs": 3.0, "warmup_bias_lr": 0.1}


def _plan(epochs, hyp, S=4):
    res = compile_recipe("<epochs>", text=epoch_recipe(epochs, hyp))
    assert res.ok and not res.diagnostics, [d.message for d in res.diagnostics]
    return build_plan(res.recipe, S, base_lr=hyp["lr0"])


def test_warmup_then_linear_decay():
    p = _plan(10, HYP)
    assert p.epochs == 10
    assert p.lr_at(0) == pytest.approx((0.0, 0.0, 0.1))  # weights/BN from 0, biases from warmup_bias_lr
    assert p.lr_at(12) == pytest.approx((0.01, 0.01, 0.01))  # end of warm-up (epoch 3): lr0 everywhere
    last = p.lr_at(p.total_steps - 1)  # linear to lr0 * lrf at epoch 10, last step at 9.75
    assert last == pytest.approx((0.01 + (0.0001 - 0.01) * 6.75 / 7,) * 3)


def test_short_runs_halve_the_warmup():
    p = _plan(2, HYP)
    assert p.lr_at(4) == pytest.approx((0.01, 0.01, 0.01))  # warm-up shortened to 1 epoch


def test_hyp_values_flow_into_the_recipe():
    p = _plan(4, {**HYP, "lr0": 0.02, "warmup_epochs": 0.0})
    assert p.lr_at(0) == pytest.approx((0.02, 0.02, 0.02))  # no warm-up: decay starts at lr0
