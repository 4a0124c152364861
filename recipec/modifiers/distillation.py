"""DistillationModifier: add a KL distillation loss against a teacher's outputs. Not executed.

Fields: `start_epoch` (-1), `end_epoch` (-1), `distill_output_keys`, `teacher_input_keys` (None),
`update_frequency` (-1, unused), `hardness` (0.5), `temperature` (2.0).
Without a teacher model SparseML silently does nothing.

Passes:  `- !DistillationModifier {start_epoch: 0.0, hardness: 0.5, temperature: 2.0}`
Fails:   `- !DistillationModifier {start_epoch: 0.0, hardnes: 0.5}` (unknown field)
"""

from dataclasses import dataclass

from recipec.modifiers.base import F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class DistillationModifier(ModifierSpec):
    kind = "DistillationModifier"
    category = "distillation"

    start_epoch: float = F(-1.0, kind="epoch")
    end_epoch: float = F(-1.0, kind="epoch")
    distill_output_keys: object = F(None, kind="any")
    teacher_input_keys: object = F(None, kind="any")
    update_frequency: float = F(-1.0, kind="float", ignored=True)
    hardness: float = F(0.5, kind="float")
    temperature: float = F(2.0, kind="float")
