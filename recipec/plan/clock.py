"""The float epoch clock that every schedule reads, and "first step at or after an epoch".

SparseML runs every modifier's update before optimizer step `i` (0-based) at the float epoch

    e_i = float(i // S) + float(i % S) / float(S)

where `S` is `steps_per_epoch` (batches per epoch). Every "first step with e_i >= x" in the plan
is a float comparison against exactly this value, which is not always `ceil(x * S)`: with
S = 100, e_136 = 1 + 36/100 = 1.3599999999999999 < 1.36, so x = 1.36 first holds at i = 137.
These functions are pure and torch-free; the engine uses the same ones.
"""

from __future__ import annotations

import math

import numpy as np

NEVER = 1 << 62  # a step no run reaches (`recipec plan` caps runs at 50M steps)


def epoch_at(step: int, steps_per_epoch: int) -> float:
    """The float epoch SparseML passes to modifiers before optimizer step `step`."""
    s = int(steps_per_epoch)
    return float(step // s) + float(step % s) / float(s)


def epoch_array(total_steps: int, steps_per_epoch: int) -> np.ndarray:
    """`epoch_at(i, S)` for i in [0, total_steps), as float64, bit-identical to the scalar form."""
    s = int(steps_per_epoch)
    i = np.arange(int(total_steps), dtype=np.int64)
    return (i // s).astype(np.float64) + (i % s).astype(np.float64) / float(s)


def first_step_at_or_after(x: float, steps_per_epoch: int) -> int:
    """Smallest step i >= 0 with `epoch_at(i, S) >= x` (float comparison). 0 when x <= 0.

    Starts from `ceil(x * S)` and corrects by single steps against the real clock, so the answer
    is exact even where float rounding moves it off `ceil(x * S)`. An epoch no run reaches
    (`x * S >= NEVER`, infinity included, e.g. the next update after `update_frequency: 1e308`)
    gives `NEVER`.
    """
    s = int(steps_per_epoch)
    if not x > 0.0:  # also catches -1 ("from the first step")
        return 0
    if not x * s < NEVER:
        return NEVER
    i = max(0, math.ceil(x * s))
    while i > 0 and epoch_at(i - 1, s) >= x:
        i -= 1
    while epoch_at(i, s) < x:
        i += 1
    return i


def is_on_grid(x: float, steps_per_epoch: int) -> bool:
    """True when some step's float epoch equals `x` exactly (the step lands on the boundary)."""
    if x < 0:
        return True
    i = first_step_at_or_after(x, steps_per_epoch)
    return epoch_at(i, steps_per_epoch) == x
