"""Typed events the training loop sends to the modifier runtime, in the order it sends them.

Per batch (one batch = one optimizer step = one plan step; SPEC §2.9):

1. :class:`BatchStart`   -- before the forward. QAT is switched on here at its start step, so the first step
   trained with fake quantization is exactly the plan's ``QatSchedule.start_step``.
2. :class:`LossComputed` -- after the forward and loss, before backward. A non-finite loss stops the run here.
3. :class:`OptimizerPreStep` -- after backward, before ``optimizer.step()``: the LR of every group is written
   from ``plan.lr_at(step)``, pruning updates at their ``update_steps`` (SparseML prunes between backward and
   step), gradients of pruned weights zeroed.
4. :class:`OptimizerPostStep` -- after ``optimizer.step()``: masks re-applied to weights and momentum.
5. :class:`EpochEnd` -- after the last batch of an epoch (``epoch`` = epochs completed).

``step`` is always the 0-based index of the optimizer step in progress; ``epoch_float`` is SparseML's clock
``step // S + (step % S) / S`` for the current loader length ``S``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BatchStart:
    step: int
    epoch_float: float
    batch_index: int


@dataclass(frozen=True)
class LossComputed:
    step: int
    loss: Any  # a scalar tensor


@dataclass(frozen=True)
class OptimizerPreStep:
    step: int
    epoch_float: float


@dataclass(frozen=True)
class OptimizerPostStep:
    step: int


@dataclass(frozen=True)
class EpochEnd:
    epoch: int
    step: int


Event = BatchStart | LossComputed | OptimizerPreStep | OptimizerPostStep | EpochEnd
