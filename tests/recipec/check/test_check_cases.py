"""One line per diagnostic case: a snippet and the (code, line, col) it must produce."""

from __future__ import annotations

import pytest
from recipec_testutil import assert_diags, codes

M = "m_modifiers:\n"  # line 1; modifiers start on line 2, their fields on line 3


def mod(body: str) -> str:
    return M + body


CASES = [
    # -- structure ---------------------------------------------------------------------------------
    ("just some text\n", ("RC015", 1, 1)),
    ("a: 1\n", ("RC101", 1, 1)),
    ("train_list:\n  - !EpochRangeModifier {start_epoch: 0, end_epoch: 2}\n", ("RC102", 1, 1)),
    (mod("  - start_epoch: 0\n"), ("RC105", 2, 5)),
    (mod("  - !GMPruningModifer\n    params: __ALL_PRUNABLE__\n"), ("RC109", 2, 5)),
    (mod("  - !GradualKSModifier\n    params: __ALL_PRUNABLE__\n"), ("RC109", 2, 5)),
    (mod("  - !EpochRangeModifier\n    start_epoch: 0\n    end_epock: 3\n"), ("RC111", 4, 5)),
    (mod("  - !EpochRangeModifier\n    start_epoch: 0\n"), ("RC112", 2, 5)),
    (mod("  - !OBSPruningModifier\n    init_sparsity: 0.5\n    final_sparsity: 0.8\n    start_epoch: 0\n"
         "    end_epoch: 5\n    update_frequency: 1\n    params: __ALL_PRUNABLE__\n"), ("RC113", 2, 5)),
    (mod("  - !QuantizationModifier\n    start_epoch: 2\n    int8_graph: true\n"), ("RC114", 4, 5)),
    (mod("  - !ConstantPruningModifier   # prune to 0.5\n    params: __ALL_PRUNABLE__\n"), ("RC016", 2, 5)),
    (mod("  - !pytorch.ConstantPruningModifier\n    params: __ALL_PRUNABLE__\n"), ("RC017", 2, 5)),
    ("my_modifiers_list:\n  - !ConstantPruningModifier\n    params: __ALL_PRUNABLE__\n", ("RC103", 1, 1)),
    ("s1_stage:\n  a_modifiers:\n    - !ConstantPruningModifier\n      params: __ALL__\n"
     "b_modifiers:\n  - !ConstantPruningModifier\n    params: __ALL_PRUNABLE__\n", ("RC104", 1, 1)),
    ("s_stage:\n  q_modifiers:\n    QuantizationModifier:\n      start: 0\n", ("RC106", 2, 3)),
    ("version: 1.0\npruners:\n  p1:\n    class: AutomatedGradualPruner\npolicies:\n  - pruner:\n"
     "      instance_name: p1\n", ("RC107", 2, 1)),
    ("a: 1\na: 2\n" + mod("  - !ConstantPruningModifier\n    params: __ALL_PRUNABLE__\n"), ("RC014", 2, 1)),
    # -- variables and eval ------------------------------------------------------------------------
    ("n: eval(3 +)\n", ("RC201", 1, 12)),
    ("n: eval(num_epoch)\nnum_epochs: 3\n", ("RC202", 1, 9)),
    ("a: eval(b)\nb: eval(a)\n", ("RC203", 1, 4)),
    ("a: eval(pow(2, 3))\n", ("RC204", 1, 9)),
    ("a: eval(-2)\n", ("RC205", 1, 9)),
    ("a: eval(2 < 3)\n", ("RC206", 1, 9)),
    ("a: eval(1/0)\n", ("RC207", 1, 11)),
    ("a: eval(10 ** 10 ** 10)\n", ("RC208", 1, 9)),
    ("l: [1, 2]\na: eval(l * 2)\n", ("RC209", 2, 9)),
    ("unused: 3\n" + mod("  - !ConstantPruningModifier\n    params: __ALL_PRUNABLE__\n"), ("RC210", 1, 1)),
    ("e: 5\n" + mod("  - !EpochRangeModifier\n    start_epoch: 0\n    end_epoch: eval( e )\n")[:0]
     + "e2: eval (e)\n", ("RC211", 2, 5)),
    ("e: 5\n" + mod("  - !EpochRangeModifier\n    start_epoch: 0\n    end_epoch: e\n"), ("RC212", 5, 16)),
    ("lr: 1e-5\n", ("RC213", 1, 5)),
    (mod("  - !SetLearningRateModifier\n    learning_rate: 1e-3\n"), ("RC213", 3, 20)),
    (mod("  - !EpochRangeModifier\n    start_epoch: off\n    end_epoch: 2\n"), ("RC214", 3, 18)),
    (mod("  - !EpochRangeModifier\n    start_epoch: 0\n    end_epoch: 010\n"), ("RC214", 4, 16)),
    (mod("  - !EpochRangeModifier\n    start_epoch: {start}\n    end_epoch: 2\n"), ("RC217", 3, 18)),
    # -- field values -------------------------------------------------------------------------------
    (mod("  - !EpochRangeModifier\n    start_epoch: zero\n    end_epoch: 2\n"), ("RC301", 3, 18)),
    (mod("  - !EpochRangeModifier\n    start_epoch: -3\n    end_epoch: 2\n"), ("RC302", 3, 18)),
    (mod("  - !EpochRangeModifier\n    start_epoch: 5\n    end_epoch: 2\n"), ("RC303", 4, 16)),
    (mod("  - !LearningRateFunctionModifier\n    lr_func: linear\n    init_lr: 0.1\n    final_lr: 0.01\n"
         "    start_epoch: 2\n    end_epoch: -1\n"), ("RC303", 7, 16)),
    (mod("  - !SetLearningRateModifier\n    learning_rate: 0.1\n    start_epoch: 2\n    end_epoch: 5\n"),
     ("RC304", 5, 16)),
    (mod("  - !QuantizationModifier\n    start_epoch: 2\n    end_epoch: 5\n"), ("RC305", 4, 16)),
    (mod("  - !GMPruningModifier\n    init_sparsity: 0.05\n    final_sparsity: 1.0\n    start_epoch: 0\n"
         "    end_epoch: 5\n    update_frequency: 1\n    params: __ALL_PRUNABLE__\n"), ("RC306", 4, 21)),
    (mod("  - !SetLearningRateModifier\n    learning_rate: 0\n"), ("RC307", 3, 20)),
    (mod("  - !GMPruningModifier\n    init_sparsity: 0.05\n    final_sparsity: 0.8\n    start_epoch: 0\n"
         "    end_epoch: 5\n    update_frequency: 0\n    params: __ALL_PRUNABLE__\n"), ("RC308", 7, 23)),
    (mod("  - !GMPruningModifier\n    init_sparsity: 0.05\n    final_sparsity: 0.8\n    start_epoch: 0\n"
         "    end_epoch: 5\n    update_frequency: 6\n    params: __ALL_PRUNABLE__\n"), ("RC308", 7, 23)),
    (mod("  - !LearningRateFunctionModifier\n    lr_func: constant\n    init_lr: 0.1\n    final_lr: 0.01\n"
         "    start_epoch: 0\n    end_epoch: 2\n"), ("RC309", 3, 14)),
    (mod("  - !GMPruningModifier\n    init_sparsity: 0\n    final_sparsity: 0.8\n    start_epoch: 0\n"
         "    end_epoch: 5\n    update_frequency: 1\n    params: __ALL_PRUNABLE__\n"), ("RC310", 3, 20)),
    (mod("  - !QuantizationModifier\n    submodules: [model.0]\n    ignore: [model.1]\n"), ("RC311", 4, 13)),
    (mod("  - !QuantizationModifier\n    start_epoch: 5\n    freeze_bn_stats_epoch: 4\n"), ("RC312", 4, 28)),
    (mod("  - !QuantizationModifier\n    start_epoch: 5\n    freeze_bn_stats_epoch: 7\n"
         "    disable_quantization_observer_epoch: 6\n"), ("RC313", 5, 42)),
    (mod("  - !ConstantPruningModifier\n    params: everything\n"), ("RC314", 3, 13)),
    (mod("  - !ConstantPruningModifier\n    params: __ALL__\n"), ("RC315", 3, 13)),
    (mod("  - !GMPruningModifier\n    init_sparsity: 0.05\n    final_sparsity: {0.8: [model.0.conv.weight]}\n"
         "    start_epoch: 0\n    end_epoch: 5\n    update_frequency: 1\n    params: __ALL_PRUNABLE__\n"),
     ("RC316", 8, 13)),
    (mod("  - !GMPruningModifier\n    init_sparsity: 0.05\n    final_sparsity: {0.8: ['re:model.2.*'], "
         "0.9: ['re:model.2.cv1.conv.weight']}\n    start_epoch: 0\n    end_epoch: 5\n    update_frequency: 1\n"
         "    params: []\n"), ("RC606", 4, 21)),
    (mod("  - !GMPruningModifier\n    init_sparsity: 0.05\n    final_sparsity: {0.8: ['re:model.2.*'], "
         "0.9: [model.2.cv1.conv.weight]}\n    start_epoch: 0\n    end_epoch: 5\n    update_frequency: 1\n"
         "    params: []\n"), ("RC606", 4, 21)),
    (mod("  - !LearningRateModifier\n    lr_class: StepLR\n    lr_kwargs: {gamma: 0.1}\n    init_lr: 0.1\n"
         "    start_epoch: 0\n"), ("RC317", 4, 16)),
    (mod("  - !LearningRateModifier\n    lr_class: MultiStepLR\n    lr_kwargs: {gamma: 0.1, milestones: [1, 9]}\n"
         "    init_lr: 0.1\n    start_epoch: 2\n"), ("RC318", 4, 16)),
    (mod("  - !GMPruningModifier\n    init_sparsity: 0.05\n    final_sparsity: 0.8\n    start_epoch: 0\n"
         "    end_epoch: 5\n    update_frequency: 1\n    params: __ALL_PRUNABLE__\n    phased: true\n"),
     ("RC319", 9, 13)),
    (mod("  - !LearningRateFunctionModifier\n    lr_func: cyclic_linear\n    init_lr: 0.1\n    final_lr: 0.01\n"
         "    start_epoch: 0\n    end_epoch: 2\n    cycle_epochs: 0\n"), ("RC320", 8, 19)),
    (mod("  - !LearningRateModifier\n    lr_class: ExponentialLR\n    lr_kwargs: {gamma: 0.9}\n    init_lr: 0.1\n"
         "    start_epoch: 0\n"), ("RC321", 3, 15)),
    (mod("  - !EpochRangeModifier\n    start_epoch: 0\n    end_epoch: 5\n  - !SetWeightDecayModifier\n"
         "    weight_decay: 0.0001\n  - !LearningRateFunctionModifier\n    lr_func: linear\n    init_lr: 0.1\n"
         "    final_lr: 0.01\n    start_epoch: 0\n    end_epoch: 9\n"), ("RC322", 12, 16)),
    (mod("  - !LearningRateModifier\n    lr_class: StepLR\n    lr_kwargs: {gamma: 0.1, step_size: 1}\n"
         "    init_lr: 0.1\n    start_epoch: 0\n    update_frequency: 2\n"), ("RC323", 7, 23)),
    (mod("  - !GMPruningModifier\n    init_sparsity: 0.05\n    final_sparsity: 0.8\n    start_epoch: 0\n"
         "    end_epoch: 5\n    update_frequency: 1\n    params: __ALL_PRUNABLE__\n    mask_type: filter\n"),
     ("RC324", 9, 16)),
    (mod("  - !PerLayerDistillationModifier\n    student_layer_names: [model.2, model.4]\n"
         "    teacher_layer_names: [model.2]\n"), ("RC326", 4, 26)),
    (mod("  - !SetWeightDecayModifier\n    weight_decay: -0.1\n"), ("RC327", 3, 19)),
    # -- modifiers together -------------------------------------------------------------------------
    (mod("  - !LearningRateFunctionModifier\n    lr_func: cosine\n    init_lr: 0.1\n    final_lr: 0.01\n"
         "    start_epoch: 0\n    end_epoch: 10\n  - !SetLearningRateModifier\n    learning_rate: 0.001\n"
         "    start_epoch: 8\n"), ("RC401", 8, 5)),
    (mod("  - !LearningRateFunctionModifier\n    lr_func: cosine\n    init_lr: 0.1\n    final_lr: 0.01\n"
         "    start_epoch: 0\n    end_epoch: 10\n  - !LearningRateFunctionModifier\n    lr_func: linear\n"
         "    init_lr: 0.1\n    final_lr: 0.01\n    start_epoch: 5\n    end_epoch: 15\n"), ("RC402", 8, 5)),
    (mod("  - !GMPruningModifier\n    init_sparsity: 0.05\n    final_sparsity: 0.8\n    start_epoch: 0\n"
         "    end_epoch: 40\n    update_frequency: 1\n    params: __ALL_PRUNABLE__\n  - !QuantizationModifier\n"
         "    start_epoch: 30\n"), ("RC403", 10, 18)),
    (mod("  - !ConstantPruningModifier\n    params: ['re:model.2']\n"), ("RC325", 3, 14)),
    (mod("  - !ConstantPruningModifier\n    params: __ALL_PRUNABLE__\n"), ("RC404", 2, 5)),
    # -- model-aware ----------------------------------------------------------------------------------
    (mod("  - !SetLearningRateModifier\n    learning_rate: 0.1\n    param_groups: [3]\n"), ("RC601", 4, 19)),
    (mod("  - !ConstantPruningModifier\n    params: [model.0.conv.weights, model.1.conv.weight]\n"),
     ("RC602", 3, 14)),
    (mod("  - !ConstantPruningModifier\n    params: ['re:model\\.9\\.cv4.*']\n"), ("RC602", 3, 14)),
    (mod("  - !QuantizationModifier\n    submodules: [model.0, model.25]\n"), ("RC603", 3, 27)),
    (mod("  - !ConstantPruningModifier\n    params: [bert.encoder.layer.0.attention.self.query.weight]\n"),
     ("RC604", 3, 14)),
    (mod("  - !SetLearningRateModifier\n    learning_rate: 0.1\n    param_groups: [norms]\n"), ("RC605", 4, 19)),
]


