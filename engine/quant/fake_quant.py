"""Fake-quantization modules (straight-through estimator).

- `ActFakeQuant`: per-tensor asymmetric (uint8) activation fake-quant with an EMA min/max observer.
- `WeightFakeQuant`: per-output-channel symmetric (int8 [-127, 127]) weight fake-quant; the scale is the
  current per-channel max |w| / 127 while the observer is on, frozen after `disable_observer`.

State (scale, zero point, min/max) lives in **non-persistent** buffers so `model.state_dict()` keeps
only the float weights under ultralytics names; `engine.quant.qat.qat_state_dict` collects these.
Observers update only in `train()` mode (validation never moves the ranges).

Speed (QAT step goal <= 1.30x dense on CPU; bench/qat_step_bench.py): torch's CPU `fake_quantize_*`
kernels run ~100x slower than an elementwise op (0.5M floats, 1 thread), so activations are fake-quantized
as hardtanh (the clamp, whose C++ backward is the straight-through mask) followed by an in-place
round-to-grid on its fresh output (bit-identical forward, tested); on CPU the observer's qparams are
computed on Python floats (amin + amax, no chain of tiny tensor ops); on other devices everything stays in
tensor ops (no host sync). A conv weight is folded, observed, quantized and divided back in one autograd
node (`_WeightFQ`) with a hand-written straight-through backward: per-layer Python and dispatcher
overhead, not arithmetic, dominates on small models.
"""

from __future__ import annotations

import math
import weakref

import torch
import torch.nn.functional as F
from torch import nn

from engine.quant.observers import EPS, affine_qparams, affine_qparams_py, ema_minmax_, f32


def _round_to_grid_(y: torch.Tensor, scale, inv_scale) -> torch.Tensor:
    """y <- round(y * (1/s)) * s (round half to even, as torch's kernels), in place on y's data and outside
    autograd: y is a fresh clamp output whose backward reads the clamp's *input*, so the rounding is
    invisible to autograd and its gradient passes straight through (the STE) with no extra node."""
    y.detach().mul_(inv_scale).round_().mul_(scale)
    return y


class _RoundInRange(torch.autograd.Function):
    """round(x * (1/s)) * s for an x known to lie strictly inside the clamp range (its min / max were just
    observed): three passes forward, and an identity backward (the STE with an all-ones mask), so no
    hardtanh forward pass and no hardtanh_backward pass. Values equal the clamped path's bit for bit."""

    @staticmethod
    def forward(ctx, x, scale, inv_scale):
        return x.mul(inv_scale).round_().mul_(scale)

    @staticmethod
    def backward(ctx, g):
        return g, None, None


def fake_quant(x: torch.Tensor, scale, zero_point, qmin: int, qmax: int) -> torch.Tensor:
    """Affine fake quantization with straight-through gradients (zero outside the range).

    Numerically `(clamp(round(x / s) + z, qmin, qmax) - z) * s` (torch's `fake_quantize_*` forward,
    round half to even, x * (1/s) like torch's kernel; bit-identical, tested): since z is an integer,
    clamping x to [(qmin - z) s, (qmax - z) s] first is the same thing. The gradient is 1 inside that
    interval, 0 outside (torch's mask differs only within half a step beyond the range). `scale`/`zero_point`:
    Python numbers (the CPU path), or tensors broadcasting against `x` (per tensor: 0-dim; per channel:
    shaped (C, 1, 1, 1); no host sync). One autograd node either way (the clamp's).
    """
    if isinstance(scale, torch.Tensor):
        zf = zero_point.to(scale.dtype)
        lo, hi = (qmin - zf) * scale, (qmax - zf) * scale
        return _round_to_grid_(torch.clamp(x, lo, hi), scale, 1.0 / scale)
    # hardtanh == clamp forward; its backward (one fused pass, strict bounds) is a C++ node.
    lo, hi = (qmin - zero_point) * scale, (qmax - zero_point) * scale
    return _round_to_grid_(F.hardtanh(x, lo, hi), scale, 1.0 / scale)


