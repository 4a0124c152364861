"""SparsificationLoggingModifier: logs per-layer sparsity and quantization info.

Fields: `start_epoch` (required), `end_epoch` (-1), `update_frequency` (1.0).

Passes:  `- !SparsificationLoggingModifier {start_epoch: 0.0}`
Fails:   `- !SparsificationLoggingModifier {}` (missing `start_epoch`)
"""

from dataclasses import dataclass

from recipec.modifiers.base import F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class SparsificationLoggingModifier(ModifierSpec):
    kind = "SparsificationLoggingModifier"

    start_epoch: float | None = F(kind="epoch", required=True)
    end_epoch: float = F(-1.0, kind="epoch")
    update_frequency: float = F(1.0, kind="float")
