"""EpochRangeModifier: no runtime effect; sets the run's epoch range (YOLOv5 takes `--epochs` from it).

Fields: `start_epoch` (required), `end_epoch` (required); `end_epoch >= start_epoch` or -1.

Passes:  `- !EpochRangeModifier {start_epoch: 0.0, end_epoch: eval(num_epochs)}`
Fails:   `- !EpochRangeModifier {start_epoch: 0.0, end_epoch: 50, update_frequency: 1}` (unknown field)
"""

from dataclasses import dataclass

from recipec.modifiers.base import F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class EpochRangeModifier(ModifierSpec):
    kind = "EpochRangeModifier"
    category = "epoch"
    runnable = True

    start_epoch: float | None = F(kind="epoch", required=True)
    end_epoch: float | None = F(kind="epoch", required=True)
