"""QuantSpec.from_modifier: a recipe's QuantizationModifier -> the QAT layout, with SparseML's semantics.

The recipes are compiled by the real front end (the object the engine receives), then mapped.
"""

from __future__ import annotations

import pytest

from conftest import REPO
from engine.quant.spec import QuantSpec
from recipec.frontend import compile_recipe

HEAD = "m_modifiers:\n  - !QuantizationModifier\n    start_epoch: 1.0\n"
IDIOM = ("    submodules: [model]\n    custom_quantizable_module_types: ['SiLU']\n"
         "    exclude_module_types: ['SiLU']\n    quantize_conv_activations: False\n")


def qspec(fields: str = "") -> QuantSpec:
    res = compile_recipe("q.yaml", text=HEAD + fields, model="none")
    assert res.ok, [d.message for d in res.errors]
    (mod,) = res.recipe.by_kind("QuantizationModifier")
    return QuantSpec.from_modifier(mod)


def test_sparseml_defaults_quantize_conv_outputs():
    s = qspec()
    assert s.quantize_conv_activations and not s.quantize_silu
    assert s.submodules is None and s.exclude_module_types == () and (s.activation_bits, s.weight_bits) == (8, 8)


def test_yolov5_idiom_quantizes_conv_outputs_once():
    """SiLU as a custom quantizable type: SparseML's SiLU input quantizer sits on the conv output."""
    s = qspec(IDIOM)
    assert s.quantize_conv_activations and not s.quantize_silu
    assert s.submodules == ("model",) and s.exclude_module_types == ("SiLU",)


def test_conv_activations_off_without_silu_is_inputs_only():
    assert not qspec("    quantize_conv_activations: False\n").quantize_conv_activations
    s = qspec("    quantize_conv_activations: False\n    custom_quantizable_module_types: [Hardswish]\n")
    assert not s.quantize_conv_activations


def test_silu_as_a_bare_string_counts():
    s = qspec("    quantize_conv_activations: False\n    custom_quantizable_module_types: SiLU\n")
    assert s.quantize_conv_activations


def test_tensorrt_forces_conv_activations_off_unless_silu_is_wrapped():
    assert not qspec("    tensorrt: True\n").quantize_conv_activations
    assert qspec("    tensorrt: True\n    custom_quantizable_module_types: [SiLU]\n").quantize_conv_activations


@pytest.mark.parametrize("extra", ["", "    submodules: [model.1, model.2]\n", IDIOM])
def test_int8_graph_selects_quantize_silu(extra):
    s = qspec(extra + "    int8_graph: true\n")
    assert s.quantize_silu and s.quantize_conv_activations
    assert QuantSpec.from_dict(s.to_dict()) == s  # checkpoints keep the field name quantize_silu
    assert not qspec(extra + "    int8_graph: false\n").quantize_silu


def test_bits_and_submodules_pass_through():
    s = qspec("    submodules: [model.1, model.2]\n    activation_bits: 6\n    weight_bits: 4\n")
    assert s.submodules == ("model.1", "model.2") and (s.activation_bits, s.weight_bits) == (6, 4)


def test_duck_typed_spec_takes_sparseml_defaults():
    """An object without the legacy fields (getattr fallback) gets SparseML's defaults."""
    class Bare:
        start_epoch = 0.0

    s = QuantSpec.from_modifier(Bare())
    assert s.quantize_conv_activations and not s.quantize_silu and s.submodules is None


def test_sparseml_yolov5_recipes_quantize_conv_outputs(external_dir):
    """Every QuantizationModifier of SparseML's YOLOv5 recipes (idiom or defaults) quantizes conv outputs."""
    files = sorted((external_dir / "recipes").glob("*.md"))
    mods = [m for f in files for m in compile_recipe(f, model="none").recipe.by_kind("QuantizationModifier")]
    assert mods and any("SiLU" in (m.custom_quantizable_module_types or ()) for m in mods)
    assert all(QuantSpec.from_modifier(m).quantize_conv_activations for m in mods)


def test_idiom_builds_one_output_quantizer_per_conv_block():
    """Prepared with the idiom's spec, a Conv-BN-SiLU block has its input fake-quant and one conv-output
    fake-quant, and nothing on the SiLU (its input quantizer IS the conv-output one)."""
    from torch import nn

    from engine.quant import QATConvBn, prepare_qat

    class Conv(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn, self.act = nn.Conv2d(4, 4, 3, 1, 1, bias=False), nn.BatchNorm2d(4), nn.SiLU()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = nn.Sequential(Conv(), Conv())

    def blocks(spec):
        return [b for b in prepare_qat(Net(), spec).modules() if isinstance(b, QATConvBn)]

    idiom = blocks(qspec(IDIOM))
    assert len(idiom) == 2
    for b in idiom:
        assert b.aq is not None and b.oq is not None and b.sq is None and b.mq is None
        assert isinstance(b.act, nn.SiLU)
    inputs_only = blocks(qspec("    quantize_conv_activations: False\n"))
    assert len(inputs_only) == 2 and all(b.aq is not None and b.oq is None for b in inputs_only)


def test_ort_example_recipe_maps_to_int8_graph_with_float_stem():
    path = REPO / "examples" / "recipes" / "yolov5s_transfer_pruned_quantized_ort.yaml"
    (mod,) = compile_recipe(path, model="none").recipe.by_kind("QuantizationModifier")
    s = QuantSpec.from_modifier(mod)
    assert s.quantize_silu and s.quantize_conv_activations
    assert s.submodules == tuple(f"model.{i}" for i in range(1, 24))
