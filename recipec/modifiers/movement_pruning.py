"""MovementPruningModifier: gradual pruning by movement score (-w * grad accumulated).

Fields: the magnitude family's (see `_magnitude_fields`). Not executed by `recipec train`.

Passes:  `- !MovementPruningModifier {init_sparsity: 0.0, final_sparsity: 0.9, start_epoch: 0, end_epoch: 10, update_frequency: 1, params: __ALL_PRUNABLE__}`
Fails:   the same without `update_frequency`
"""

from dataclasses import dataclass

from recipec.modifiers._magnitude_fields import MagnitudeFields


@dataclass(frozen=True, kw_only=True)
class MovementPruningModifier(MagnitudeFields):
    kind = "MovementPruningModifier"
