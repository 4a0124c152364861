"""QuantizationModifier: quantization-aware training (fake quant) from `start_epoch` to the end.

SparseML has two classes behind this one tag. Any *legacy-only* field (`submodules`,
`quantize_*`, `*_bits`, `exclude_*`, `custom_quantizable_module_types`, `*_qconfig_kwargs`,
`reduce_range`, `tensorrt`; and recipec's `int8_graph`) selects the legacy class, which every
YOLOv5 zoo recipe uses; the current class takes `scheme`, `scheme_overrides`, `ignore`. Mixing
the two sets is an error. `spec.legacy` says which class the fields select.

Common fields: `start_epoch` (-1), `end_epoch` (-1; nothing else allowed),
`disable_quantization_observer_epoch`, `freeze_bn_stats_epoch` (None; not before start),
`model_fuse_fn_name`, `model_fuse_fn_kwargs`, `num_calibration_steps` (None).
Current: `scheme`, `scheme_overrides`, `ignore`, `strict` (True).
Legacy: `submodules` (None = whole model), `quantize_embeddings` (True), `reduce_range` (False),
`quantize_linear_activations`, `quantize_conv_activations`, `quantize_embedding_activations`
(True), `activation_bits`, `weight_bits` (8), `exclude_batchnorm` (True), `exclude_module_types`,
`custom_quantizable_module_types`, `activation_qconfig_kwargs`, `weight_qconfig_kwargs` (None),
`tensorrt` (False).

recipec extension (legacy class; SparseML rejects this field, recipec warns with RC114 and runs it):
`int8_graph` (False): also fake-quantize the sigmoid output and the product inside every SiLU and every
residual-add output, so the exported QDQ graph runs in int8 end to end on onnxruntime (QLinearConv ->
QLinearSigmoid -> QLinearMul, QLinearAdd); see docs/export.md for the speed / training-cost trade-off.

Passes:  `- !QuantizationModifier {start_epoch: 50, submodules: [model.0, model.1]}`
Fails:   `- !QuantizationModifier {start_epoch: 50, end_epoch: 52}` (end_epoch must be -1)
"""

from dataclasses import dataclass

from recipec.modifiers.base import F, ModifierSpec

LEGACY_ONLY = frozenset({
    "submodules", "quantize_embeddings", "reduce_range", "quantize_linear_activations",
    "quantize_conv_activations", "quantize_embedding_activations", "activation_bits", "weight_bits",
    "exclude_batchnorm", "exclude_module_types", "custom_quantizable_module_types",
    "activation_qconfig_kwargs", "weight_qconfig_kwargs", "tensorrt", "int8_graph",
})
CURRENT_ONLY = frozenset({"scheme", "scheme_overrides", "ignore", "strict"})


@dataclass(frozen=True, kw_only=True)
class QuantizationModifier(ModifierSpec):
    kind = "QuantizationModifier"
    category = "quantization"
    runnable = True

    start_epoch: float = F(-1.0, kind="epoch")
    end_epoch: float = F(-1.0, kind="epoch")
    disable_quantization_observer_epoch: float | None = F(None, kind="epoch")
    freeze_bn_stats_epoch: float | None = F(None, kind="epoch")
    model_fuse_fn_name: str | None = F(None, kind="str")
    model_fuse_fn_kwargs: dict | None = F(None, kind="dict")
    num_calibration_steps: int | None = F(None, kind="int")
    # current class
    scheme: object = F(None, kind="any")
    scheme_overrides: dict | None = F(None, kind="dict")
    ignore: list | None = F(None, kind="names")
    strict: bool = F(True, kind="bool")
    # legacy class
    submodules: list | None = F(None, kind="names")
    quantize_embeddings: bool = F(True, kind="bool")
    reduce_range: bool = F(False, kind="bool")
    quantize_linear_activations: bool = F(True, kind="bool")
    quantize_conv_activations: bool = F(True, kind="bool")
    quantize_embedding_activations: bool = F(True, kind="bool")
    activation_bits: int = F(8, kind="int")
    weight_bits: int = F(8, kind="int")
    exclude_batchnorm: bool = F(True, kind="bool")
    exclude_module_types: list | None = F(None, kind="names")
    custom_quantizable_module_types: list | None = F(None, kind="names")
    activation_qconfig_kwargs: dict | None = F(None, kind="dict")
    weight_qconfig_kwargs: dict | None = F(None, kind="dict")
    tensorrt: bool = F(False, kind="bool")
    # recipec extension (legacy class): the layout onnxruntime runs in int8 end to end
    int8_graph: bool = F(False, kind="bool", extension=True,
                         doc="also fake-quantize the sigmoid output and the product inside every SiLU and every "
                         "residual-add output, so the exported QDQ graph runs in int8 end to end on onnxruntime")

    @property
    def legacy(self) -> bool:
        """Whether the given fields select SparseML's legacy implementation."""
        return bool(self.given & LEGACY_ONLY)
