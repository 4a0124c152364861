"""LearningRateFunctionModifier: every step in [start, end), LR follows `lr_func` from init to final.

Fields: `lr_func` (required: linear | cosine | cyclic_linear), `init_lr`, `final_lr` (required, in
[0, 1]), `start_epoch`, `end_epoch` (required, end strictly after start), `cycle_epochs` (1.0, for
cyclic_linear), `param_groups` (None = all), `update_frequency` (accepted, forced to -1).

Passes:  `- !LearningRateFunctionModifier {start_epoch: 0, end_epoch: 2, lr_func: linear, init_lr: 0, final_lr: 0.01}`
Fails:   the same with `lr_func: constant` (not an allowed function)
"""

from dataclasses import dataclass

from recipec.modifiers.base import LR_FUNCS, F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class LearningRateFunctionModifier(ModifierSpec):
    kind = "LearningRateFunctionModifier"
    category = "learning_rate"
    runnable = True
    end_comparator = 1

    lr_func: str | None = F(kind="enum", required=True, choices=LR_FUNCS)
    init_lr: float | None = F(kind="float", required=True)
    final_lr: float | None = F(kind="float", required=True)
    start_epoch: float | None = F(kind="epoch", required=True)
    end_epoch: float | None = F(kind="epoch", required=True)
    cycle_epochs: float = F(1.0, kind="float")
    param_groups: list | None = F(kind="param_groups")
    update_frequency: float = F(-1.0, kind="float", ignored=True)
