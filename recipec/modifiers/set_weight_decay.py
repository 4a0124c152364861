"""SetWeightDecayModifier: once, at `start_epoch`, set `weight_decay` on `param_groups` (None = all).

Fields: `weight_decay` (required), `start_epoch` (-1), `param_groups`, `end_epoch` (forced to -1),
`constant_logging`.

Passes:  `- !SetWeightDecayModifier {start_epoch: 0, weight_decay: 5.e-5}`
Fails:   `- !SetWeightDecayModifier {start_epoch: 0}` (missing `weight_decay`)
"""

from dataclasses import dataclass

from recipec.modifiers.base import F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class SetWeightDecayModifier(ModifierSpec):
    kind = "SetWeightDecayModifier"
    category = "regularization"
    runnable = True
    end_comparator = None

    weight_decay: float | None = F(kind="float", required=True)
    start_epoch: float = F(-1.0, kind="epoch")
    param_groups: list | None = F(kind="param_groups")
    end_epoch: float = F(-1.0, kind="epoch", ignored=True)
    constant_logging: bool = F(False, kind="bool")
