"""TrainableParamsModifier: freeze (or unfreeze) `params` at start; restore at end when end >= 0.

Fields: `params` (required), `trainable` (required bool), `params_strict` (True), `start_epoch` (-1),
`end_epoch` (-1).

Passes:  `- !TrainableParamsModifier {params: [model.0.conv.weight], trainable: false}`
Fails:   `- !TrainableParamsModifier {params: [model.0.conv.weight]}` (missing `trainable`)
"""

from dataclasses import dataclass

from recipec.modifiers.base import F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class TrainableParamsModifier(ModifierSpec):
    kind = "TrainableParamsModifier"

    params: object = F(kind="params", required=True)
    trainable: bool | None = F(kind="bool", required=True)
    params_strict: bool = F(True, kind="bool")
    start_epoch: float = F(-1.0, kind="epoch")
    end_epoch: float = F(-1.0, kind="epoch")
