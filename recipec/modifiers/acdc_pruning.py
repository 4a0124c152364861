"""ACDCPruningModifier: alternating compressed/decompressed (AC/DC) phases. Not executed by `recipec train`.

Fields: `compression_sparsity`, `start_epoch`, `end_epoch`, `update_frequency`, `params`
(required; epochs and frequency integer-valued), `global_sparsity` (True), `leave_enabled` (True),
`momentum_buffer_reset` (True), `mask_type` ('unstructured').

Passes:  `- !ACDCPruningModifier {compression_sparsity: 0.9, start_epoch: 0, end_epoch: 100, update_frequency: 5, params: __ALL_PRUNABLE__}`
Fails:   the same with `update_frequency: 2.5` (must be an integer)
"""

from dataclasses import dataclass

from recipec.modifiers._pruning_window import PruningWindow
from recipec.modifiers.base import F


@dataclass(frozen=True, kw_only=True)
class ACDCPruningModifier(PruningWindow):
    kind = "ACDCPruningModifier"

    compression_sparsity: float | None = F(kind="float", required=True)
    global_sparsity: bool = F(True, kind="bool")
    leave_enabled: bool = F(True, kind="bool")
    momentum_buffer_reset: bool = F(True, kind="bool")
    mask_type: object = F("unstructured", kind="mask_type")