@pytest.mark.parametrize("src,expected", CASES, ids=[f"{e[0]}-{i}" for i, (_, e) in enumerate(CASES)])
def test_case(src, expected):
    assert_diags(src, expected)


def test_every_check_code_has_a_case():
    """Every code the check rules own is exercised above (a new rule needs a case)."""
    from recipec.check import RULES

    covered = {e[0] for _, e in CASES}
    owned = {c for r in RULES for c in r.CODES}
    assert owned - covered == set()


def test_clean_recipe_has_no_findings():
    src = mod("  - !EpochRangeModifier\n    start_epoch: 0.0\n    end_epoch: 10.0\n"
              "  - !ConstantPruningModifier\n    start_epoch: 0.0\n    params: __ALL_PRUNABLE__\n")
    assert codes(src) == set()


def test_model_none_skips_model_checks():
    src = mod("  - !ConstantPruningModifier\n    params: [model.0.conv.weights]\n")
    assert "RC602" not in codes(src, model="none")
    assert "RC602" in codes(src, model="yolov5n")


def test_param_group_names_are_accepted():
    src = mod("  - !SetLearningRateModifier\n    learning_rate: 0.1\n    param_groups: [bn, weights, biases]\n")
    from recipec_testutil import compile_text

    res = compile_text(src)
    assert res.ok and res.recipe.modifiers[0].param_groups == [0, 1, 2]


@pytest.mark.parametrize("src,expected", [
    ("m_modifiers: []\n", ("RC101", 1, 1)),
    ("a: 1e400\n" + M + "  - !ConstantPruningModifier\n    params: __ALL_PRUNABLE__\n", ("RC208", 1, 4)),
    (M + "  - !EpochRangeModifier\n    start_epoch: .nan\n    end_epoch: 2\n", ("RC208", 3, 18)),
])
def test_more_cases(src, expected):
    assert_diags(src, expected)
