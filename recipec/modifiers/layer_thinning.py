"""LayerThinningModifier: physically remove pruned channels/filters. Not executed by `recipec train`.

Fields: `param_group_dependency_map` (required dict), `structure_type` ('filter' | 'channel'),
`start_epoch` (-1), `update_epochs` (None; unique and sorted), `strict` (True), `end_epoch` (-1).

Passes:  `- !LayerThinningModifier {param_group_dependency_map: {"a.weight": ["b.weight"]}, start_epoch: 5}`
Fails:   the same with `structure_type: block`
"""

from dataclasses import dataclass

from recipec.modifiers.base import F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class LayerThinningModifier(ModifierSpec):
    kind = "LayerThinningModifier"

    param_group_dependency_map: dict | None = F(kind="dict", required=True)
    structure_type: str = F("filter", kind="enum", choices=("filter", "channel"))
    start_epoch: float = F(-1.0, kind="epoch")
    update_epochs: object = F(None, kind="any")
    strict: bool = F(True, kind="bool")
    end_epoch: float = F(-1.0, kind="epoch")
