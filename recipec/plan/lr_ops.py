"""LR write operations and how they combine into one learning rate per group and step.

Every LR-scheduling modifier is turned into a list of operations on the optimizer's param groups:

* `LrWrite(first, values, groups)`: sets `group["lr"] = values[k]` before step `first + k`
  (a window of a LearningRateFunctionModifier, one SetLearningRateModifier write, the
  `init_lr` writes and CosineAnnealingWarmRestarts values of a LearningRateModifier);
* `LrScale(step, factor)`: multiplies the group's *current* lr by `factor` (a torch StepLR /
  MultiStepLR decay, which is chainable: it reads whatever the group holds at that moment).

Each op carries a sort `key`: (manager rank of its modifier, sequence within that modifier's
update). Before optimizer step i, SparseML runs the ready modifiers in manager order, so within
a step the op with the larger key acts later; across steps the group keeps its last value.
`combine_lr` evaluates that with numpy in O(total_steps + events).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LrWrite:
    """Absolute writes: `values[k]` goes into each group of `groups` (None = all) before step first+k."""

    first: int
    values: np.ndarray
    groups: tuple[int, ...] | None
    key: tuple[int, int]


@dataclass(frozen=True)
class LrScale:
    """A chainable decay: the group's current lr is multiplied by `factor` before step `step`."""

    step: int
    factor: float
    groups: tuple[int, ...] | None
    key: tuple[int, int]


def _targets(groups: tuple[int, ...] | None, num_groups: int) -> list[int]:
    if groups is None:
        return list(range(num_groups))
    # SparseML tests `index in param_groups` while enumerating the optimizer's groups, so indices
    # outside the optimizer's range are silently ignored.
    return sorted({g for g in groups if 0 <= g < num_groups})


def combine_lr(
    ops: list, total_steps: int, num_groups: int, base_lr: float,
) -> np.ndarray:
    """The LR each optimizer step uses, per group: a float64 array of shape (total_steps, num_groups).

    Steps before any write of a group use `base_lr` (the optimizer's own lr).
    """
    t = int(total_steps)
    out = np.empty((t, num_groups), dtype=np.float64)
    if t == 0:
        return out
    order = sorted(ops, key=lambda o: (o.key, getattr(o, "first", getattr(o, "step", 0))))
    steps = np.arange(t, dtype=np.int64)
    for g in range(num_groups):
        val = np.zeros(t, dtype=np.float64)
        key = np.full(t, -1, dtype=np.int64)
        scales: list[tuple[int, int, float]] = []
        for op in order:
            if g not in _targets(op.groups, num_groups):
                continue
            k = op.key[0] * 1024 + op.key[1]
            if isinstance(op, LrWrite):
                a = op.first
                if a >= t:
                    continue
                vals = op.values[: t - a]
                val[a: a + vals.size] = vals
                key[a: a + vals.size] = k
            elif op.step < t:
                scales.append((op.step, k, op.factor))
        has = key >= 0
        last = np.maximum.accumulate(np.where(has, steps, -1))
        col = np.where(last >= 0, val[np.maximum(last, 0)], base_lr)
        if scales:
            _apply_scales(col, has, key, scales)
        out[:, g] = col
    return out


def _apply_scales(col: np.ndarray, has: np.ndarray, key: np.ndarray, scales) -> None:
    """Apply chainable decays in (step, key) order; each holds until the next write or decay."""
    t = col.size
    # next_write[i] = first j > i with an absolute write at j (t when none).
    idx = np.where(has, np.arange(t), t)
    nxt = np.minimum.accumulate(idx[::-1])[::-1]
    next_write = np.append(nxt[1:], t)
    live = sorted((s, k, f) for s, k, f in scales if k > key[s])
    for n, (s, _k, f) in enumerate(live):
        new = col[s] * f
        stop = int(next_write[s])
        for s2, _k2, _f2 in live[n + 1:]:
            if s2 > s:
                stop = min(stop, s2)
                break
        col[s:stop] = new
        if stop < t and not has[stop]:
            col[stop] = new  # the next decay reads the held value (no write in between)
