"""GMPruningModifier: gradual magnitude pruning from `init_sparsity` to `final_sparsity`.

Fields: the magnitude family's (see `_magnitude_fields`) plus `global_sparsity` (False; prefer
GlobalMagnitudePruningModifier), `phased` (False; True is refused upstream), `score_type`
('magnitude'; anything else is refused upstream).

Passes:  `- !GMPruningModifier {init_sparsity: 0.05, final_sparsity: 0.8, start_epoch: 4, end_epoch: 40, update_frequency: 1.0, params: __ALL_PRUNABLE__}`
Fails:   the same with `final_sparsity: 1.0` (must be below 1)
"""

from dataclasses import dataclass

from recipec.modifiers._magnitude_fields import MagnitudeFields
from recipec.modifiers.base import F


@dataclass(frozen=True, kw_only=True)
class GMPruningModifier(MagnitudeFields):
    kind = "GMPruningModifier"
    runnable = True

    global_sparsity: bool = F(False, kind="bool")
    phased: bool = F(False, kind="bool")
    score_type: str = F("magnitude", kind="str")
