"""PowerpropagationModifier: reparametrise Linear/Conv weights as w*|w|^(alpha-1). Not executed.

Fields: `params` (required), `start_epoch` (-1), `end_epoch` (-1), `alpha` (1.0), `strict` (True).

Passes:  `- !PowerpropagationModifier {params: __ALL_PRUNABLE__, start_epoch: 0, end_epoch: 10, alpha: 2.0}`
Fails:   `- !PowerpropagationModifier {start_epoch: 0}` (missing `params`)
"""

from dataclasses import dataclass

from recipec.modifiers.base import F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class PowerpropagationModifier(ModifierSpec):
    kind = "PowerpropagationModifier"
    category = "pruning"

    params: object = F(kind="params", required=True)
    start_epoch: float = F(-1.0, kind="epoch")
    end_epoch: float = F(-1.0, kind="epoch")
    alpha: float = F(1.0, kind="float")
    strict: bool = F(True, kind="bool")
