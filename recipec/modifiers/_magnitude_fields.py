"""Fields shared by the gradual-magnitude family (GMP, Magnitude, GlobalMagnitude, Movement, MFAC, OBS), on top
of the pruning window (`_pruning_window.py`: start_epoch, end_epoch, update_frequency, params).

`init_sparsity` (float or `__FROM_PARAM__`) and `final_sparsity` (float in (0, 1), a list, or a
`{sparsity: [params]}` dict with `params: []`) are interpolated with `inter_func` (linear, cubic,
inverse_cubic) from `start_epoch` to `end_epoch`, recomputing masks every `update_frequency`
epochs. `leave_enabled` keeps masks after `end_epoch`. `mask_type`: unstructured, block4, "N:M",
tensorrt, or `[a, b]` blocks.
"""

from dataclasses import dataclass

from recipec.modifiers._pruning_window import PruningWindow
from recipec.modifiers.base import INTER_FUNCS, F


@dataclass(frozen=True, kw_only=True)
class MagnitudeFields(PruningWindow):
    init_sparsity: object = F(kind="sparsity", required=True)
    final_sparsity: object = F(kind="sparsity", required=True)
    leave_enabled: bool = F(True, kind="bool")
    inter_func: str = F("cubic", kind="enum", choices=INTER_FUNCS)
    mask_type: object = F("unstructured", kind="mask_type")
