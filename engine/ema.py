"""Model EMA as YOLOv5 describes it, with pruning masks applied to the average too.

``decay(updates) = 0.9999 * (1 - exp(-updates / 2000))``: the average follows the model closely early on
and slowly later. Every floating-point entry of the state dict (weights, biases, BN running stats) is averaged;
integer buffers (``num_batches_tracked``) are copied. Pruned positions are multiplied by the mask after each
update so the EMA keeps every zero bit-exact (SparseML lost sparsity in the EMA copy, issue #1486).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping

import torch
from torch import nn


class ModelEMA:
    """Exponential moving average of a model's state dict. ``enabled`` is turned off at QAT start."""

    def __init__(self, model: nn.Module, decay: float = 0.9999, tau: float = 2000.0, updates: int = 0):
        self.ema = copy.deepcopy(_unwrap(model)).eval()
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.decay, self.tau, self.updates = decay, tau, updates
        self.enabled = True

    def decay_at(self, updates: int) -> float:
        """The weight kept from the old average at update number ``updates`` (1-based)."""
        return self.decay * (1.0 - math.exp(-updates / self.tau))

    @torch.no_grad()
    def update(self, model: nn.Module, masks: Mapping[str, torch.Tensor] | None = None) -> None:
        """Blend in ``model``'s current state, then zero the masked positions."""
        if not self.enabled:
            return
        self.updates += 1
        d = self.decay_at(self.updates)
        ema_f, src_f, ema_i, src_i = self._pairs(_unwrap(model))
        if ema_f:  # ema += (1 - d) * (model - ema), one fused op over all float tensors
            torch._foreach_lerp_(ema_f, src_f, 1.0 - d)
        for e, s in zip(ema_i, src_i):
            e.copy_(s)
        if masks:
            self.apply_masks(masks)

    def _pairs(self, model: nn.Module):
        """(ema floats, model floats, ema others, model others), cached per source model."""
        key = id(model)
        if getattr(self, "_cache_key", None) != key:
            self._match_layout(model)
            src = model.state_dict(keep_vars=False)
            ema = self.ema.state_dict()
            if set(src) != set(ema):
                raise ValueError("EMA and model state dicts differ (was the model changed after the EMA was built?)")
            names = list(ema)
            fl = [n for n in names if ema[n].dtype.is_floating_point and src[n].dtype == ema[n].dtype]
            ot = [n for n in names if n not in set(fl)]
            self._cache = ([ema[n] for n in fl], [src[n] for n in fl], [ema[n] for n in ot], [src[n] for n in ot])
            self._cache_key = key
        return self._cache

    @torch.no_grad()
    def _match_layout(self, model: nn.Module) -> None:
        """Give every EMA tensor the model tensor's strides: the model may go channels-last after this copy was
        made (engine/train.py converts on CUDA), and ``_foreach_lerp_`` only fuses when both sides share strides."""
        src = dict(model.named_parameters())
        src.update(model.named_buffers())
        for name, t in [*self.ema.named_parameters(), *self.ema.named_buffers()]:
            s = src.get(name)
            if s is not None and s.shape == t.shape and s.stride() != t.stride():
                t.data = torch.empty_like(s, dtype=t.dtype, device=t.device).copy_(t.data)

    @torch.no_grad()
    def apply_masks(self, masks: Mapping[str, torch.Tensor]) -> None:
        """Multiply each named EMA tensor by its mask (True/1 = kept)."""
        sd = self.ema.state_dict()
        for name, mask in masks.items():
            if name in sd:
                sd[name].mul_(mask.to(sd[name].dtype))

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.ema.state_dict().items()}

    def load_state_dict(self, state: Mapping[str, torch.Tensor], updates: int) -> None:
        self.ema.load_state_dict(state)  # copies in place: cached tensor references stay valid
        self.updates = updates


def _unwrap(model: nn.Module) -> nn.Module:
    """The module inside DDP / DataParallel."""
    return model.module if hasattr(model, "module") and isinstance(model.module, nn.Module) else model
