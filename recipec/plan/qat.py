"""QuantizationModifier phases in optimizer steps.

SparseML's QuantizationModifier (current and legacy) acts at the first step with
`e_i >= start_epoch` (step 0 for -1): it fuses and wraps the model with fake-quant (observers
running). It then disables the observers at the first step with
`e_i >= disable_quantization_observer_epoch` and freezes BatchNorm statistics at the first step
with `e_i >= freeze_bn_stats_epoch` (each only when set). A phase starting at or after the end
of the run never happens (its step is None).

States per step, in the order a normal recipe walks through them:
`off` (before start), `observing` (fake-quant on, observers and BN statistics updating),
`bn_frozen` (BN statistics frozen, observers still running), `frozen` (observers disabled:
scales and zero points fixed; BN may or may not be frozen yet).
"""

from __future__ import annotations

from dataclasses import dataclass

from recipec.plan.clock import first_step_at_or_after
from recipec.plan.windows import start_step

QAT_STATES = ("off", "observing", "bn_frozen", "frozen")


@dataclass(frozen=True)
class QatSchedule:
    """Steps of the QAT phases (None = never within the run). Query with `state_at(step)`."""

    start_step: int
    freeze_bn_step: int | None
    disable_observer_step: int | None

    def state_at(self, step: int) -> str:
        """`off` / `observing` / `bn_frozen` / `frozen` for optimizer step `step`."""
        if step < self.start_step:
            return "off"
        if self.disable_observer_step is not None and step >= self.disable_observer_step:
            return "frozen"
        if self.freeze_bn_step is not None and step >= self.freeze_bn_step:
            return "bn_frozen"
        return "observing"


def _phase_step(epoch: float | None, qat_start: int, steps_per_epoch: int,
                total_steps: int) -> int | None:
    if epoch is None:
        return None
    # `epoch >= x` without the `x >= 0` part of start_pending: any x <= 0 fires at once
    i = max(qat_start, first_step_at_or_after(epoch, steps_per_epoch))
    return i if i < total_steps else None


def qat_schedule(start_epoch: float, freeze_bn_stats_epoch: float | None,
                 disable_quantization_observer_epoch: float | None, steps_per_epoch: int,
                 total_steps: int) -> QatSchedule | None:
    """The QAT schedule of one QuantizationModifier, or None when QAT never starts in the run."""
    s = start_step(start_epoch, steps_per_epoch)
    if s >= total_steps:
        return None
    return QatSchedule(
        start_step=s,
        freeze_bn_step=_phase_step(freeze_bn_stats_epoch, s, steps_per_epoch, total_steps),
        disable_observer_step=_phase_step(disable_quantization_observer_epoch, s,
                                          steps_per_epoch, total_steps),
    )
