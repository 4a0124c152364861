"""The pruning window every scheduled pruning kind shares: when it acts and on which parameters.

`start_epoch` and `end_epoch` bound the window, `update_frequency` (epochs) spaces the mask updates
inside it, `params` names the parameters (a list of names or `re:` patterns, `__ALL__`,
`__ALL_PRUNABLE__`). All four are required, as in SparseML. Used by the gradual-magnitude family
(`_magnitude_fields.py`), ACDC, RigL and TopKAST.
"""

from dataclasses import dataclass

from recipec.modifiers.base import F, ModifierSpec


@dataclass(frozen=True, kw_only=True)
class PruningWindow(ModifierSpec):
    category = "pruning"

    start_epoch: float | None = F(kind="epoch", required=True)
    end_epoch: float | None = F(kind="epoch", required=True)
    update_frequency: float | None = F(kind="float", required=True)
    params: object = F(kind="params", required=True)