def _batch_minmax(x: torch.Tensor) -> tuple[float, float]:
    """(min, max) of x as Python floats, in one pass where x's memory is dense. `aminmax` of the 1-D view of a
    contiguous or channels-last tensor: 1.0 ms for 6.5M floats at 1 thread on the build machine, against 1.4 ms
    for amin + amax of the 4-D tensor (two passes, two parallel regions) and 38 ms for `aminmax` of a 4-D
    channels-last tensor (a slow reduction path). The same values: min and max do not depend on the order."""
    flat = None
    if x.is_contiguous():
        flat = x.view(-1)
    elif x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last):
        flat = x.permute(0, 2, 3, 1).view(-1)
    if flat is None or flat.numel() == 0:
        return x.amin().item(), x.amax().item()
    mn, mx = torch.aminmax(flat)
    return mn.item(), mx.item()


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

    Entries hold weak references to the input (identity check) and to the output: an output nothing holds
    any more (its forward graph was used by backward and freed) is never handed out again, so feeding the
    same input tensor to a later step cannot return a result whose graph is gone. The oldest entry is
    dropped beyond `size`; no activation is kept alive by the cache.
    """

    def __init__(self, size: int = 8):
        self.size = size
        self.items: dict[tuple, tuple] = {}
        self.hits = 0

    def get(self, key: tuple, x: torch.Tensor):
        """(state, output) stored for `x` under `key`, or None."""
        hit = self.items.get(key)
        if hit is None or hit[0]() is not x:
            return None
        out = hit[2]()
        if out is None:
            return None
        self.hits += 1
        return hit[1], out

    def put(self, key: tuple, x: torch.Tensor, state, out: torch.Tensor) -> None:
        self.items.pop(key, None)
        self.items[key] = (weakref.ref(x), state, weakref.ref(out))
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

    def _observe_cpu(self, x: torch.Tensor, py: tuple[float, float, float, int]) -> tuple[float, float, float, int]:
        """EMA update of the Python mirror from x's min/max (float32 rounding as the tensor path); writes the
        buffers too. Returns the new mirror."""
        bmn, bmx = _batch_minmax(x.detach())
        mn, mx = py[0], py[1]
        if math.isinf(mn):
            mn, mx = bmn, bmx
        else:
            c = self.c
            mn, mx = f32(mn + c * (bmn - mn)), f32(mx + c * (bmx - mx))
        s, z = affine_qparams_py(mn, mx, self.qmin, self.qmax)
        py = self._py = (mn, mx, s, z)
        self._batch_range = (bmn, bmx)
        b = self._buffers
        b["min_val"].fill_(mn)
        b["max_val"].fill_(mx)
        b["scale"].fill_(s)
        b["zero_point"].fill_(z)
        return py

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        observe = self.observer_enabled and self.training
        if x.device.type != "cpu":
            return self._forward_tensor(x, observe)
        py = self._py
        if py is None:
            self.refresh()
            py = self._py
        on = self.fake_quant_enabled
        # Two quantizers fed the same tensor (C3's cv1 and cv2, a Bottleneck's cv1 and its residual add)
        # give bit-identical results when their config and state match: the second reuses the first's
        # output and adopts its updated state (exactly what observing the same data would produce).
        key = (id(x), x._version, observe, on, self.qmin, self.qmax, self.c, py, torch.is_grad_enabled())
        hit = _SHARED.get(key, x)
        if hit is not None:
            self._set_py(hit[0])
            return hit[1]
        inside = False
        if observe:
            py = self._observe_cpu(x, py)
        out = x
        if on:
            s, z = py[2], py[3]
            lo, hi = (self.qmin - z) * s, (self.qmax - z) * s
            if observe:  # the batch's min / max are known: strictly inside the range, nothing clips
                inside = lo < self._batch_range[0] and self._batch_range[1] < hi
            if inside:  # same values; gradient 1 everywhere, as hardtanh's would be: no clamp, no mask pass
                out = _RoundInRange.apply(x, s, 1.0 / s)
            else:
                # hardtanh == clamp forward; its backward (one fused pass, strict bounds) is a C++ node.
                out = _round_to_grid_(F.hardtanh(x, lo, hi), s, 1.0 / s)
        _SHARED.put(key, x, py, out)
        return out

    def _forward_tensor(self, x: torch.Tensor, observe: bool) -> torch.Tensor:
        """Non-CPU devices: observer and qparams in tensor ops (no host sync)."""
        if observe:
            ema_minmax_(self.min_val, self.max_val, x, self.c)
            s, z = affine_qparams(self.min_val, self.max_val, self.qmin, self.qmax)
            self.scale.copy_(s)
            self.zero_point.copy_(z)
            self._py = None
        if not self.fake_quant_enabled:
            return x
        return fake_quant(x, self.scale, self.zero_point, self.qmin, self.qmax)

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


class _WeightFQ(torch.autograd.Function):
    """Per-channel symmetric weight fake-quant of `w * f` (f: per-channel fold factor, or None), optionally
    divided back by f (`divide`: the BN-live fold), as one autograd node with a hand-written backward.

    With `bn` (a BatchNorm), the `f` input is its gamma (or None) and f = gamma / sqrt(running_var + eps) is
    formed here (no autograd nodes for it); gamma receives (d/df) / sqrt(running_var + eps).
    Forward: wf = w * f; the observer (when on) sets the scale from max |wf| per channel, so nothing can clip
    and no clamp is needed; with a frozen scale wf is clamped to [qmin s, qmax s] (the mask is kept).
    q = round(clamped * (1/s)) * s (bit-identical to torch's per-channel fake-quant); out = q / f or q.
    Straight-through backward (round = identity, clamp masks): d out/dw = mask (divide) or mask * f;
    d out/df per channel = sum(g * (mask * wf - q)) / f^2 (divide) or sum(g * mask * w); the (wf - q)
    difference is formed directly, not as the two large sums autograd would cancel.
    """

    @staticmethod
    def forward(ctx, w, f, fq, divide, grad, bn):
        nd = w.dim()
        shape, dims = ((-1, 1, 1, 1), (1, 2, 3)) if nd == 4 else ((-1,) + (1,) * (nd - 1), tuple(range(1, nd)))
        std = None
        if bn is not None:  # f = gamma / sqrt(running_var + eps), exactly as fold.bn_factor forms it
            std = torch.sqrt(bn.running_var + bn.eps)
            f = (f / std if f is not None else 1.0 / std).reshape(shape)
        wf = w if f is None else w * f
        scale = fq._buffers["scale"]
        clip = not fq.observer_enabled
        if not clip:  # scale = max |wf| / qmax per channel, as observers.symmetric_qparams; nothing can clip
            torch.div(wf.abs().amax(dims), float(fq.qmax), out=scale).clamp_(min=EPS)
        s = scale.view(shape)
        mask = None
        src = wf
        if clip:  # scale frozen: weights can lie beyond it
            src = torch.maximum(wf, fq.qmin * s)
            torch.minimum(src, fq.qmax * s, out=src)
            mask = src == wf if grad else None
        q = torch.mul(src, torch.reciprocal(s)).round_().mul_(s)
        need_f = grad and f is not None and ctx.needs_input_grad[1]
        ctx.divide, ctx.mask, ctx.std, ctx.need_f = divide, mask, std, need_f
        if f is None:
            return q
        if divide:
            if need_f:  # e = mask * wf - q, formed in wf's (own) buffer
                e = wf if mask is None else wf.mul_(mask)
                ctx.save_for_backward(f, e.sub_(q))
            return q.div_(f)
        if grad:
            ctx.save_for_backward(f, w if need_f else None)
        return q

    @staticmethod
    def backward(ctx, g):
        mask = ctx.mask
        gm = g if mask is None else g * mask
        saved = ctx.saved_tensors
        if not saved:  # f is None, or no gradient to f
            return gm, None, None, None, None, None
        f, other = saved
        dims = tuple(range(1, g.dim()))
        gf = None
        if ctx.divide:
            if ctx.need_f:
                gf = torch.mul(g, other).sum(dims, keepdim=True).div_(f).div_(f)
        elif ctx.need_f:
            gf = torch.mul(gm, other).sum(dims, keepdim=True)
        if gf is not None and ctx.std is not None:
            gf = gf.reshape(-1).div_(ctx.std)  # d f / d gamma = 1 / std
        return (gm if ctx.divide else gm * f), gf, None, None, None, None


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

    def _observe(self, w: torch.Tensor, shape: tuple) -> tuple[torch.Tensor, bool]:
        """(per-channel scale viewed as `shape`, clip), no autograd: with the observer on, `scale` = max |w|
        per channel / qmax (as `observers.symmetric_qparams`), and nothing can clip (clip False); else the
        frozen `scale` (clip True)."""
        scale = self.scale
        if self.observer_enabled:
            torch.div(w.detach().abs().amax(tuple(range(1, w.dim()))), float(self.qmax), out=scale)
            scale.clamp_(min=EPS)
        return scale.view(shape), not self.observer_enabled

    def forward(self, w: torch.Tensor, f: torch.Tensor | None = None, divide: bool = False,
                bn: nn.BatchNorm2d | None = None) -> torch.Tensor:
        """Fake-quantized `w` (per output channel), or of `w * f` when the per-channel fold factor `f`
        (shaped (C, 1, 1, 1)) is given, divided back by f when `divide` (the BN-live fold: conv(x, q(w f) / f)).
        `bn` instead of `f`: f = that BatchNorm's gamma / sqrt(running_var + eps) (as `fold.bn_factor`),
        formed inside the one autograd node (same values, fewer nodes; gamma gets its gradient).

        Every weight lies inside the range observed from it, but qmax * (amax / qmax) can round a hair below
        amax in float: no clamp is applied while observing, so the largest weight keeps its straight-through
        gradient (round() still maps it to qmax, as torch does)."""
        if bn is not None:
            if f is not None:
                raise ValueError("pass either f or bn")
            if not self.fake_quant_enabled:
                std = torch.sqrt(bn.running_var + bn.eps)
                f = ((bn.weight / std) if bn.affine else 1.0 / std).reshape((-1,) + (1,) * (w.dim() - 1))
                bn = None
            else:
                f = bn.weight if bn.affine else None  # gamma: the input the gradient is routed to
        if not self.fake_quant_enabled:
            wf = w if f is None else w * f
            with torch.no_grad():
                self._observe(wf, (-1,) + (1,) * (w.dim() - 1))
            return wf / f if divide and f is not None else wf
        grad = torch.is_grad_enabled() and (w.requires_grad or (f is not None and f.requires_grad))
        return _WeightFQ.apply(w, f, self, bool(divide and (f is not None or bn is not None)), grad, bn)

    def extra_repr(self) -> str:
        return f"range=[{self.qmin}, {self.qmax}], per_channel(axis=0), symmetric"
