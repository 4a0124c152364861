"""Fake-quantization modules (straight-through estimator), built on torch's `fake_quantize_*` primitives.

- `ActFakeQuant`: per-tensor asymmetric (uint8) activation fake-quant with an EMA min/max observer.
- `WeightFakeQuant`: per-output-channel symmetric (int8 [-127, 127]) weight fake-quant; the scale is the
  current per-channel max |w| / 127 while the observer is on, frozen after `disable_observer`.

State (scale, zero point, min/max) lives in **non-persistent** buffers so `model.state_dict()` keeps
only the float weights under ultralytics names; `engine.quant.qat.qat_state_dict` collects these.
Observers update only in `train()` mode (validation never moves the ranges).
"""

from __future__ import annotations

import torch
from torch import nn

from engine.quant.observers import affine_qparams, ema_minmax_, symmetric_qparams


class ActFakeQuant(nn.Module):
    def __init__(self, qmin: int = 0, qmax: int = 255, averaging_constant: float = 0.01):
        super().__init__()
        self.qmin, self.qmax, self.c = qmin, qmax, averaging_constant
        self.observer_enabled = True
        self.fake_quant_enabled = True
        self.register_buffer("min_val", torch.tensor(float("inf")), persistent=False)
        self.register_buffer("max_val", torch.tensor(float("-inf")), persistent=False)
        self.register_buffer("scale", torch.tensor(1.0), persistent=False)
        self.register_buffer("zero_point", torch.tensor(0, dtype=torch.int32), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.observer_enabled and self.training:
            ema_minmax_(self.min_val, self.max_val, x, self.c)
            s, z = affine_qparams(self.min_val, self.max_val, self.qmin, self.qmax)
            self.scale.copy_(s)
            self.zero_point.copy_(z)
        if not self.fake_quant_enabled:
            return x
        return torch.fake_quantize_per_tensor_affine(x, self.scale, self.zero_point, self.qmin, self.qmax)

    def qparams(self) -> tuple[float, int]:
        """(scale, zero point) as Python numbers, for export."""
        return float(self.scale), int(self.zero_point)

    def extra_repr(self) -> str:
        return f"range=[{self.qmin}, {self.qmax}], per_tensor, ema={self.c}"


class WeightFakeQuant(nn.Module):
    def __init__(self, channels: int, qmin: int = -127, qmax: int = 127):
        super().__init__()
        self.qmin, self.qmax = qmin, qmax
        self.observer_enabled = True
        self.fake_quant_enabled = True
        self.register_buffer("scale", torch.ones(channels), persistent=False)
        self.register_buffer("zero_point", torch.zeros(channels, dtype=torch.int32), persistent=False)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        if self.observer_enabled:
            with torch.no_grad():
                amax = w.detach().abs().reshape(w.shape[0], -1).amax(1)
                self.scale.copy_(symmetric_qparams(amax, self.qmax))
        if not self.fake_quant_enabled:
            return w
        return torch.fake_quantize_per_channel_affine(w, self.scale, self.zero_point, 0, self.qmin, self.qmax)

    def extra_repr(self) -> str:
        return f"range=[{self.qmin}, {self.qmax}], per_channel(axis=0), symmetric"
