"""Fake-quantization modules (straight-through estimator).

- `ActFakeQuant`: per-tensor asymmetric (uint8) activation fake-quant with an EMA min/max observer.
- `WeightFakeQuant`: per-output-channel symmetric (int8 [-127, 127]) weight fake-quant; the scale is the
  current per-channel max |w| / 127 while the observer is on, frozen after `disable_observer`.

State (scale, zero point, min/max) lives in **non-persistent** buffers so `model.state_dict()` keeps
only the float weights under ultralytics names; `engine.quant.qat.qat_state_dict` collects these.
Observers update only in `train()` mode (validation never moves the ranges).

Speed (QAT step goal <= 1.30x dense on CPU): torch's CPU `fake_quantize_*` kernels run ~30x slower
than an elementwise op, so `fake_quant` is clamp + a rounding STE (bit-identical forward, tested); on
CPU the observer's qparams are computed on Python floats (one `aminmax`, no chain of tiny tensor ops);
on other devices everything stays in tensor ops (no host sync).
"""

from __future__ import annotations

import math
import weakref

import torch
import torch.nn.functional as F
from torch import nn

from engine.quant.observers import affine_qparams, affine_qparams_py, ema_minmax_, f32, symmetric_qparams


# Adding then subtracting 1.5 * 2**23 rounds a float32 of magnitude < 2**22 to the nearest integer, ties to
# even (IEEE addition does the rounding). torch.round on CPU is ~25x slower than an add, and the rounded
# values here are clamped codes (|t| <= 255), so the trick is exact.
_MAGIC = 12582912.0


class _RoundSTE(torch.autograd.Function):
    """round(x / s) * s forward (ties to even), identity backward (the straight-through estimator)."""

    @staticmethod
    def forward(ctx, x, scale, inv_scale):
        if x.dtype == torch.float32:
            if not isinstance(inv_scale, torch.Tensor):  # x * inv + M in one pass
                return torch.add(x.new_full((), _MAGIC), x, alpha=inv_scale).sub_(_MAGIC).mul_(scale)
            return (x * inv_scale).add_(_MAGIC).sub_(_MAGIC).mul_(scale)
        return (x * inv_scale).round_().mul_(scale)

    @staticmethod
    def backward(ctx, g):
        return g, None, None


def fake_quant(x: torch.Tensor, scale, zero_point, qmin: int, qmax: int) -> torch.Tensor:
    """Affine fake quantization with straight-through gradients (zero outside the range).

    Numerically `(clamp(round(x / s) + z, qmin, qmax) - z) * s` (torch's `fake_quantize_*` forward,
    round half to even, x * (1/s) like torch's kernel; the CPU path may fuse x * (1/s) + M in one FMA,
    which can differ only when x / s lies within float rounding of a .5 tie): since z is an integer, clamping x to
    [(qmin - z) s, (qmax - z) s] first is the same thing. The gradient is 1 inside that interval, 0
    outside (torch's mask differs only within half a step beyond the range). `scale`/`zero_point`: Python
    numbers, or tensors broadcasting against `x` (per tensor: 0-dim; per channel: shaped (C, 1, 1, 1)).
    """
    if isinstance(scale, torch.Tensor):
        zf = zero_point.to(scale.dtype)
        lo, hi, inv = (qmin - zf) * scale, (qmax - zf) * scale, 1.0 / scale
        return _RoundSTE.apply(torch.clamp(x, lo, hi), scale, inv)
    # Python qparams: hardtanh == clamp forward, and its backward is one fused pass (clamp's is three).
    lo, hi = (qmin - zero_point) * scale, (qmax - zero_point) * scale
    return _RoundSTE.apply(F.hardtanh(x, lo, hi), scale, 1.0 / scale)


_QMARK = "_recipec_quantized"


def mark_quantized(t: torch.Tensor, scale) -> torch.Tensor:
    """Tag `t` as the output of a fake-quant with `scale` (a 0-dim tensor or a Python float) for the
    `QuantSpec.quantize_silu` layout: the next quantized input that receives `t` as is skips its own
    fake-quant (one Q/DQ per tensor) and uses `scale` for its int32 bias grid. Returns `t`."""
    setattr(t, _QMARK, scale)
    return t


def is_quantized(t: torch.Tensor) -> bool:
    """True when `t` was tagged by `mark_quantized` (the tag does not survive any op on `t`)."""
    return getattr(t, _QMARK, None) is not None


def input_scale(t: torch.Tensor):
    """The scale `t` was tagged with (None when untagged)."""
    return getattr(t, _QMARK, None)


