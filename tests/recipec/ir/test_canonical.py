"""The canonical form (`recipec compile`) round-trips to the same IR."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO
from recipec.frontend import compile_recipe
from recipec.ir import canonical
from recipec_testutil import compile_text



def _round_trip(recipe):
    y = canonical.to_yaml(recipe)
    again = compile_recipe("canon.yaml", text=y)
    assert again.ok, [str(d) for d in again.errors]
    assert again.recipe.modifiers == recipe.modifiers
    assert again.recipe.version == recipe.version
    j = canonical.json_to_yaml(canonical.to_json(recipe))
    assert compile_recipe("canon.yaml", text=j).recipe.modifiers == recipe.modifiers
    assert canonical.to_yaml(again.recipe) == y  # canonical form is a fixed point


@pytest.mark.parametrize("path", sorted((REPO / "examples" / "recipes").glob("*.yaml")), ids=lambda p: p.name)
def test_examples(path):
    _round_trip(compile_recipe(path).recipe)


def test_sparseml_yolov5_recipes(external_dir):
    for p in sorted((external_dir / "recipes").glob("*.md")):
        _round_trip(compile_recipe(p).recipe)


def test_staged():
    src = ("s1_stage:\n  a_modifiers:\n    - !SetLearningRateModifier\n      learning_rate: 0.1\n"
           "s2_stage:\n  b_modifiers:\n    - !QuantizationModifier\n      start_epoch: 3\n"
           "      scheme: {weights: {num_bits: 4, symmetric: true}}\n")
    r = compile_text(src).recipe
    _round_trip(r)
    assert [m.stage for m in r.modifiers] == ["s1_stage", "s2_stage"]


finite = st.floats(0.0, 1000.0, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(start=finite, length=st.floats(0.5, 100.0), init=st.floats(0.0, 0.5), final=st.floats(0.51, 0.99),
       freq=st.floats(0.01, 0.5), inter=st.sampled_from(["linear", "cubic", "inverse_cubic"]),
       mask=st.sampled_from(["unstructured", "block4", "2:4", [1, 4]]),
       params=st.lists(st.sampled_from(["model.0.conv.weight", "model.2.cv1.conv.weight", "re:model\\.4\\..*"]),
                       min_size=1, max_size=3))
def test_random_gmp_round_trip(start, length, init, final, freq, inter, mask, params):
    from recipec.modifiers import REGISTRY

    spec = REGISTRY["GMPruningModifier"](
        init_sparsity=init, final_sparsity=final, start_epoch=start, end_epoch=start + length,
        update_frequency=freq, params=params, inter_func=inter, mask_type=mask, group="pruning_modifiers",
        given=frozenset({"init_sparsity", "final_sparsity", "start_epoch", "end_epoch", "update_frequency",
                         "params", "inter_func", "mask_type"}))
    data = {"version": None, "modifiers": [{"kind": spec.kind, "stage": None, "group": spec.group,
                                            "fields": {k: getattr(spec, k) for k in sorted(spec.given)}}]}
    again = compile_recipe("r.yaml", text=canonical.data_to_yaml(data), checks=False)
    assert again.ok, again.diagnostics
    assert again.recipe.modifiers[0] == spec
