"""Plan-level checks (RC5xx): one case per code, on compiled recipe text."""

from pathlib import Path

import pytest

from recipec.diagnostics.codes import CATALOG
from recipec.frontend import compile_recipe
from recipec.plan import build_plan

HEAD = """num_epochs: 6
training_modifiers:
  - !EpochRangeModifier
    start_epoch: 0
    end_epoch: eval(num_epochs)
"""


def codes(body: str, s: int = 7, **kw):
    res = compile_recipe("r.yaml", text=HEAD + body, model="none")
    assert res.recipe is not None, res.diagnostics
    plan = build_plan(res.recipe, s, **kw)
    return [(d.code, d.span.line if d.span else None) for d in plan.diagnostics]


LRF = """  - !LearningRateFunctionModifier
    start_epoch: {a}
    end_epoch: {b}
    lr_func: linear
    init_lr: 0.1
    final_lr: 0.01
"""

GMP = """  - !GMPruningModifier
    params: __ALL_PRUNABLE__
    init_sparsity: 0.05
    final_sparsity: 0.8
    start_epoch: {a}
    end_epoch: {b}
    update_frequency: {f}
    inter_func: {func}
"""


def test_codes_registered_in_lint_catalog():
    """Every code the plan checks emit is in the one catalog (`recipec explain` knows it), under RC5xx."""
    import re

    from recipec.plan import checks

    emitted = set(re.findall(r'"(RC5\d\d)"', Path(checks.__file__).read_text(encoding="utf-8")))
    assert len(emitted) >= 10 and emitted <= set(CATALOG)


def test_clean_recipe_has_no_findings():
    assert codes(LRF.format(a=0, b=6)) == []


def test_rc501_window_rounds_to_zero_steps():
    assert ("RC501", 8) in codes(LRF.format(a=0.1, b=0.12))


def test_rc502_lr_uncovered_tail():
    assert [c for c, _ in codes(LRF.format(a=0, b=3))] == ["RC502"]


def test_rc503_final_sparsity_never_applied():
    assert ("RC503", 17) in codes(LRF.format(a=0, b=6) + GMP.format(a=1, b=6, f=0.5, func="linear"))


def test_rc503_quiet_when_last_update_is_final_already():
    assert "RC503" not in [c for c, _ in codes(LRF.format(a=0, b=6) + GMP.format(a=1, b=6, f=0.5, func="cubic"))]


def test_rc502_not_for_a_constant_set_lr():
    assert codes("  - !SetLearningRateModifier\n    start_epoch: 0\n    learning_rate: 0.001\n") == []


def test_rc504_frequency_too_coarse():
    assert ("RC504", 18) in codes(LRF.format(a=0, b=6) + GMP.format(a=1, b=3, f=2.0, func="cubic"))


def test_rc505_start_after_end_with_epochs_help():
    body = LRF.format(a=0, b="eval(num_epochs)") + "  - !SetLearningRateModifier\n    start_epoch: 5\n    learning_rate: 0.001\n"
    res = compile_recipe("r.yaml", text=HEAD + body, model="none", overrides={"num_epochs": 4.0})
    plan = build_plan(res.recipe, 7, fixed_from_epochs={2}, epochs_override=4)
    d = [d for d in plan.diagnostics if d.code == "RC505"]
    assert len(d) == 1 and "does not depend on num_epochs" in d[0].help


def test_rc506_set_lr_overwritten_next_step():
    body = LRF.format(a=0, b=6) + "  - !SetLearningRateModifier\n    start_epoch: 2\n    learning_rate: 0.001\n"
    assert ("RC506", 14) in codes(body)


def test_rc507_off_grid_lr_end():
    assert ("RC507", 8) in codes(LRF.format(a=0.25, b=1.25) + LRF.format(a=2, b=6).replace("0.1", "0.05"))


def test_rc508_inverse_cubic_off_grid_end():
    found = codes(LRF.format(a=0, b=6) + GMP.format(a=0.5, b=4.5, f=0.5, func="inverse_cubic"))
    assert ("RC508", 19) in found


def test_rc508_not_at_grid_end():
    found = codes(LRF.format(a=0, b=6) + GMP.format(a=0.5, b=4.5, f=0.5, func="inverse_cubic"), s=100)
    assert "RC508" not in [c for c, _ in found]


def test_rc509_zero_length_pruning_window():
    assert "RC509" in [c for c, _ in codes(LRF.format(a=0, b=6) + GMP.format(a=2, b=2, f=0.5, func="cubic"))]


@pytest.mark.parametrize("kwargs, s", [("{gamma: 0.5, step_size: 0.1}", 4), ("{gamma: 0.5, milestones: [7]}", 7)])
def test_rc511_scheduler_fails_at_runtime(kwargs, s):
    lrs = ("  - !LearningRateModifier\n    start_epoch: 0\n    end_epoch: 6\n    init_lr: 0.1\n"
           f"    lr_class: {'StepLR' if 'step_size' in kwargs else 'MultiStepLR'}\n    lr_kwargs: {kwargs}\n")
    assert "RC511" in [c for c, _ in codes(lrs, s=s)]


def test_rc512_no_run_length():
    res = compile_recipe("r.yaml", text="modifiers:\n  - !ConstantPruningModifier\n    params: __ALL_PRUNABLE__\n",
                         model="none")
    plan = build_plan(res.recipe, 7)
    assert [d.code for d in plan.diagnostics] == ["RC512"] and plan.total_steps == 0
