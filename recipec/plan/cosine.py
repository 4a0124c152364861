"""The cosine curves of the LR schedules, each written once, over arrays (a scalar is an array of one).

Two upstream formulas, kept apart because their float operations differ in order and recipec matches each bit
for bit (numpy's float64 arithmetic rounds exactly like Python's; the cosine itself is `math.cos` per element,
so it is libm's, as upstream's):

* `half_cosine`: SparseML's LearningRateFunctionModifier `cosine`, from `init` to `final` over x in [0, 1]:
  decreasing, `cos(x*pi) * R / 2 + R / 2 + final` with `R = init - final`; otherwise
  `cos(x*pi + pi) * R / 2 + R / 2 + init` with `R = final - init`.
* `warm_restarts`: torch's CosineAnnealingWarmRestarts (T_mult 1) at scheduler epoch `ep >= 0`:
  `eta_min + (base - eta_min) * (1 + cos(pi * T_cur / T_0)) / 2`, `T_cur = ep % T_0` once `ep >= T_0`.
"""

from __future__ import annotations

import math

import numpy as np


_CHUNK = 1 << 16  # elements turned into Python floats at a time: a 50M-step plan once held 50M of them (1.6 GB)


def cos_array(arg: np.ndarray) -> np.ndarray:
    """`math.cos` of every element (libm's value, which numpy's vectorised cosine need not equal)."""
    arg = np.asarray(arg, dtype=np.float64)
    flat = arg.ravel()
    out = np.empty(flat.size, dtype=np.float64)
    cos = math.cos
    for a in range(0, flat.size, _CHUNK):
        out[a:a + _CHUNK] = [cos(v) for v in flat[a:a + _CHUNK].tolist()]
    return out.reshape(arg.shape)


def half_cosine(x: np.ndarray, init: float, final: float) -> np.ndarray:
    """SparseML's cosine LR at progress `x` (0 = `init`, 1 = `final`; beyond 1 it extrapolates)."""
    if final < init:
        r, base, shift = init - final, final, 0.0
    else:
        r, base, shift = final - init, init, math.pi
    return cos_array(np.asarray(x, dtype=np.float64) * math.pi + shift) * r / 2 + r / 2 + base


def warm_restarts(ep: np.ndarray, base: float, eta_min: float, t0: float) -> np.ndarray:
    """torch CosineAnnealingWarmRestarts (T_mult 1) at scheduler epochs `ep` (>= 0)."""
    ep = np.asarray(ep, dtype=np.float64)
    t_cur = np.where(ep >= t0, np.mod(ep, t0), ep)
    return eta_min + (base - eta_min) * (1 + cos_array(math.pi * t_cur / t0)) / 2
