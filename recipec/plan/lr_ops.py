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
    """Chainable decays: before step `steps[k]` the group's current lr is multiplied by `factors[k]`."""

    steps: np.ndarray
    factors: np.ndarray
    groups: tuple[int, ...] | None
    key: tuple[int, int]

    @staticmethod
    def one(step: int, factor: float, groups, key) -> "LrScale":
        return LrScale(np.array([step], dtype=np.int64), np.array([factor]), groups, key)


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
    # Group-major, returned transposed: each group's column is written in place, contiguous. Step indices and
    # keys are int32 where they fit (the plan caps runs at 50M steps): a 50M-step plan peaked at 4.9 GB with
    # int64 temporaries and a column copied per group.
    out = np.empty((num_groups, t), dtype=np.float64)
    if t == 0:
        return out.T
    order = sorted(ops, key=lambda o: o.key)
    targets = [set(_targets(o.groups, num_groups)) for o in order]
    keys = [o.key[0] * 1024 + o.key[1] for o in order]
    ity = np.int32 if t < 2**31 and all(-1 <= k < 2**31 for k in keys) else np.int64
    steps = np.arange(t, dtype=ity)
    for g in range(num_groups):
        val = np.zeros(t, dtype=np.float64)
        key = np.full(t, -1, dtype=ity)
        sc_steps, sc_keys, sc_facs = [], [], []
        for op, tg, k in zip(order, targets, keys):
            if g not in tg:
                continue
            if isinstance(op, LrWrite):
                a = op.first
                if a >= t:
                    continue
                vals = op.values[: t - a]
                val[a: a + vals.size] = vals
                key[a: a + vals.size] = k
            else:
                m = op.steps < t
                sc_steps.append(op.steps[m])
                sc_facs.append(op.factors[m])
                sc_keys.append(np.full(int(m.sum()), k, dtype=ity))
        has = key >= 0
        last = np.where(has, steps, ity(-1))
        np.maximum.accumulate(last, out=last)  # the last write at or before each step
        col = out[g]
        np.take(val, np.maximum(last, 0), out=col)
        del val
        col[last < 0] = base_lr
        if sc_steps:
            _apply_scales(col, has, key, last, np.concatenate(sc_steps),
                          np.concatenate(sc_keys), np.concatenate(sc_facs))
    return out.T


def _apply_scales(col, has, key, last_write, ev_step, ev_key, ev_fac) -> None:
    """Apply chainable decays in (step, key) order, vectorised.

    A decay reads the group's current value: the last decay's result when no write came in
    between, else the written (or held) value. Runs of decays with no write in between are
    evaluated with `np.cumprod`, which multiplies sequentially like repeated `lr *= gamma`.
    """
    live = ev_key > key[ev_step]  # a later write in the same step overrides the decay
    ev_step, ev_key, ev_fac = ev_step[live], ev_key[live], ev_fac[live]
    if ev_step.size == 0:
        return
    o = np.lexsort((ev_key, ev_step))
    ev_step, ev_fac = ev_step[o], ev_fac[o]
    writes = np.cumsum(has, dtype=last_write.dtype)  # writes[i] = number of writes at steps <= i
    brk = np.ones(ev_step.size, dtype=bool)
    brk[1:] = writes[ev_step[1:]] - writes[ev_step[:-1]] > 0
    starts = np.flatnonzero(brk)
    ends = np.append(starts[1:], ev_step.size)
    vals = np.empty(ev_step.size, dtype=np.float64)
    single = ends - starts == 1
    s1 = starts[single]
    vals[s1] = col[ev_step[s1]] * ev_fac[s1]
    for a, b in zip(starts[~single].tolist(), ends[~single].tolist()):
        chain = np.concatenate(([col[ev_step[a]]], ev_fac[a:b]))
        vals[a:b] = np.cumprod(chain)[1:]
    t = col.size
    idx = np.searchsorted(ev_step, np.arange(t), side="right") - 1
    ok = idx >= 0
    ok[ok] = ev_step[idx[ok]] >= last_write[ok]
    col[ok] = vals[idx[ok]]
