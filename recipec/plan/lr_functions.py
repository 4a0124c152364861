"""LearningRateFunctionModifier value functions: `linear`, `cosine`, `cyclic_linear`.

Each function maps the float epoch `e` (see `clock.py`) to a learning rate, with the float
operations in the order SparseML 1.8 uses, so the values match it bit for bit:

* linear: `init + ((e - s) / (end - s)) * (final - init)`, `s = start if start > 0 else 0`.
* cosine: `x = (e - s) / (end - s)`, then SparseML's half-cosine from init to final
  (`cosine.half_cosine`, the one place the formula is written).
* cyclic_linear (raw `start`, not clamped): `cur = (e - start)*S`, `C = cycle_epochs*S`; when
  `cur > int((end*S - start*S) / C) * C` the last, shorter cycle has `C = (end*S - start*S) % C`;
  `lr = init - ((cur % C) / (C - 1)) * (init - final)`: each cycle restarts at init.

The functions are evaluated on every step of the window, including the first step at or past
`end_epoch`, where `e` may lie beyond `end` (an off-grid end): the extrapolated value is what
SparseML writes and then holds. The `*_array` forms evaluate many epochs at once (numpy for the
arithmetic, which is exactly rounded like Python floats; `math.cos` per element so the cosine
matches libm exactly); the scalar cosine is the array form of one element.
"""

from __future__ import annotations

import numpy as np

from recipec.plan.cosine import half_cosine

LR_FUNCS = ("linear", "cosine", "cyclic_linear")


def _clamped_start(start: float) -> float:
    return start if start > 0 else 0.0


def linear_lr(e: float, start: float, end: float, init_lr: float, final_lr: float) -> float:
    """Linear LR at float epoch `e` (may extrapolate past `end`)."""
    s = _clamped_start(start)
    return init_lr + ((e - s) / (end - s)) * (final_lr - init_lr)


def cosine_lr(e: float, start: float, end: float, init_lr: float, final_lr: float) -> float:
    """Half-cosine from init_lr to final_lr (down or up) at float epoch `e` (`cosine.half_cosine`)."""
    return float(lr_function_array("cosine", np.array([e]), start, end, init_lr, final_lr)[0])


def cyclic_linear_lr(
    e: float, start: float, end: float, init_lr: float, final_lr: float,
    cycle_epochs: float, steps_per_epoch: int,
) -> float:
    """Saw-tooth LR: restarts at init_lr every `cycle_epochs`, reaches final_lr on a cycle's last step.

    Raises ZeroDivisionError where SparseML does (`cycle_epochs` of 0, or a cycle of one step).
    """
    spe = steps_per_epoch
    end_step = end * spe
    start_step = start * spe
    cycle = cycle_epochs * spe
    cur = (e - start) * spe
    if cur > int((end_step - start_step) / cycle) * cycle:
        cycle = (end_step - start_step) % cycle
    adj = cur % cycle
    return init_lr - (adj / (cycle - 1)) * (init_lr - final_lr)


def lr_function(
    name: str, e: float, start: float, end: float, init_lr: float, final_lr: float,
    cycle_epochs: float = 1.0, steps_per_epoch: int = 1,
) -> float:
    """Dispatch on `lr_func` for one epoch value."""
    if name == "linear":
        return linear_lr(e, start, end, init_lr, final_lr)
    if name == "cosine":
        return cosine_lr(e, start, end, init_lr, final_lr)
    if name == "cyclic_linear":
        return cyclic_linear_lr(e, start, end, init_lr, final_lr, cycle_epochs, steps_per_epoch)
    raise ValueError(f"lr_func must be one of {list(LR_FUNCS)}, got {name!r}")


def lr_function_array(
    name: str, e: np.ndarray, start: float, end: float, init_lr: float, final_lr: float,
    cycle_epochs: float = 1.0, steps_per_epoch: int = 1,
) -> np.ndarray:
    """`lr_function` over an array of float epochs; bit-identical to the scalar form."""
    e = np.asarray(e, dtype=np.float64)
    if name == "linear":
        s = _clamped_start(start)
        return init_lr + ((e - s) / (end - s)) * (final_lr - init_lr)
    if name == "cosine":
        s = _clamped_start(start)
        return half_cosine((e - s) / (end - s), init_lr, final_lr)
    if name == "cyclic_linear":
        vals = [
            cyclic_linear_lr(v, start, end, init_lr, final_lr, cycle_epochs, steps_per_epoch)
            for v in e.tolist()
        ]
        return np.asarray(vals, dtype=np.float64)
    raise ValueError(f"lr_func must be one of {list(LR_FUNCS)}, got {name!r}")
