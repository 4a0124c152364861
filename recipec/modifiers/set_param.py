"""SetParamModifier: at `start_epoch`, overwrite `params` with the value `val` (shapes must match).

Fields: `params` (required), `val` (required), `params_strict` (True), `start_epoch` (0.0),
`end_epoch` (forced to -1).

Passes:  `- !SetParamModifier {params: [model.24.m.0.bias], val: [0.0]}`
Fails:   `- !SetParamModifier {params: [model.24.m.0.bias]}` (missing `val`)
"""

from dataclasses import dataclass

from recipec.modifiers.base import F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class SetParamModifier(ModifierSpec):
    kind = "SetParamModifier"
    end_comparator = None

    params: object = F(kind="params", required=True)
    val: object = F(kind="any", required=True)
    params_strict: bool = F(True, kind="bool")
    start_epoch: float = F(0.0, kind="epoch")
    end_epoch: float = F(-1.0, kind="epoch", ignored=True)
