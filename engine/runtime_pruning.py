"""Runtimes for the pruning modifiers: Constant, GMPruning, Magnitude, GlobalMagnitude.

When: the plan's ``PruningSchedule`` for this modifier (``update_steps``: step -> target sparsity,
``start_step``, ``end_step``, ``leave_enabled``). What: masks from ``engine.pruning`` (magnitude per layer or
global, ``mask_type`` blocks; Constant = the zeros present at its start), held by the shared
:class:`engine.runtime.MaskSet`. The update runs in the pre-step hook (after backward, before the optimizer
step), as SparseML does. With ``leave_enabled: false`` the masks are released after the end update.
"""

from __future__ import annotations

from typing import Any

from engine import events as ev
from engine.runtime import Context, ModifierError, ModifierRuntime
from recipec.modifiers import ModifierSpec
from recipec.plan.model import Plan, PruningSchedule

GLOBAL_KINDS = ("GlobalMagnitudePruningModifier",)


def schedule_for(plan: Plan, spec: ModifierSpec, index: int) -> PruningSchedule:
    """The plan's pruning schedule of the recipe modifier at file position ``index``."""
    for s in plan.pruning:
        if s.index == index:
            return s
    raise ModifierError(f"the plan has no pruning schedule for modifier #{index} ({spec.kind})")


class PruningRuntime(ModifierRuntime):
    kinds = ("ConstantPruningModifier", "GMPruningModifier", "MagnitudePruningModifier", *GLOBAL_KINDS)

    def __init__(self, spec: ModifierSpec, ctx: Context, index: int) -> None:
        super().__init__(spec, ctx, index)
        from engine.pruning.mask_creators import parse_mask_type
        from engine.pruning.params import resolve_params

        final = getattr(spec, "final_sparsity", None)
        self.per_param: dict[str, float] = {}
        if isinstance(final, dict):  # SparseML's {sparsity: [params]} form
            for value, sel in final.items():
                res = resolve_params(ctx.model, sel)
                msg = res.error_message(f"{spec.kind}.final_sparsity[{value}]")
                if msg:
                    raise ModifierError(msg)
                for n in res.names:  # a parameter several keys match takes the first key's value (SparseML)
                    self.per_param.setdefault(n, float(value))
            self.names = list(self.per_param)
        else:
            res = resolve_params(ctx.model, getattr(spec, "params", None))
            msg = res.error_message(f"{spec.kind}.params")
            if msg:
                raise ModifierError(msg)
            self.names = list(res.names)
        self.schedule = schedule_for(ctx.plan, spec, index)
        self.constant = spec.kind == "ConstantPruningModifier"
        self.global_ = spec.kind in GLOBAL_KINDS or bool(getattr(spec, "global_sparsity", False))
        try:
            self.mask_type = parse_mask_type(getattr(spec, "mask_type", "unstructured"))
        except ValueError as exc:
            raise ModifierError(f"{spec.kind}.mask_type: {exc}") from None
        from engine.pruning import MaskSet

        self.maskset = MaskSet(ctx.model, self.names)
        self.started = False
        self.released = False
        self.applied: float | None = None

    def pre_step(self, e: ev.OptimizerPreStep) -> None:
        if self.released:
            return
        if self.constant:
            start = self.schedule.start_step
            if not self.started and start is not None and e.step >= start:
                from engine.pruning import constant_mask

                self.maskset.set_masks([constant_mask(p.detach()) for p in self.maskset.params])
                self._started()
            return
        target = self.schedule.update_steps.get(e.step)
        if target is None:
            return
        self.maskset.update(self._targets(e.step, float(target)), self.mask_type, self.global_)
        self.applied = float(target)
        self._started()
        end = self.schedule.end_step
        if end is not None and e.step >= end and not self.schedule.leave_enabled:
            self.maskset.enabled = False
            self.released = True
            self.ctx.log(f"{self.spec.kind}: masks released after step {e.step} (leave_enabled: false)")

    def _targets(self, step: int, target: float) -> float | list[float]:
        """One sparsity, or one per parameter when ``final_sparsity`` maps values to params."""
        if not self.per_param:
            return target
        return [self.schedule.target_for(self.per_param[n], step) for n in self.names]

    def _started(self) -> None:
        _broadcast(self.maskset)
        self.maskset.apply_()
        if not self.started:
            self.ctx.masks.add(self.index, self.maskset)
        self.started = True

    def state_dict(self) -> dict[str, Any]:
        return {"started": self.started, "released": self.released, "applied": self.applied,
                "masks": self.maskset.state_dict() if self.started else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.released = bool(state.get("released", False))
        self.applied = state.get("applied")
        if state.get("started") and state.get("masks") is not None:
            self.maskset.load_state_dict(state["masks"])
            self._started()
        self.maskset.enabled = not self.released


def _broadcast(maskset: Any) -> None:
    """Under DDP, make every rank hold rank 0's masks (they agree already; this makes it a guarantee)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        for m in maskset.masks:
            dist.broadcast(m, src=0)
