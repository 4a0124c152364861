"""The modifier runtime: each runnable modifier kind gets a small runtime class, fed typed events.

Lifecycle (template method, one instance per recipe modifier, called in recipe order):
``on_event(event)`` dispatches to ``batch_start / loss / pre_step / post_step / epoch_end``. The *when* never
comes from here: every step index (LR, pruning update steps, QAT start / BN freeze / observer freeze) is read
from the :class:`recipec.plan` ``Plan`` -- the very functions ``recipec plan`` prints. A runtime only carries out
what the plan says at that step.

Registry: ``engine.runtime_registry.RUNTIMES`` maps a modifier kind (``spec.kind``) to its runtime class; tests
iterate over it. LR modifiers all map to :class:`LearningRateRuntime`; only the first one writes (the plan has
already merged every LR modifier with SparseML's last-writer-wins order into ``lr_at(step)``). The LR is written on *every*
step, also when the recipe has no LR modifier (then it is the plan's base LR = hyp ``lr0``): we do not run
YOLOv5's native warm-up or one-cycle scheduler.

Masks (:class:`MaskRegistry` over ``engine.pruning.MaskSet``): pruned weights are multiplied by their mask after
every optimizer step, their gradients are zeroed before the step and their momentum buffers after it, so
nothing leaks back; the loop masks the EMA copy with the same registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from engine import events as ev
from engine.optim import set_lrs
from engine.quant.handle import QatHandle
from recipec.modifiers import LR_KINDS, ModifierSpec
from recipec.plan.model import Plan


class ModifierError(ValueError):
    """A recipe that cannot run on this model (unmatched params, QAT twice...). Message for the user."""


class MaskRegistry:
    """The started pruning modifiers' :class:`engine.pruning.MaskSet` objects, enforced together each step."""

    def __init__(self) -> None:
        self.sets: dict[int, Any] = {}  # modifier index -> MaskSet

    def add(self, index: int, maskset: Any) -> None:
        self.sets[index] = maskset

    def _on(self) -> list[Any]:
        return [m for m in self.sets.values() if m.enabled]

    def mask_grads(self) -> None:
        for m in self._on():
            m.mask_grads_()

    def mask_weights(self, optimizer: torch.optim.Optimizer | None = None) -> None:
        for m in self._on():
            m.apply_()
            if optimizer is not None:
                m.mask_optimizer_state_(optimizer)

    def apply_to(self, module: nn.Module) -> None:
        """Mask the same-named parameters of another module (the EMA copy)."""
        for m in self._on():
            m.apply_to_(module)

    def active_masks(self) -> dict[str, torch.Tensor]:
        """``{param name: bool mask}`` of every enforced mask (True = kept); later modifiers override earlier."""
        out: dict[str, torch.Tensor] = {}
        for m in self._on():
            for n, t in zip(m.names, m.masks):
                out[n] = (t != 0).cpu()
        return out

    def state_dict(self) -> dict[str, Any]:
        return {str(i): m.state_dict() for i, m in self.sets.items()}


@dataclass
class RunState:
    """What the modifiers tell the loop, and the loop the checkpoints: typed, one instance per run.

    ``qat`` is set when QAT starts (the QuantizationModifier's runtime, or a checkpoint saved during QAT): from
    then on the EMA and AMP stay off, as SparseML's YOLOv5 integration does. ``already_quantized``: the starting
    weights are quantized, so a QuantizationModifier in this recipe is refused (QAT twice)."""

    qat: QatHandle | None = None
    ema_enabled: bool = True
    amp_enabled: bool = True
    already_quantized: bool = False

    def start_qat(self, handle: QatHandle) -> None:
        self.qat = handle
        self.ema_enabled = self.amp_enabled = False


@dataclass
class Context:
    """What a runtime may touch. ``state`` is read by the loop (EMA, AMP, QAT) and written by the runtimes."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    plan: Plan
    masks: MaskRegistry
    log: Callable[[str], None] = print
    state: RunState = field(default_factory=RunState)


class ModifierRuntime:
    """Base class. Subclasses set ``kinds`` and override the hooks they need."""

    kinds: ClassVar[tuple[str, ...]] = ()

    def __init__(self, spec: ModifierSpec | None, ctx: Context, index: int) -> None:
        self.spec, self.ctx, self.index = spec, ctx, index

    def on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.BatchStart):
            self.batch_start(event)
        elif isinstance(event, ev.OptimizerPreStep):
            self.pre_step(event)
        elif isinstance(event, ev.OptimizerPostStep):
            self.post_step(event)
        elif isinstance(event, ev.EpochEnd):
            self.epoch_end(event)
        elif isinstance(event, ev.LossComputed):
            self.loss(event)

    def batch_start(self, e: ev.BatchStart) -> None: ...
    def loss(self, e: ev.LossComputed) -> None: ...
    def pre_step(self, e: ev.OptimizerPreStep) -> None: ...
    def post_step(self, e: ev.OptimizerPostStep) -> None: ...
    def epoch_end(self, e: ev.EpochEnd) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class NoopRuntime(ModifierRuntime):
    """EpochRangeModifier: only sets the horizon, which the plan already used."""

    kinds = ("EpochRangeModifier",)


class LearningRateRuntime(ModifierRuntime):
    """Writes ``plan.lr_at(step)`` (one LR per group) before every optimizer step."""

    kinds = LR_KINDS

    def pre_step(self, e: ev.OptimizerPreStep) -> None:
        set_lrs(self.ctx.optimizer, self.ctx.plan.lr_at(e.step))


class WeightDecayRuntime(ModifierRuntime):
    """SetWeightDecayModifier: writes the plan's weight decay for the step (group 1 keeps decay by default)."""

    kinds = ("SetWeightDecayModifier",)

    def pre_step(self, e: ev.OptimizerPreStep) -> None:
        for group, v in zip(self.ctx.optimizer.param_groups, self.ctx.plan.weight_decay_at(e.step)):
            if v is not None:
                group["weight_decay"] = float(v)


class Runtime:
    """Sends each event to every modifier runtime, in order. The loop owns the clock."""

    def __init__(self, modifiers: list[ModifierRuntime], ctx: Context) -> None:
        self.modifiers, self.ctx = modifiers, ctx

    def dispatch(self, event: ev.Event) -> None:
        for m in self.modifiers:
            m.on_event(event)
        if isinstance(event, ev.OptimizerPreStep):
            self.ctx.masks.mask_grads()
        elif isinstance(event, ev.OptimizerPostStep):
            self.ctx.masks.mask_weights(self.ctx.optimizer)

    def state_dict(self) -> dict[str, Any]:
        return {str(m.index): m.state_dict() for m in self.modifiers}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for m in self.modifiers:
            m.load_state_dict(state.get(str(m.index), {}))
