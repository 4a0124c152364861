"""ConstantPruningModifier: hold the zeros present at `start_epoch` (mask = weight != 0).

The mask is enforced on the forward pass, on gradients and after every optimizer step until
`end_epoch` (-1 = for the whole run). The transfer-learning idiom is `params: __ALL_PRUNABLE__`.

Fields: `params` (required), `start_epoch` (-1), `end_epoch` (-1), `update_frequency` (ignored).

Passes:  `- !ConstantPruningModifier {start_epoch: 0.0, params: __ALL_PRUNABLE__}`
Fails:   `- !ConstantPruningModifier {start_epoch: 0.0, params: all}` (unsupported string)
"""

from dataclasses import dataclass

from recipec.modifiers.base import F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class ConstantPruningModifier(ModifierSpec):
    kind = "ConstantPruningModifier"
    category = "pruning"
    runnable = True

    params: object = F(kind="params", required=True)
    start_epoch: float = F(-1.0, kind="epoch")
    end_epoch: float = F(-1.0, kind="epoch")
    update_frequency: float = F(-1.0, kind="float", ignored=True)
