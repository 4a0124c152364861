"""GMPruning / MagnitudePruning / GlobalMagnitudePruning schedules, and ConstantPruning's window.

Update clock (SparseML 1.8, spec A.7):

* `u_0` = first step with `e_i >= start_epoch` (step 0 for -1);
* `u_{n+1}` = first step with `e_i >= e_{u_n} + update_frequency`: float addition on the
  *actual* epoch of the previous update, so the phase drifts when `update_frequency * S` is not
  an integer (S=7, freq 0.5: every 4 steps) and even when it is (S=100, freq 0.2 from 4.0:
  400, 420, 440, 461, 481, 502, ...). `update_frequency <= 0` updates on every step;
* the end update at the first step with `e_i >= end_epoch`, whatever the frequency; none after.

Value at an update at epoch e: `x = (e - start)/(end - start)`; `y = x` (linear),
`1 - (1 - x)**3` (cubic), `1 - (1 - x)**(1/3)` (inverse_cubic); the sparsity is `init` when
`y <= eps`, `final` when `y >= 1 - eps`, else `y*(final - init) + init`. It holds between updates
and after the end. SparseML's inverse_cubic turns complex at `x > 1` (an off-grid end) and
crashes with a TypeError; recipec clamps x to 1 there, which gives the intended `final`.
A window with `start == end` divides by zero in SparseML; recipec applies `final` at once
(and the plan checks report it as an error).
"""

from __future__ import annotations

import bisect
import sys

import numpy as np

from recipec.plan.clock import epoch_at, first_step_at_or_after
from recipec.plan.windows import end_step, start_step

EPS = sys.float_info.epsilon
INTER_FUNCS = ("linear", "cubic", "inverse_cubic")


def interpolate_sparsity(e: float, start: float, end: float, init: float, final: float,
                         inter_func: str = "cubic") -> float:
    """Target sparsity at float epoch `e` (SparseML's `interpolate`, inverse_cubic clamped)."""
    if inter_func not in INTER_FUNCS:
        raise ValueError(f"inter_func must be one of {list(INTER_FUNCS)}, got {inter_func!r}")
    if end == start:
        return final
    x = (e - start) / (end - start)
    if inter_func == "linear":
        y = x
    elif inter_func == "cubic":
        y = 1 - (1 - x) ** 3
    else:
        y = 1 - (1 - min(x, 1.0)) ** (1 / 3)
    if y <= 0.0 + EPS:
        return init
    if y >= 1.0 - EPS:
        return final
    return y * (final - init) + init


def update_steps(start_epoch: float, end_epoch: float, update_frequency: float,
                 steps_per_epoch: int, total_steps: int) -> list[int]:
    """The steps (< total_steps) at which a GMP-style modifier recomputes its masks, ascending."""
    S = int(steps_per_epoch)
    u0 = start_step(start_epoch, S)
    if u0 >= total_steps:
        return []
    ie = end_step(start_epoch, end_epoch, S)
    stop = total_steps if ie is None else min(ie, total_steps)  # regular updates before `stop`
    if ie is not None and ie == u0:
        return [u0]
    every_step = update_frequency <= 0
    if not every_step and update_frequency * S <= 1.0 and stop - u0 > 1:
        # frequencies at or below one step: every step qualifies unless float rounding says no
        i = np.arange(u0, stop, dtype=np.int64)
        e = (i // S).astype(np.float64) + (i % S).astype(np.float64) / float(S)
        every_step = bool(np.all(e[1:] >= e[:-1] + update_frequency))
    if every_step:
        out = list(range(u0, stop))
    else:
        out = [u0]
        u = u0
        while True:
            target = epoch_at(u, S) + update_frequency
            nxt = max(u + 1, first_step_at_or_after(target, S))
            if nxt >= stop:
                break
            out.append(nxt)
            u = nxt
    if ie is not None and ie < total_steps and out[-1] != ie:
        out.append(ie)
    return out


class SparsitySchedule:
    """Held target sparsity of one pruning modifier: `update_steps` -> value, None before the first.

    `at(step)` is O(log n) over the sorted update steps.
    """

    def __init__(self, updates: dict[int, float]):
        self.updates = dict(sorted(updates.items()))
        self._steps = list(self.updates)
        self._vals = list(self.updates.values())

    def at(self, step: int) -> float | None:
        k = bisect.bisect_right(self._steps, step) - 1
        return None if k < 0 else self._vals[k]

    def array(self, total_steps: int) -> np.ndarray:
        """Sparsity per step as float64, NaN before the first update."""
        out = np.full(total_steps, np.nan)
        for n, s in enumerate(self._steps):
            if s >= total_steps:
                break
            nxt = self._steps[n + 1] if n + 1 < len(self._steps) else total_steps
            out[s:nxt] = self._vals[n]
        return out


def gmp_updates(init_sparsity: float, final_sparsity: float, start_epoch: float,
                end_epoch: float, update_frequency: float, inter_func: str,
                steps_per_epoch: int, total_steps: int) -> dict[int, float]:
    """Step -> target sparsity computed before that optimizer step, for one GMP-style modifier."""
    S = int(steps_per_epoch)
    return {
        u: interpolate_sparsity(epoch_at(u, S), start_epoch, end_epoch, init_sparsity,
                                final_sparsity, inter_func)
        for u in update_steps(start_epoch, end_epoch, update_frequency, S, total_steps)
    }
