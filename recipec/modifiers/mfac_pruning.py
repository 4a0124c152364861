"""MFACPruningModifier: second-order (M-FAC) pruning. Known and checked; not executed by `recipec train`.

Fields: the magnitude family's plus `global_sparsity` (False), `use_gradient_buffering` (None),
`num_grads` (64, or `{sparsity: n}`), `damp` (1e-5), `grads_device` ('cpu'), `fisher_block_size`
(2000), `num_pages` (1), `available_devices` (None), `grad_sampler_kwargs` (None).

Passes:  `- !MFACPruningModifier {init_sparsity: 0.05, final_sparsity: 0.8, start_epoch: 0, end_epoch: 10, update_frequency: 1, params: __ALL_PRUNABLE__}`
Fails:   the same with `num_gradients: 64` (unknown field; it is `num_grads`)
"""

from dataclasses import dataclass

from recipec.modifiers._magnitude_fields import MagnitudeFields
from recipec.modifiers.base import F


@dataclass(frozen=True, kw_only=True)
class MFACPruningModifier(MagnitudeFields):
    kind = "MFACPruningModifier"

    global_sparsity: bool = F(False, kind="bool")
    use_gradient_buffering: object = F(None, kind="any")
    num_grads: object = F(64, kind="any")
    damp: float = F(1e-5, kind="float")
    grads_device: object = F("cpu", kind="any")
    fisher_block_size: int = F(2000, kind="int")
    num_pages: int = F(1, kind="int")
    available_devices: object = F(None, kind="any")
    grad_sampler_kwargs: object = F(None, kind="dict")
