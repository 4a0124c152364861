"""StructuredPruningModifier: gradual channel or filter pruning with tied `param_groups`.

Fields: `init_sparsity`, `final_sparsity`, `start_epoch`, `end_epoch`, `update_frequency`
(required), `param_groups` (lists of parameter names pruned together), `params`
(`__ALL_PRUNABLE__`), `leave_enabled` (True), `inter_func` ('cubic'), `mask_type` ('filter';
channel | filter). Not executed by `recipec train`.

Passes:  `- !StructuredPruningModifier {init_sparsity: 0.05, final_sparsity: 0.5, start_epoch: 0, end_epoch: 10, update_frequency: 1}`
Fails:   the same with `mask_type: unstructured`
"""

from dataclasses import dataclass

from recipec.modifiers.base import INTER_FUNCS, F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class StructuredPruningModifier(ModifierSpec):
    kind = "StructuredPruningModifier"
    category = "pruning"

    init_sparsity: object = F(kind="sparsity", required=True)
    final_sparsity: object = F(kind="sparsity", required=True)
    start_epoch: float | None = F(kind="epoch", required=True)
    end_epoch: float | None = F(kind="epoch", required=True)
    update_frequency: float | None = F(kind="float", required=True)
    param_groups: object = F(None, kind="any")
    params: object = F("__ALL_PRUNABLE__", kind="params")
    leave_enabled: bool = F(True, kind="bool")
    inter_func: str = F("cubic", kind="enum", choices=INTER_FUNCS)
    mask_type: str = F("filter", kind="enum", choices=("channel", "filter"))
