"""compile_recipe: IR shape, variables, overrides, anchors, stages, Markdown, dependencies."""

from __future__ import annotations

from pathlib import Path

import pytest

from recipec.frontend import compile_recipe
from recipec_testutil import compile_text

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples" / "recipes").glob("*.yaml"))
SEED = REPO / "examples" / "recipes" / "yolov5s_transfer_pruned_quantized.yaml"
# The findings an example keeps on purpose (its comments say why); every other example is clean.
EXPECTED = {
    SEED.name: {"RC401"},
    "yolov5s_transfer_pruned_quantized_ort.yaml": {"RC401", "RC114"},  # int8_graph: a recipec extension
}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_lint_clean(path):
    res = compile_recipe(path)
    assert res.ok, [str(d.span) + " " + d.message for d in res.errors]
    warnings = {d.code for d in res.diagnostics}
    assert warnings == EXPECTED.get(path.name, set())


def test_expected_findings_name_real_examples():
    assert set(EXPECTED) <= {p.name for p in EXAMPLES}


def test_ort_example_is_the_seed_with_int8_graph_and_a_float_stem():
    """The onnxruntime example differs from the seed only in its QuantizationModifier."""
    seed, ort = compile_recipe(SEED).recipe, compile_recipe(SEED.with_name(
        "yolov5s_transfer_pruned_quantized_ort.yaml")).recipe
    assert seed.modifiers[:-1] == ort.modifiers[:-1]
    q = ort.modifiers[-1]
    assert q.int8_graph is True and q.legacy and q.start_epoch == seed.modifiers[-1].start_epoch
    assert q.submodules == [f"model.{i}" for i in range(1, 24)]  # stem model.0 and Detect model.24 float


def test_seed_ir():
    r = compile_recipe(SEED).recipe
    kinds = [m.kind for m in r.modifiers]
    assert kinds == ["EpochRangeModifier"] + ["LearningRateFunctionModifier"] * 3 + [
        "SetLearningRateModifier", "ConstantPruningModifier", "QuantizationModifier"]
    q = r.modifiers[-1]
    assert q.submodules == [f"model.{i}" for i in range(24)] and q.legacy and q.start_epoch == 50.0
    assert r.modifiers[5].params == "__ALL_PRUNABLE__"
    assert r.modifiers[0].group == "training_modifiers" and r.modifiers[0].stage is None
    assert r.version == "1.1.0" and len(r.sha256) == 64 and r.text.startswith("# Sparse")
    assert r.variables["quantization_start_epoch"].value == 50
    assert r.variables["quantization_start_epoch"].depends_on == ("num_epochs", "qat_epochs")
    assert r.max_epochs == 52.0 and r.epoch_range == (0.0, 52.0)


def test_override_moves_every_dependent_value():
    r = compile_recipe(SEED, overrides={"num_epochs": 30}).recipe
    assert r.modifiers[0].end_epoch == 30.0
    assert r.modifiers[4].start_epoch == 28.0 and r.modifiers[-1].start_epoch == 28.0
    assert r.variables["num_epochs"].overridden
    deps = r.dependents("num_epochs")
    assert (0, "end_epoch") in deps and (6, "start_epoch") in deps
    # start epochs that do not follow num_epochs (what `plan --epochs` reports as fixed)
    assert (0, "start_epoch") in r.fixed_values("num_epochs")
    assert (6, "start_epoch") not in r.fixed_values("num_epochs")


def test_unknown_override_lists_variables():
    res = compile_recipe(SEED, overrides={"epochs": 3})
    d = next(d for d in res.diagnostics if d.code == "RC215")
    assert "num_epochs" in d.help and not res.ok


def test_override_does_not_reach_alias_sites():
    src = "n: &n 10\nm_modifiers:\n  - !EpochRangeModifier\n    start_epoch: 0.0\n    end_epoch: *n\n"
    res = compile_text(src, overrides={"n": 20})
    assert [(d.code, d.span.line, d.span.col) for d in res.diagnostics] == [("RC216", 5, 16)]
    assert res.recipe.modifiers[0].end_epoch == 10.0  # SparseML semantics: the alias keeps the value


def test_variables_in_any_order_and_pass_through():
    src = ("a: eval(b * 2)\nb: eval(c + 1)\nc: 3\nnames: [model.0.conv.weight]\nm_modifiers:\n"
           "  - !ConstantPruningModifier\n    params: eval(names)\n    start_epoch: eval(a)\n")
    res = compile_text(src)
    assert res.ok, res.diagnostics
    m = res.recipe.modifiers[0]
    assert m.start_epoch == 8.0 and m.params == ["model.0.conv.weight"]
    assert m.field_deps["start_epoch"] == ("a", "b", "c")


def test_markdown_front_matter_positions(tmp_path):
    p = tmp_path / "card.md"
    p.write_text("<!-- licence -->\n\n---\nm_modifiers:\n  - !EpochRangeModifier\n    start_epoch: 0\n"
                 "    end_epoch: -5\n---\n\n# Title\n\nText with --- in it.\n")
    res = compile_recipe(p)
    assert [(d.code, d.span.line, d.span.col) for d in res.diagnostics] == [("RC303", 7, 16)]


def test_staged_recipe():
    src = ("n: 10\ns1_stage:\n  lr: 0.1\n  a_modifiers:\n    - !SetLearningRateModifier\n"
           "      learning_rate: eval(lr)\ns2_stage:\n  lr: 0.2\n  b_modifiers:\n    - !SetLearningRateModifier\n"
           "      learning_rate: eval(lr)\n      start_epoch: eval(n)\n")
    res = compile_text(src)
    assert res.ok, res.diagnostics
    r = res.recipe
    assert r.stages == ("s1_stage", "s2_stage")
    assert [(m.stage, m.learning_rate) for m in r.modifiers] == [("s1_stage", 0.1), ("s2_stage", 0.2)]
    assert "s1_stage.lr" in r.variables


def test_whole_document_modifier_and_list_document():
    assert compile_text("!ConstantPruningModifier\n  params: __ALL_PRUNABLE__\n").ok
    assert compile_text("- !ConstantPruningModifier\n  params: __ALL_PRUNABLE__\n").ok


def test_log_types_dropped_silently():
    res = compile_text("m_modifiers:\n  - !ConstantPruningModifier\n    params: __ALL_PRUNABLE__\n"
                       "    log_types: __ALL__\n")
    assert res.ok and {d.code for d in res.diagnostics} == {"RC404"}


def test_never_raises_on_garbage():
    for text in ["\x00\x01", "{", "m_modifiers: !!binary aGVsbG8=", "? [a]\n: b", "a: !Foo 1", "*a", "&a"]:
        compile_text(text)
