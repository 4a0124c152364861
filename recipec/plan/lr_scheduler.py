"""LearningRateModifier (torch StepLR / MultiStepLR / ExponentialLR / CosineAnnealingWarmRestarts).

SparseML 1.8 behaviour, step by step (A.6 of the spec); the modifier is ready on every step from
`i_f` (first `e_i >= start_epoch`) through its end step, and on each such update:

1. while its torch scheduler does not exist yet, it sets **all** groups to `init_lr`;
2. at `e <= eps` (step 0) it stops there and remembers one step less (`scheduler_steps -= 1`);
3. at an on-grid end (`|end - e| <= eps`, end >= 0) it stops there: no scheduler step, the lr
   keeps the previous step's value;
4. it builds the scheduler if needed (`last_epoch = 0`; torch records the group's current lr as
   `initial_lr` when none is set yet) and adds `round(e*S)` to `scheduler_steps`;
5. StepLR / MultiStepLR: it steps the scheduler `round(e*S) - scheduler_steps` times (capped at
   `round(end*S)` once past the end), so at step i the scheduler has taken `k_i = i - i_f`
   steps. Both are chainable in torch: a decay multiplies whatever the group holds now.
   StepLR decays when `k` is a positive multiple of `n = round(step_size*S)`; ExponentialLR
   is StepLR with `step_size = 1` epoch (a per-epoch staircase); MultiStepLR decays by
   `gamma**count` at `k = round((M - start)*S)` (Python's round: half to even).
6. CosineAnnealingWarmRestarts calls `step(e - start)` (0 for start -1) with the fractional
   epoch (`cosine.warm_restarts`: torch's formula, written there once), where `base` is the
   group's torch `initial_lr`: the init_lr of the first LearningRateModifier whose scheduler
   was built on this optimizer.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from recipec.plan.clock import NEVER, epoch_at
from recipec.plan.cosine import warm_restarts
from recipec.plan.lr_ops import LrScale, LrWrite
from recipec.plan.windows import end_step, start_step

EPS = sys.float_info.epsilon
LR_CLASSES = ("StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingWarmRestarts")


def warm_restarts_lr(ep: float, base: float, eta_min: float, t0: float) -> float:
    """torch CosineAnnealingWarmRestarts (T_mult 1) value at scheduler epoch `ep` (>= 0)."""
    return float(warm_restarts(np.array([ep]), base, eta_min, t0)[0])


def _steps(x: float) -> int:
    """`round(x)`, saturated at `NEVER` for counts no run reaches (a step size of 1e308 epochs)."""
    return round(x) if abs(x) < NEVER else (NEVER if x > 0 else -NEVER)


def step_size_steps(step_size: float, steps_per_epoch: int) -> int:
    """StepLR step size in optimizer steps: `round(step_size * S)`."""
    return _steps(step_size * steps_per_epoch)


def milestone_steps(milestones, start_epoch: float, steps_per_epoch: int) -> list[int]:
    """MultiStepLR milestones in scheduler steps: `round((M - start_epoch) * S)` (raw start)."""
    return [_steps((m - start_epoch) * steps_per_epoch) for m in milestones]


@dataclass
class _Sim:
    """Mutable state of one simulated LearningRateModifier (internal)."""

    created: bool = False
    sched_steps: int = 0
    last_epoch: int = -1
    creation_step: int | None = None
    ops: list = field(default_factory=list)


def simulate_lr_modifier(
    lr_class: str, lr_kwargs: dict, init_lr: float, start_epoch: float, end_epoch: float,
    steps_per_epoch: int, total_steps: int, *, rank: int = 0, initial_lr: float | None = None,
) -> tuple[list, int | None]:
    """LR ops of one LearningRateModifier and the step its torch scheduler is built (or None).

    `initial_lr` is the torch `initial_lr` already on the optimizer (from an earlier
    LearningRateModifier); None means this modifier sets it to its own `init_lr`.
    Raises ValueError for settings SparseML/torch reject at run time (step_size of 0 steps).
    """
    S = int(steps_per_epoch)
    cls = "StepLR" if lr_class == "ExponentialLR" else lr_class
    if cls not in ("StepLR", "MultiStepLR", "CosineAnnealingWarmRestarts"):
        raise ValueError(f"unknown lr_class given of {lr_class}")
    gamma = float(lr_kwargs.get("gamma", 0.1))
    n = None
    miles: Counter = Counter()
    if cls == "StepLR":
        n = step_size_steps(1.0 if lr_class == "ExponentialLR" else float(lr_kwargs["step_size"]), S)
        if n <= 0:
            raise ValueError(f"StepLR step_size rounds to {n} steps at {S} steps per epoch")
    elif cls == "MultiStepLR":
        ms = [float(m) for m in lr_kwargs["milestones"]]
        if any(m <= start_epoch for m in ms):
            raise ValueError(f"milestones {ms} all must be greater than start_epoch {start_epoch}")
        if end_epoch >= 0.0 and any(m >= end_epoch for m in ms):
            raise ValueError(f"milestones {ms} all must be less than end_epoch {end_epoch}")
        miles = Counter(milestone_steps(ms, start_epoch, S))
    else:
        eta_min = float(lr_kwargs["lr_min"])
        t0 = lr_kwargs["cycle_epochs"]
        if isinstance(t0, bool) or not isinstance(t0, int) or t0 <= 0:
            # torch: "Expected positive integer T_0" (a float such as 4.0 is refused too)
            raise ValueError(f"Expected positive integer T_0, but got {t0}")
        if lr_kwargs.get("T_mult", 1) != 1:
            raise ValueError("T_mult other than 1 is not supported by recipec")
        t0 = float(t0)
    i_f = start_step(start_epoch, S)
    if i_f >= total_steps:
        return [], None
    i_e = end_step(start_epoch, end_epoch, S)
    last = total_steps - 1 if i_e is None else min(i_e, total_steps - 1)
    st = _Sim()
    base = initial_lr

    def decay_factor(k: int) -> float | None:
        if cls == "StepLR":
            return gamma if (k != 0 and k % n == 0) else None
        c = miles.get(k, 0)
        return gamma ** c if c else None

    def cos_ep(e: float) -> float:
        return e - start_epoch if start_epoch >= 0.0 else 0.0

    def one(j: int) -> None:
        nonlocal base
        e = epoch_at(j, S)
        if not st.created:
            st.ops.append(LrWrite(j, np.array([init_lr]), None, (rank, 0)))
        if e <= EPS:
            st.sched_steps -= 1
            return
        if end_epoch >= 0.0 and abs(end_epoch - e) <= EPS:
            return
        seq = 1
        if not st.created:
            st.created, st.creation_step, st.last_epoch = True, j, 0
            if base is None:
                base = init_lr
            if cls == "MultiStepLR" and decay_factor(0) is not None:
                st.ops.append(LrScale.one(j, decay_factor(0), None, (rank, seq)))
                seq += 1
            st.sched_steps += round(e * S)
        if cls == "CosineAnnealingWarmRestarts":
            v = warm_restarts_lr(cos_ep(e), base, eta_min, t0)
            st.ops.append(LrWrite(j, np.array([v]), None, (rank, seq)))
            return
        glob = round(e * S) if (end_epoch < 0.0 or e <= end_epoch) else round(end_epoch * S)
        diff = glob - st.sched_steps
        if diff > 0:
            for _ in range(diff):
                st.last_epoch += 1
                f = decay_factor(st.last_epoch)
                if f is not None:
                    st.ops.append(LrScale.one(j, f, None, (rank, min(seq, 1000))))
                    seq += 1
            st.sched_steps = glob

    def bulk(a: int, b: int) -> None:
        """Steps a..b-1: scheduler built, before the end, one scheduler step each."""
        if a >= b:
            return
        if not st.created or (cls != "CosineAnnealingWarmRestarts" and st.sched_steps != a - 1):
            for j in range(a, b):
                one(j)
            return
        if cls == "CosineAnnealingWarmRestarts":
            i = np.arange(a, b, dtype=np.int64)
            e = (i // S).astype(np.float64) + (i % S).astype(np.float64) / float(S)
            ep = e - start_epoch if start_epoch >= 0.0 else np.zeros_like(e)
            vals = warm_restarts(ep, base, eta_min, t0)
            st.ops.append(LrWrite(a, vals, None, (rank, 1)))
        else:
            k0 = st.last_epoch  # scheduler epoch before step a; step j reaches k0 + (j - a + 1)
            k1 = k0 + (b - a)
            if cls == "StepLR":
                ks = np.arange((k0 // n + 1) * n, k1 + 1, n, dtype=np.int64)
                ks = ks[ks > 0]
                facs = np.full(ks.size, gamma)
            else:
                sel = sorted(k for k in miles if k0 < k <= k1)
                ks = np.array(sel, dtype=np.int64)
                facs = np.array([gamma ** miles[k] for k in sel], dtype=np.float64)
            if ks.size:
                st.ops.append(LrScale(a + (ks - k0 - 1), facs, None, (rank, 1)))
            st.last_epoch = k1
        st.sched_steps = b - 1

    explicit = sorted({j for j in (i_f, i_f + 1, i_e) if j is not None and i_f <= j <= last})
    prev = None
    for j in explicit:
        if prev is not None:
            bulk(prev + 1, j)
        one(j)
        prev = j
    bulk(prev + 1, last + 1)
    return st.ops, st.creation_step
