"""LayerPruningModifier: replace whole `layers` with identities at start; restore at end when end >= 0.

Fields: `layers` (required: module names, `__ALL__` or `__ALL_PRUNABLE__`), `start_epoch` (-1),
`end_epoch` (-1), `update_frequency` (ignored).

Passes:  `- !LayerPruningModifier {layers: [model.8.m.2], start_epoch: 0}`
Fails:   `- !LayerPruningModifier {start_epoch: 0}` (missing `layers`)
"""

from dataclasses import dataclass

from recipec.modifiers.base import F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class LayerPruningModifier(ModifierSpec):
    kind = "LayerPruningModifier"
    category = "pruning"

    layers: object = F(kind="params", required=True)
    start_epoch: float = F(-1.0, kind="epoch")
    end_epoch: float = F(-1.0, kind="epoch")
    update_frequency: object = F(None, kind="any", ignored=True)
