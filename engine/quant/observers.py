"""Observers and qparam math for fake quantization (tensor ops only: no host sync, no Python per element).

- `ema_minmax_(mn, mx, x, c)`: exponential moving average of the batch min/max, in place
  (`m <- m + c * (batch - m)`, c = averaging constant, 0.01 by default); the first batch (buffers still
  +inf/-inf) initialises them. Why EMA: QAT batches vary; a running range is stabler than the last batch.
- `affine_qparams(mn, mx, qmin, qmax)`: asymmetric scale / zero point with 0 inside the range.
- `symmetric_qparams(amax, qmax)`: per-channel symmetric scale (zero point 0).
- `affine_qparams_py`, `f32`: the same on Python floats (the CPU fast path of `ActFakeQuant`).
"""

from __future__ import annotations

import math
import struct

import torch

EPS = torch.finfo(torch.float32).eps


@torch.no_grad()
def ema_minmax_(mn: torch.Tensor, mx: torch.Tensor, x: torch.Tensor, c: float) -> None:
    bmn, bmx = torch.aminmax(x.detach())
    bmn, bmx = bmn.float(), bmx.float()
    first = torch.isinf(mn)
    mn.copy_(torch.where(first, bmn, mn + c * (bmn - mn)))
    mx.copy_(torch.where(first, bmx, mx + c * (bmx - mx)))


@torch.no_grad()
def affine_qparams(mn: torch.Tensor, mx: torch.Tensor, qmin: int, qmax: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale (float32) and zero point (int32) for [min(mn,0), max(mx,0)] onto [qmin, qmax]."""
    lo = torch.clamp(mn, max=0.0)
    hi = torch.clamp(mx, min=0.0)
    lo = torch.where(torch.isinf(lo), torch.zeros_like(lo), lo)
    hi = torch.where(torch.isinf(hi), torch.ones_like(hi), hi)
    scale = torch.clamp((hi - lo) / float(qmax - qmin), min=EPS)
    zp = torch.clamp(qmin - torch.round(lo / scale), qmin, qmax).to(torch.int32)
    return scale, zp


@torch.no_grad()
def symmetric_qparams(amax: torch.Tensor, qmax: int) -> torch.Tensor:
    """Per-channel scale so that +-amax maps to +-qmax (zero point 0)."""
    return torch.clamp(amax.float() / float(qmax), min=EPS)


_F32 = struct.Struct("f")


def f32(v: float) -> float:
    """Round a Python float to the nearest float32 (scales are float32 in torch and in ONNX)."""
    return _F32.unpack(_F32.pack(v))[0]


def affine_qparams_py(mn: float, mx: float, qmin: int, qmax: int) -> tuple[float, int]:
    """Python-float twin of `observers.affine_qparams` (same rules: 0 in range, float32 scale)."""
    lo, hi = min(mn, 0.0), max(mx, 0.0)
    if math.isinf(lo) or math.isinf(hi):
        lo, hi = 0.0, 1.0
    scale = f32(max((hi - lo) / float(qmax - qmin), EPS))
    zp = int(min(max(qmin - round(lo / scale), qmin), qmax))
    return scale, zp
