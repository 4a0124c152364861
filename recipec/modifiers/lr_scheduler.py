"""LearningRateModifier: sets every group's LR to `init_lr` at start, then steps a torch scheduler.

Fields: `lr_class` (required: StepLR | MultiStepLR | ExponentialLR | CosineAnnealingWarmRestarts),
`lr_kwargs` (required dict: StepLR needs gamma + step_size, MultiStepLR gamma + milestones,
CosineAnnealingWarmRestarts lr_min + cycle_epochs), `init_lr` (required, in (0, 1]),
`start_epoch` (required), `end_epoch` (-1), `update_frequency` (must stay -1), `constant_logging`.
ExponentialLR is applied as a per-epoch StepLR (SparseML rewrites it so).

Passes:  `- !LearningRateModifier {start_epoch: 0, lr_class: StepLR, lr_kwargs: {gamma: 0.1, step_size: 30}, init_lr: 0.1}`
Fails:   the same without `step_size` in `lr_kwargs`
"""

from dataclasses import dataclass

from recipec.modifiers.base import LR_CLASSES, F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class LearningRateModifier(ModifierSpec):
    kind = "LearningRateModifier"
    category = "learning_rate"
    runnable = True

    lr_class: str | None = F(kind="enum", required=True, choices=LR_CLASSES)
    lr_kwargs: dict | None = F(kind="dict", required=True)
    init_lr: float | None = F(kind="float", required=True)
    start_epoch: float | None = F(kind="epoch", required=True)
    end_epoch: float = F(-1.0, kind="epoch")
    update_frequency: float = F(-1.0, kind="float")
    constant_logging: bool = F(False, kind="bool")
