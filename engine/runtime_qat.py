"""Runtime for QuantizationModifier: switches QAT on, freezes BN stats and observers at the plan's steps.

When: the plan's ``QatSchedule(start_step, freeze_bn_step, disable_observer_step)``. QAT is switched on at the
*batch start* of ``start_step`` so that step's forward is already fake-quantized. At start the loop is told
(``ctx.state``, a :class:`engine.runtime.RunState`) to disable the EMA and AMP, as the SparseML YOLOv5
integration does; we do **not** shrink the batch (SparseML's ``batch // 4`` left its steps_per_epoch stale,
SPEC §6.3): an epoch stays a fraction of the current loader length. What: ``engine.quant`` (fold Conv+BN, fake-quant weights per channel int8 and
activations per tensor uint8, straight-through gradients).
"""

from __future__ import annotations

from typing import Any

from engine import events as ev
from engine.quant.handle import QatHandle
from engine.runtime import Context, ModifierError, ModifierRuntime
from recipec.modifiers import ModifierSpec


class QuantizationRuntime(ModifierRuntime):
    kinds = ("QuantizationModifier",)

    def __init__(self, spec: ModifierSpec, ctx: Context, index: int) -> None:
        super().__init__(spec, ctx, index)
        self.schedule = ctx.plan.qat
        if self.schedule is None:
            raise ModifierError("the plan has no QAT schedule for the QuantizationModifier")
        subs = getattr(spec, "submodules", None)
        if subs:
            names = {n for n, _ in ctx.model.named_modules()}
            missing = [m for m in subs if m not in names]
            if missing:
                raise ModifierError(f"QuantizationModifier.submodules: not in the model: {', '.join(missing[:8])}"
                                    " (module names look like 'model.0', 'model.23')")
        self.started = False
        self.bn_frozen = False
        self.observers_off = False
        self.handle: QatHandle | None = None

    def batch_start(self, e: ev.BatchStart) -> None:
        s = self.schedule
        if not self.started and e.step >= s.start_step:
            self.start()
        if self.started and not self.bn_frozen and s.freeze_bn_step is not None and e.step >= s.freeze_bn_step:
            self.handle.freeze_bn_stats()
            self.bn_frozen = True
            self.ctx.log(f"QAT: BatchNorm statistics frozen at step {e.step}")
        if (self.started and not self.observers_off and s.disable_observer_step is not None
                and e.step >= s.disable_observer_step):
            self.handle.disable_observers()
            self.observers_off = True
            self.ctx.log(f"QAT: observers disabled at step {e.step}")

    def start(self, state: dict[str, Any] | None = None) -> None:
        from engine.quant import QuantSpec, prepare_qat  # the QAT library (engine/quant)

        if self.ctx.state.already_quantized:
            raise ModifierError(
                "Quantization can not be applied more than once: the weights come from a quantized checkpoint "
                "and the recipe has a QuantizationModifier. Start from the pre-QAT checkpoint "
                "(zoo: ?checkpoint=preqat or training/model.ckpt.pt) or drop the QuantizationModifier."
            )
        try:
            qspec = QuantSpec.from_modifier(self.spec)
            stored = (state or {}).get("spec")
            if stored is not None:  # resume: keep the layout the run was trained with
                old = QuantSpec.from_dict(stored)
                if old != qspec:
                    self.ctx.log(f"QAT: resuming with the checkpoint's layout {old.to_dict()} "
                                 f"(this recipe now gives {qspec.to_dict()})")
                qspec = old
            prepare_qat(self.ctx.model, qspec)
        except ValueError as exc:
            raise ModifierError(f"QuantizationModifier: {exc}") from None
        self.handle = QatHandle(self.ctx.model)
        if state:
            self.handle.load_state_dict(state)
        self.started = True
        st = self.ctx.state
        if st.ema_enabled or st.amp_enabled:
            self.ctx.log("QAT starts: EMA and AMP disabled for the rest of the run (as SparseML's YOLOv5 does)")
        else:
            self.ctx.log("QAT starts")
        st.start_qat(self.handle)

    def state_dict(self) -> dict[str, Any]:
        return {"started": self.started, "bn_frozen": self.bn_frozen, "observers_off": self.observers_off,
                "qat": self.handle.state_dict() if self.handle is not None else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("started"):
            self.start(state.get("qat"))
            if state.get("bn_frozen"):
                self.handle.freeze_bn_stats()
                self.bn_frozen = True
            if state.get("observers_off"):
                self.handle.disable_observers()
                self.observers_off = True

