"""SetLearningRateModifier: once, at `start_epoch`, set the LR of `param_groups` (all when None).

Fields: `learning_rate` (required, in (0, 1]), `param_groups` (None = all), `start_epoch` (-1 = first
step), `end_epoch` (accepted, ignored: forced to -1), `constant_logging`.

Passes:  `- !SetLearningRateModifier {start_epoch: 50, learning_rate: 2.e-6}`
Fails:   `- !SetLearningRateModifier {start_epoch: 50, learning_rate: 0}` (must be > 0)
"""

from dataclasses import dataclass

from recipec.modifiers.base import F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class SetLearningRateModifier(ModifierSpec):
    kind = "SetLearningRateModifier"
    category = "learning_rate"
    runnable = True
    end_comparator = None

    learning_rate: float | None = F(kind="float", required=True)
    param_groups: list | None = F(kind="param_groups")
    start_epoch: float = F(-1.0, kind="epoch")
    end_epoch: float = F(-1.0, kind="epoch", ignored=True)
    constant_logging: bool = F(False, kind="bool")
