"""GlobalMagnitudePruningModifier: gradual magnitude pruning with one threshold across all `params`.

Fields: the magnitude family's (see `_magnitude_fields`).

Passes:  `- !GlobalMagnitudePruningModifier {init_sparsity: 0.05, final_sparsity: 0.8, start_epoch: 0, end_epoch: 10, update_frequency: 0.5, params: __ALL_PRUNABLE__}`
Fails:   the same with `inter_func: quadratic`
"""

from dataclasses import dataclass

from recipec.modifiers._magnitude_fields import MagnitudeFields


@dataclass(frozen=True, kw_only=True)
class GlobalMagnitudePruningModifier(MagnitudeFields):
    kind = "GlobalMagnitudePruningModifier"
    runnable = True