def quantize_bias(b: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Round a conv bias to the int32 grid `scale` = input scale * per-channel weight scale, as onnxruntime
    stores it in QLinearConv (straight-through gradient). Without it the runtime's own bias rounding moves
    some outputs across a uint8 rounding boundary, and those one-step flips grow through the int8 graph."""
    q = torch.round(b.detach() / scale) * scale
    return b + (q - b).detach()


class _SharedResults:
    """A few recent (input -> output) results of ActFakeQuant calls, for quantizers that share an input.

    Entries hold a weak reference to the input (identity check) and the output; the oldest is dropped
    beyond `size`, so at most a handful of activations are kept alive a little longer.
    """

    def __init__(self, size: int = 8):
        self.size = size
        self.items: dict[tuple, tuple] = {}
        self.hits = 0

    def get(self, key: tuple):
        hit = self.items.get(key)
        self.hits += hit is not None
        return hit

    def put(self, key: tuple, value: tuple) -> None:
        self.items.pop(key, None)
        self.items[key] = value
        while len(self.items) > self.size:
            self.items.pop(next(iter(self.items)))


_SHARED = _SharedResults()


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
        self._py: tuple[float, float, float, int] | None = None  # (min, max, scale, zp) mirror of the buffers

    def refresh(self) -> None:
        """Re-read the Python mirror from the buffers (after loading state)."""
        self._py = (float(self.min_val), float(self.max_val), float(self.scale), int(self.zero_point))

    def _observe_cpu(self, x: torch.Tensor) -> None:
        bmn, bmx = torch.aminmax(x.detach())
        bmn, bmx = float(bmn), float(bmx)
        if self._py is None:
            self.refresh()
        mn, mx = self._py[0], self._py[1]
        if math.isinf(mn):
            mn, mx = bmn, bmx
        else:
            mn, mx = f32(mn + self.c * (bmn - mn)), f32(mx + self.c * (bmx - mx))
        s, z = affine_qparams_py(mn, mx, self.qmin, self.qmax)
        self._py = (mn, mx, s, z)
        self.min_val.fill_(mn)
        self.max_val.fill_(mx)
        self.scale.fill_(s)
        self.zero_point.fill_(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cpu = x.device.type == "cpu"
        observe = self.observer_enabled and self.training
        if cpu:
            if self._py is None:
                self.refresh()
            key = self._share_key(x, observe)
            hit = _SHARED.get(key)
            if hit is not None and hit[0]() is x:  # same tensor, same config, same state: same result
                self._set_py(hit[1])
                return hit[2]
            if observe:
                self._observe_cpu(x)
            out = fake_quant(x, self._py[2], self._py[3], self.qmin, self.qmax) if self.fake_quant_enabled else x
            _SHARED.put(key, (weakref.ref(x), self._py, out))
            return out
        if observe:
            ema_minmax_(self.min_val, self.max_val, x, self.c)
            s, z = affine_qparams(self.min_val, self.max_val, self.qmin, self.qmax)
            self.scale.copy_(s)
            self.zero_point.copy_(z)
            self._py = None
        if not self.fake_quant_enabled:
            return x
        return fake_quant(x, self.scale, self.zero_point, self.qmin, self.qmax)

    def _share_key(self, x: torch.Tensor, observe: bool) -> tuple:
        """Two quantizers fed the same tensor (C3's cv1 and cv2, a Bottleneck's cv1 and its residual add)
        give bit-identical results when their config and state match: the second reuses the first's
        output and adopts its updated state (exactly what observing the same data would produce)."""
        return (id(x), x._version, observe, self.fake_quant_enabled, self.qmin, self.qmax, self.c, self._py,
                torch.is_grad_enabled())

    def _set_py(self, py: tuple[float, float, float, int]) -> None:
        if py != self._py:
            self._py = py
            self.min_val.fill_(py[0])
            self.max_val.fill_(py[1])
            self.scale.fill_(py[2])
            self.zero_point.fill_(py[3])

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

    def refresh(self) -> None:  # symmetry with ActFakeQuant (no Python mirror needed)
        pass

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        shape = (-1,) + (1,) * (w.dim() - 1)
        amax = None
        if self.observer_enabled:
            with torch.no_grad():
                amax = w.detach().abs().reshape(w.shape[0], -1).amax(1)
                s = symmetric_qparams(amax, self.qmax)
                self.scale.copy_(s)
        else:
            s = self.scale
        if not self.fake_quant_enabled:
            return w
        s = s.reshape(shape)  # symmetric: zero point 0, range [qmin s, qmax s]
        lo, hi = self.qmin * s, self.qmax * s
        if amax is not None:
            # Every weight lies inside the range it was just observed from, but qmax * (amax / qmax) can
            # round a hair below amax in float: widen the clamp to the observed range so the largest
            # weight keeps its straight-through gradient (round() still maps it to qmax, as torch does).
            a = amax.reshape(shape)
            lo, hi = torch.minimum(lo, -a), torch.maximum(hi, a)
        return _RoundSTE.apply(torch.clamp(w, lo, hi), s, 1.0 / s)

    def extra_repr(self) -> str:
        return f"range=[{self.qmin}, {self.qmax}], per_channel(axis=0), symmetric"
