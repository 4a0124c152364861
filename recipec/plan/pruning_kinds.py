"""Target sparsity of the pruning modifiers that are not GMP-style, and per-group targets.

Every pruning modifier updates on the same clock as GMP (`pruning.update_steps`: the first step
with `e >= start_epoch`, then every `update_frequency` epochs from the actual epoch of the last
update, and the end update); what differs is the value computed at an update at epoch e:

* GMP, Magnitude, GlobalMagnitude, Movement, MFAC, OBS, Structured: SparseML's `interpolate`
  between init and final (`pruning.interpolate_sparsity`).
* ACDCPruningModifier (SparseML 1.8): phase `n = floor((e - start) / update_frequency)`; an even
  phase is dense (0.0) unless it is the last one (`end - update_frequency <= e`), an odd phase is
  compressed (`compression_sparsity`); the end update compresses. So it alternates 0 and
  compression_sparsity every update_frequency epochs and ends compressed.
* RigLPruningModifier: final_sparsity at every update (its per-layer split, Erdos-Renyi by
  default, depends on the model and is not shown); TopKASTPruningModifier: forward_sparsity.
* ConstantPruningModifier and LayerPruningModifier have no target (they keep what is there).

Per-group targets: a `final_sparsity` mapping `{0.9: [...], 0.95: [...]}` prunes each key's
parameters to that key, in the mapping's order (SparseML's); a list gives one per entry. Each
group follows the same progress y as the modifier: `init` at y <= eps, its own final at
y >= 1 - eps, `y * (final - init) + init` between.
"""

from __future__ import annotations

import math

from recipec.plan.clock import epoch_at
from recipec.plan.pruning import update_steps


def _num(v):
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def group_finals(final) -> tuple[float, ...] | None:
    """The per-group final sparsities of a mapping or list `final_sparsity` (None for a number)."""
    if isinstance(final, dict):
        vals = [_num(k) for k in final]
    elif isinstance(final, (list, tuple)):
        vals = [_num(v) for v in final]
    else:
        return None
    return tuple(vals) if vals and all(v is not None for v in vals) else None


def acdc_sparsity(e: float, start: float, end: float, freq: float, compression: float) -> float:
    """AC/DC's target at an update at float epoch `e` (SparseML 1.8's rule)."""
    phase = math.floor((e - start) / freq)
    if phase % 2 == 0 and end - freq > e:
        return 0.0
    return compression


def acdc_updates(item, S: int, T: int) -> dict[int, float] | None:
    """Step -> target of an ACDCPruningModifier, None when its fields cannot be scheduled."""
    comp, freq = _num(item.get("compression_sparsity")), _num(item.get("update_frequency"))
    start, end = item.start_epoch, item.end_epoch
    if comp is None or freq is None or freq <= 0 or end < 0:
        return None
    return {u: acdc_sparsity(epoch_at(u, S), start, end, freq, comp)
            for u in update_steps(start, end, freq, S, T)}


CONSTANT_TARGET = {"RigLPruningModifier": "final_sparsity", "TopKASTPruningModifier": "forward_sparsity"}


def constant_updates(item, S: int, T: int) -> dict[int, float] | None:
    """Step -> target of RigL / TopKAST: the same value at every update."""
    field = CONSTANT_TARGET[item.kind]
    value = _num(item.get(field))
    freq = _num(item.get("update_frequency"))
    if value is None:
        return None
    return dict.fromkeys(update_steps(item.start_epoch, item.end_epoch, -1.0 if freq is None else freq, S, T),
                         value)
