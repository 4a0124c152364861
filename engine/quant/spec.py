"""QuantSpec: pure-data QAT configuration (what to quantize, how), separate from the modules it builds.

Built by the engine from a recipe's (legacy) QuantizationModifier with `QuantSpec.from_modifier(spec)`,
or directly. Serialised with `to_dict()` (stored in checkpoints next to the QAT state, with `version`).

Numerics (fixed, stated here once):
- weights: per output channel, symmetric, signed int8 in **[-127, 127]** (zero point 0; the -128 code is
  never used so +w and -w quantize symmetrically; ONNX int8 holds it as is);
- activations: per tensor, asymmetric, uint8 [0, 255], EMA min/max observer (averaging constant 0.01,
  the range always includes 0 so that zero is exact);
- gradients: straight-through (inside the clamp range).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SPEC_VERSION = 1


@dataclass(frozen=True)
class QuantSpec:
    """What `prepare_qat` does. Field names follow SparseML's legacy QuantizationModifier.

    - `submodules`: module-name prefixes to quantize (dot-aware: `model.2` covers `model.2.cv1`, not
      `model.24`); None = whole model. `['model.0', ..., 'model.23']` leaves the Detect head float.
    - `exclude_module_types`: class names never quantized (e.g. `Add` to keep residual adds float,
      `Conv2d` to skip bare convs). `SiLU` is accepted and is a no-op (activations run in float).
    - `quantize_conv_activations`: True adds a conv-output fake-quant to each quantized conv's input
      fake-quant. A recipe's YOLOv5 idiom (`custom_quantizable_module_types: ['SiLU']`) maps to True:
      SparseML's SiLU input quantizer sits on the conv output (see `from_modifier`). False (the
      dataclass default, set directly) = conv inputs only: no fake-quant on conv outputs.
    - `quantize_add_inputs`: fake-quantize both inputs of each residual `Add`.
    - `quantize_silu`: the "int8 graph" layout, for runtimes that fuse QDQ groups (onnxruntime): every
      quantized conv block fake-quantizes its conv output, its sigmoid output and its SiLU output
      (SiLU = y * sigmoid(y), so the runtime builds QLinearConv -> QLinearSigmoid -> QLinearMul), the
      residual `Add` quantizes its output too, and a tensor that is already quantized (the output of such
      a block / add) is not quantized again at the next input. Default False (the SparseML idiom); a
      recipe selects it with QuantizationModifier's `int8_graph: true` (a recipec extension, RC114); see
      docs/export.md for the speed / training-cost trade-off.
    """

    submodules: tuple[str, ...] | None = None
    exclude_module_types: tuple[str, ...] = ()
    quantize_conv_activations: bool = False
    quantize_add_inputs: bool = True
    quantize_silu: bool = False
    activation_bits: int = 8
    weight_bits: int = 8
    averaging_constant: float = 0.01
    version: int = field(default=SPEC_VERSION)

    def __post_init__(self) -> None:
        if not 2 <= self.activation_bits <= 8 or not 2 <= self.weight_bits <= 8:
            raise ValueError("activation_bits and weight_bits must be in [2, 8]")
        if not 0.0 < self.averaging_constant <= 1.0:
            raise ValueError("averaging_constant must be in (0, 1]")

    @property
    def act_range(self) -> tuple[int, int]:
        return 0, 2 ** self.activation_bits - 1

    @property
    def weight_range(self) -> tuple[int, int]:
        q = 2 ** (self.weight_bits - 1) - 1
        return -q, q

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["submodules"] = list(self.submodules) if self.submodules is not None else None
        d["exclude_module_types"] = list(self.exclude_module_types)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "QuantSpec":
        if d.get("version", SPEC_VERSION) != SPEC_VERSION:
            raise ValueError(f"unsupported QuantSpec version {d.get('version')!r} (expected {SPEC_VERSION})")
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if known.get("submodules") is not None:
            known["submodules"] = tuple(known["submodules"])
        known["exclude_module_types"] = tuple(known.get("exclude_module_types") or ())
        return cls(**known)

    @classmethod
    def from_modifier(cls, mod: Any) -> "QuantSpec":
        """From a recipe's (legacy) QuantizationModifier spec, with SparseML's semantics.

        Fields are read with getattr; an absent (or None) field takes SparseML's default.
        - Conv outputs are fake-quantized when `quantize_conv_activations` is true (SparseML's default:
          the conv's own output observer) OR `SiLU` is in `custom_quantizable_module_types` (the YOLOv5
          idiom: SparseML wraps every SiLU in a QuantWrapper that fake-quantizes its *input*, i.e. the
          (BN-folded) conv output, while SiLU itself runs in float). Both quantizers would sit on the same
          tensor, so they are modelled as ONE fake-quant: each Conv->SiLU boundary gets exactly one Q/DQ,
          with or without `quantize_conv_activations`. Only a recipe that turns conv activations off and
          lists no SiLU gets conv-input quantization alone.
        - `tensorrt: true` forces `quantize_conv_activations` off (as in SparseML; its symmetric int8
          activations are not modelled).
        - `exclude_module_types: ['SiLU']` is kept and is a no-op: SiLU has no output quantizer either way.
        - recipec's extension field `int8_graph` maps to `quantize_silu` (the name checkpoints store).
        """
        def get(name, default):
            v = getattr(mod, name, None)
            return default if v is None else v
        subs = getattr(mod, "submodules", None)
        custom = get("custom_quantizable_module_types", ())
        custom = (custom,) if isinstance(custom, str) else tuple(custom)
        conv_acts = bool(get("quantize_conv_activations", True)) and not bool(get("tensorrt", False))
        return cls(
            submodules=tuple(subs) if subs else None,
            exclude_module_types=tuple(get("exclude_module_types", ())),
            quantize_conv_activations=conv_acts or "SiLU" in custom,
            quantize_silu=bool(get("int8_graph", False)),
            activation_bits=int(get("activation_bits", 8)),
            weight_bits=int(get("weight_bits", 8)),
        )
