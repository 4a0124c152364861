"""RigLPruningModifier: sparse training that regrows weights by gradient. Not executed by `recipec train`.

Fields: `final_sparsity`, `start_epoch`, `end_epoch`, `update_frequency`, `params` (required),
`num_grads` (1), `leave_enabled` (True), `global_sparsity` (False; True is refused),
`momentum_buffer_reset` (True), `mask_type` ('unstructured'), `sparsity_strategy`
('erdos_renyi_kernel' | 'erdos_renyi' | 'uniform'), `init_update_fraction` (0.3),
`grad_sampler_kwargs` ({}).

Passes:  `- !RigLPruningModifier {final_sparsity: 0.9, start_epoch: 0, end_epoch: 50, update_frequency: 4, params: __ALL_PRUNABLE__}`
Fails:   the same with `sparsity_strategy: random`
"""

from dataclasses import dataclass

from recipec.modifiers._pruning_window import PruningWindow
from recipec.modifiers.base import F


@dataclass(frozen=True, kw_only=True)
class RigLPruningModifier(PruningWindow):
    kind = "RigLPruningModifier"

    final_sparsity: object = F(kind="sparsity", required=True)
    num_grads: int = F(1, kind="int")
    leave_enabled: bool = F(True, kind="bool")
    global_sparsity: bool = F(False, kind="bool")
    momentum_buffer_reset: bool = F(True, kind="bool")
    mask_type: object = F("unstructured", kind="mask_type")
    sparsity_strategy: str = F("erdos_renyi_kernel", kind="enum",
                               choices=("erdos_renyi_kernel", "erdos_renyi", "uniform"))
    init_update_fraction: float = F(0.3, kind="float")
    grad_sampler_kwargs: dict = F({}, kind="dict")
