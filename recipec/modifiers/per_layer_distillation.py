"""PerLayerDistillationModifier: MSE between projected student and teacher features. Not executed.

Fields: `start_epoch` (-1), `end_epoch` (-1), `distill_output_keys`, `teacher_input_keys`,
`update_frequency` (-1, unused), `gain` (1.5), `normalize` (True), `student_layer_names`,
`teacher_layer_names` (None; equal lengths), `project_features` (True; adds an optimizer param
group), `epsilon` (1e-6).

Passes:  `- !PerLayerDistillationModifier {gain: 0.01, student_layer_names: [model.2], teacher_layer_names: [model.2]}`
Fails:   the same with `teacher_layer_names: []` (lengths differ)
"""

from dataclasses import dataclass

from recipec.modifiers.base import F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class PerLayerDistillationModifier(ModifierSpec):
    kind = "PerLayerDistillationModifier"
    category = "distillation"

    start_epoch: float = F(-1.0, kind="epoch")
    end_epoch: float = F(-1.0, kind="epoch")
    distill_output_keys: object = F(None, kind="any")
    teacher_input_keys: object = F(None, kind="any")
    update_frequency: float = F(-1.0, kind="float", ignored=True)
    gain: float = F(1.5, kind="float")
    normalize: bool = F(True, kind="bool")
    student_layer_names: list | None = F(None, kind="names")
    teacher_layer_names: list | None = F(None, kind="names")
    project_features: bool = F(True, kind="bool")
    epsilon: float = F(1e-6, kind="float")
