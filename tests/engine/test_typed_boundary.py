"""The typed boundary between the front end and the engine: one LR-kind table, the Plan's version in every
checkpoint, modifiers told apart by category, typed run state."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from engine.loop import phase_function
from engine.runtime import LearningRateRuntime, RunState
from engine.train import RunRecipe, TrainArgs, _checkpoint_meta
from recipec.frontend import compile_recipe
from recipec.modifiers import LR_KINDS, REGISTRY
from recipec.plan import PLAN_VERSION
from recipec.plan.build import build_plan

RECIPE = """num_epochs: 4
modifiers:
  - !EpochRangeModifier
    start_epoch: 0
    end_epoch: eval(num_epochs)
  - !ConstantPruningModifier
    params: __ALL_PRUNABLE__
    start_epoch: 1
  - !QuantizationModifier
    start_epoch: 3
"""


def test_one_table_of_lr_kinds():
    assert set(LR_KINDS) == {k for k in REGISTRY if REGISTRY[k].category == "learning_rate"}
    assert LearningRateRuntime.kinds == LR_KINDS


def test_checkpoints_record_the_plan_version():
    recipe = compile_recipe("r.yaml", text=RECIPE).recipe
    plan = build_plan(recipe, 2)
    assert plan.version == PLAN_VERSION
    s = SimpleNamespace(args=TrainArgs(), start=SimpleNamespace(model=object(), recipe_text=None),
                        data=SimpleNamespace(names=["a"], nc=1), hyp={}, recipe=RunRecipe(recipe, RECIPE, "r.yaml"))
    assert _checkpoint_meta(s, plan).plan_version == PLAN_VERSION
    assert _checkpoint_meta(s, replace(plan, version=PLAN_VERSION + 1)).to_dict()["plan_version"] == PLAN_VERSION + 1


def test_phases_follow_the_modifiers_categories():
    phase = phase_function(compile_recipe("r.yaml", text=RECIPE).recipe)
    assert [phase(e) for e in range(4)] == ["dense", "pruned", "pruned", "pruned_quantized"]
    assert phase_function(compile_recipe("r.yaml", text=RECIPE).recipe, start_pruned=True)(0) == "pruned"


def test_qat_start_switches_ema_and_amp_off():
    st = RunState()
    assert st.qat is None and st.ema_enabled and st.amp_enabled
    handle = object()
    st.start_qat(handle)
    assert st.qat is handle and not st.ema_enabled and not st.amp_enabled
