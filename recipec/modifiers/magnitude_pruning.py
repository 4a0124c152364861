"""MagnitudePruningModifier: layer-wise gradual magnitude pruning (GMPruningModifier without extras).

Fields: the magnitude family's (see `_magnitude_fields`).

Passes:  `- !MagnitudePruningModifier {init_sparsity: 0.05, final_sparsity: 0.8, start_epoch: 0, end_epoch: 10, update_frequency: 0.5, params: ["re:model.*.conv.weight"]}`
Fails:   the same with `init_sparsity: 1.5`
"""

from dataclasses import dataclass

from recipec.modifiers._magnitude_fields import MagnitudeFields


@dataclass(frozen=True, kw_only=True)
class MagnitudePruningModifier(MagnitudeFields):
    kind = "MagnitudePruningModifier"
    runnable = True
