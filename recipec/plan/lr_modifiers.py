"""LR ops (see `lr_ops.py`) of LearningRateFunctionModifier and SetLearningRateModifier.

* LearningRateFunctionModifier writes `f(e_i)` to its `param_groups` (all when None) on every
  step from the first `e_i >= start_epoch` through the first `e_i >= end_epoch`, inclusive; the
  group then keeps the last value (which is extrapolated past `final_lr` when the end is off
  the step grid) until another modifier writes it.
* SetLearningRateModifier writes `learning_rate` once, at the first step with
  `e_i >= start_epoch` (step 0 for -1). It has no end: its value lasts only until another
  modifier writes the same group, often the very next step.
"""

from __future__ import annotations

import numpy as np

from recipec.plan.clock import epoch_array
from recipec.plan.lr_functions import lr_function_array
from recipec.plan.lr_ops import LrWrite
from recipec.plan.windows import end_step, start_step


def _groups(param_groups) -> tuple[int, ...] | None:
    """None (all groups) for a missing or empty list: SparseML tests `not param_groups`."""
    if not param_groups:
        return None
    return tuple(int(g) for g in param_groups)


def lr_function_window(start_epoch: float, end_epoch: float, steps_per_epoch: int,
                       total_steps: int) -> tuple[int, int] | None:
    """(first, last) step this function writes within the run, or None when it never starts."""
    a = start_step(start_epoch, steps_per_epoch)
    if a >= total_steps:
        return None
    b = end_step(start_epoch, end_epoch, steps_per_epoch)
    last = total_steps - 1 if b is None else min(b, total_steps - 1)
    return a, last


def lr_function_ops(
    lr_func: str, init_lr: float, final_lr: float, start_epoch: float, end_epoch: float,
    steps_per_epoch: int, total_steps: int, *, param_groups=None, cycle_epochs: float = 1.0,
    rank: int = 0, epochs: np.ndarray | None = None,
) -> list[LrWrite]:
    """The writes of one LearningRateFunctionModifier (`rank` = its manager position)."""
    win = lr_function_window(start_epoch, end_epoch, steps_per_epoch, total_steps)
    if win is None:
        return []
    a, b = win
    e = epochs[a: b + 1] if epochs is not None else epoch_array(b + 1, steps_per_epoch)[a:]
    vals = lr_function_array(lr_func, e, start_epoch, end_epoch, init_lr, final_lr,
                             cycle_epochs, steps_per_epoch)
    return [LrWrite(a, vals, _groups(param_groups), (rank, 0))]


def set_lr_step(start_epoch: float, steps_per_epoch: int) -> int:
    """The one step at which a SetLearningRateModifier writes."""
    return start_step(start_epoch, steps_per_epoch)


def set_lr_ops(
    learning_rate: float, start_epoch: float, steps_per_epoch: int, total_steps: int, *,
    param_groups=None, rank: int = 0,
) -> list[LrWrite]:
    """The single write of one SetLearningRateModifier (none when it fires after the run)."""
    i = set_lr_step(start_epoch, steps_per_epoch)
    if i >= total_steps:
        return []
    return [LrWrite(i, np.array([float(learning_rate)]), _groups(param_groups), (rank, 0))]
