"""GradualParamModifier: move `params` from `init_val` to `final_val` over [start, end).

Fields (all required): `params`, `init_val`, `final_val`, `start_epoch`, `end_epoch` (> start),
`update_frequency`; `inter_func` ('linear'; SparseML ignores it and always interpolates
linearly), `params_strict` (True).

Passes:  `- !GradualParamModifier {params: [a.weight], init_val: 0, final_val: 1, start_epoch: 0, end_epoch: 5, update_frequency: 1}`
Fails:   the same with `end_epoch: 0`
"""

from dataclasses import dataclass

from recipec.modifiers.base import INTER_FUNCS, F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class GradualParamModifier(ModifierSpec):
    kind = "GradualParamModifier"
    end_comparator = 1
    min_end = 0.0

    params: object = F(kind="params", required=True)
    init_val: object = F(kind="any", required=True)
    final_val: object = F(kind="any", required=True)
    start_epoch: float | None = F(kind="epoch", required=True)
    end_epoch: float | None = F(kind="epoch", required=True)
    update_frequency: float | None = F(kind="float", required=True)
    inter_func: str = F("linear", kind="enum", choices=INTER_FUNCS)
    params_strict: bool = F(True, kind="bool")
