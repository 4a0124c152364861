"""When a scheduled modifier starts and ends, in optimizer steps (SparseML 1.8 readiness rules).

* `start_pending(e)`: not started, not ended, and (`e >= start >= 0` or `start == -1`):
  the first step with `e_i >= start` (step 0 for -1).
* `end_pending(e)`: started, not ended and `e >= end >= 0` (never for `end == -1`). The check
  runs after `started` is set in the same update, so a window that falls between two steps
  starts and ends on the same step.
* Update modifiers with `update_frequency == -1` (all LR modifiers) write on every step from
  the start step through the end step, inclusive.
* `max_epochs` = max over all modifiers of `ceil(start)` (start > -1) and `ceil(end)` (end > -1);
  the run has `max_epochs * S` steps, so an event at `e >= max_epochs` never happens.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from recipec.plan.clock import NEVER, first_step_at_or_after




def start_step(start_epoch: float, steps_per_epoch: int) -> int:
    """First step at which a modifier with this start_epoch is start-pending (0 for -1).

    SparseML's test is `e >= start >= 0 or start == -1`, so a start in (-1, 0) never fires
    (`NEVER`)."""
    if start_epoch == -1:
        return 0
    if start_epoch < 0:
        return NEVER
    return first_step_at_or_after(start_epoch, steps_per_epoch)


def end_step(start_epoch: float, end_epoch: float, steps_per_epoch: int) -> int | None:
    """Step of the end update (>= the start step), or None when the modifier never ends (-1)."""
    if end_epoch < 0:
        return None
    return max(start_step(start_epoch, steps_per_epoch),
               first_step_at_or_after(end_epoch, steps_per_epoch))


def max_epochs(windows: Iterable[tuple[float, float]]) -> int:
    """SparseML's manager `max_epochs` over (start_epoch, end_epoch) pairs; -1 when none is set."""
    best = -1
    for start, end in windows:
        if start > -1:
            best = max(best, math.ceil(start))
        if end > -1:
            best = max(best, math.ceil(end))
    return best
