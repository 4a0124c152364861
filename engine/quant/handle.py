"""``QatHandle``: the verbs of ``engine.quant`` bound to one prepared model (what the loop and checkpoints call)."""

from __future__ import annotations

from typing import Any

from torch import nn

from engine.quant.qat import disable_observer, freeze_bn_stats, load_qat_state_dict, qat_state_dict


class QatHandle:
    """One QAT-prepared model: freeze its BN statistics or observers, save and restore its QAT state."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def freeze_bn_stats(self) -> None:
        freeze_bn_stats(self.model)

    def disable_observers(self) -> None:
        disable_observer(self.model)

    def state_dict(self) -> dict[str, Any]:
        return qat_state_dict(self.model)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        load_qat_state_dict(self.model, state)

    def float_state_dict(self) -> dict[str, Any]:
        """Float weights, ultralytics names (QAT buffers are non-persistent, BN not folded)."""
        return self.model.state_dict()
