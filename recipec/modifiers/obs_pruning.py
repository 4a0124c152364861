"""OBSPruningModifier: Optimal Brain Surgeon pruning. Known and checked; not executed by `recipec train`.

Fields: the magnitude family's plus `global_sparsity` (True), `num_grads` (1024), `damp` (1e-7),
`fisher_block_size` (1; a multiple of 4 with `mask_type: block4`), `grad_sampler_kwargs` (None),
`num_recomputations` (1).

Passes:  `- !OBSPruningModifier {init_sparsity: 0.7, final_sparsity: 0.9, start_epoch: 0, end_epoch: 10, update_frequency: 2, params: __ALL_PRUNABLE__, fisher_block_size: 50}`
Fails:   the same with `mask_type: block4` (50 is not a multiple of 4)
"""

from dataclasses import dataclass

from recipec.modifiers._magnitude_fields import MagnitudeFields
from recipec.modifiers.base import F


@dataclass(frozen=True, kw_only=True)
class OBSPruningModifier(MagnitudeFields):
    kind = "OBSPruningModifier"

    global_sparsity: bool = F(True, kind="bool")
    num_grads: object = F(1024, kind="any")
    damp: float = F(1e-7, kind="float")
    fisher_block_size: int = F(1, kind="int")
    grad_sampler_kwargs: object = F(None, kind="dict")
    num_recomputations: int = F(1, kind="int")
