"""TopKASTPruningModifier: Top-KAST sparse training. Not executed by `recipec train`.

Fields: `forward_sparsity`, `backward_sparsity`, `start_epoch`, `end_epoch`, `update_frequency`,
`params` (required), `global_sparsity` (True), `leave_enabled` (True), `mask_type`
('unstructured'), `active_weight_decay` (1e-4).

Passes:  `- !TopKASTPruningModifier {forward_sparsity: 0.9, backward_sparsity: 0.8, start_epoch: 0, end_epoch: 10, update_frequency: 1, params: __ALL_PRUNABLE__}`
Fails:   the same without `backward_sparsity`
"""

from dataclasses import dataclass

from recipec.modifiers._pruning_window import PruningWindow
from recipec.modifiers.base import F


@dataclass(frozen=True, kw_only=True)
class TopKASTPruningModifier(PruningWindow):
    kind = "TopKASTPruningModifier"

    forward_sparsity: float | None = F(kind="float", required=True)
    backward_sparsity: float | None = F(kind="float", required=True)
    global_sparsity: bool = F(True, kind="bool")
    leave_enabled: bool = F(True, kind="bool")
    mask_type: object = F("unstructured", kind="mask_type")
    active_weight_decay: float = F(1e-4, kind="float")
