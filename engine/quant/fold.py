"""Conv+BN folding: the float fold used by export, and the QAT modules that train through it.

`fold_conv_bn(w, b, bn)`: w_f = w * gamma / sqrt(var + eps) (per output channel), b_f = beta + (b - mean)
* gamma / sqrt(var + eps). A masked `w` keeps its zeros in `w_f` (a per-channel multiply).

`QATConvBn` replaces a conv block `(conv: Conv2d, bn: BatchNorm2d[, act])` in place. It keeps the very
same `conv`, `bn`, `act` children, so parameter names (`model.0.conv.weight`, `model.0.bn.running_mean`)
and Parameter objects (optimizer, MaskSet) are unchanged. Forward:
- BN live (training, stats not frozen): batch-norm of conv(aq(x), wq(w_f)) / f with batch statistics,
  running stats updated (f = gamma / sqrt(running_var + eps); w_f uses the running stats). This is the
  standard "simulated fold" so the quantized weight is the one that will be exported; the division by
  f is applied to the weight (linear: same result, no extra pass over the activation). In a whole-model forward
  the weights of all such blocks are prepared together by the model's pre-hook (`weight_batch`; same values).
- BN frozen (`freeze_bn_stats`) or eval: y = conv(aq(x), wq(w_f)) + b_f, exactly the exported math.
With `QuantSpec.quantize_silu` the block ends in int8 too: y = oq(conv), out = mq(y * sq(sigmoid(y)))
(SiLU spelled as the two ops onnxruntime fuses as QLinearSigmoid / QLinearMul), the output is tagged
(`mark_quantized`) and an input that arrives tagged skips `aq` (it already sits on a uint8 grid).
`QATConv2d` is the same for a bare conv (no BN; e.g. the Detect head's 1x1 convs); it subclasses
`nn.Conv2d` and reuses the original `weight`/`bias` Parameters.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.quant.fake_quant import (ActFakeQuant, WeightFakeQuant, input_scale, is_quantized, mark_quantized,
                                     quantize_bias)
from engine.quant.spec import QuantSpec
from engine.quant.weight_batch import take as take_batched_weight


def bn_factor(bn: nn.BatchNorm2d) -> torch.Tensor:
    """gamma / sqrt(running_var + eps), per channel."""
    std = torch.sqrt(bn.running_var + bn.eps)
    return (bn.weight / std) if bn.affine else 1.0 / std


def fold_conv_bn(w: torch.Tensor, b: torch.Tensor | None, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Folded (weight, bias) of conv(w, b) followed by BN in eval mode."""
    f = bn_factor(bn)
    beta = bn.bias if bn.affine else torch.zeros_like(bn.running_mean)
    b0 = b if b is not None else torch.zeros_like(bn.running_mean)
    return w * f.reshape(-1, *([1] * (w.dim() - 1))), beta + (b0 - bn.running_mean) * f


def _conv(conv: nn.Conv2d, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    if conv.padding_mode != "zeros":
        raise ValueError("QAT supports zero padding only")
    return F.conv2d(x, w, b, conv.stride, conv.padding, conv.dilation, conv.groups)


class QATConvBn(nn.Module):
    """Quantization-aware conv block with BN folded (see module docstring). `orig` restores the float block."""

    def __init__(self, block: nn.Module, spec: QuantSpec):
        super().__init__()
        self.conv = block.conv
        self.bn = block.bn
        self.act = getattr(block, "act", None) or nn.Identity()
        qa, qw = spec.act_range, spec.weight_range
        self.aq = ActFakeQuant(*qa, spec.averaging_constant)
        self.wq = WeightFakeQuant(self.conv.out_channels, *qw)
        self.int8_graph = spec.quantize_silu
        out_q = spec.quantize_conv_activations or spec.quantize_silu
        self.oq = ActFakeQuant(*qa, spec.averaging_constant) if out_q else None
        silu = isinstance(self.act, nn.SiLU)
        self.sq = ActFakeQuant(*qa, spec.averaging_constant) if spec.quantize_silu and silu else None
        has_act = not isinstance(self.act, nn.Identity)
        self.mq = ActFakeQuant(*qa, spec.averaging_constant) if spec.quantize_silu and has_act else None
        self.bn_frozen = False
        self._orig = [block]  # a list: not registered as a child (no duplicate state-dict keys)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sx = input_scale(x) if self.int8_graph else None
        if sx is None:
            x = self.aq(x)
        if self.training and not self.bn_frozen:
            # BN live: conv(x, q(w f)) / f == conv(x, q(w f) / f): divide the (small) weight, not the activation
            # (the weight fake-quant forms f, folds, quantizes and divides in one autograd node).
            w = take_batched_weight(self)  # the model's pre-hook may have quantized it with its peers
            if w is None:
                w = self.wq(self.conv.weight, bn=self.bn, divide=True)
            y = self.bn(_conv(self.conv, x, w, self.conv.bias))
        else:
            f = bn_factor(self.bn).reshape(-1, 1, 1, 1)
            w = self.wq(self.conv.weight, f)
            beta = self.bn.bias if self.bn.affine else 0.0
            b0 = self.conv.bias if self.conv.bias is not None else 0.0
            bias = beta + (b0 - self.bn.running_mean) * f.reshape(-1)
            if self.int8_graph:
                bias = quantize_bias(bias, (self.aq.scale if sx is None else sx) * self.wq.scale)
            y = _conv(self.conv, x, w, bias)
        if self.oq is not None:
            y = self.oq(y)
        if self.sq is not None:
            y = self.mq(y * self.sq(torch.sigmoid(y)))
        else:
            y = self.act(y)
            if self.mq is not None:
                y = self.mq(y)
        if not self.int8_graph:
            return y
        last = self.mq if self.mq is not None else self.oq
        return mark_quantized(y, last.scale)

    def folded(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Float folded (weight, bias) from the current running stats (before weight fake-quant)."""
        return fold_conv_bn(self.conv.weight, self.conv.bias, self.bn)

    def train(self, mode: bool = True) -> "QATConvBn":
        super().train(mode)
        if self.bn_frozen:
            self.bn.eval()
        return self

    def strip(self) -> nn.Module:
        """The original float block, with the (trained) children put back."""
        block = self._orig[0]
        block.conv, block.bn = self.conv, self.bn
        if hasattr(block, "act"):
            block.act = self.act
        block.train(self.training)
        return block


class QATConv2d(nn.Conv2d):
    """A bare Conv2d with input and per-channel weight fake-quant; shares the original Parameters."""

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, spec: QuantSpec) -> "QATConv2d":
        new = cls.__new__(cls)
        nn.Module.__init__(new)
        for k in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "transposed",
                  "output_padding", "groups", "padding_mode"):
            setattr(new, k, getattr(conv, k))
        if hasattr(conv, "_reversed_padding_repeated_twice"):
            new._reversed_padding_repeated_twice = conv._reversed_padding_repeated_twice
        new.weight = conv.weight
        new.bias = conv.bias
        qa, qw = spec.act_range, spec.weight_range
        new.aq = ActFakeQuant(*qa, spec.averaging_constant)
        new.wq = WeightFakeQuant(conv.out_channels, *qw)
        new.int8_graph = spec.quantize_silu
        out_q = spec.quantize_conv_activations or spec.quantize_silu
        new.oq = ActFakeQuant(*qa, spec.averaging_constant) if out_q else None
        new._orig = [conv]
        new.train(conv.training)
        return new

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sx = input_scale(x) if self.int8_graph else None
        if sx is None:
            x = self.aq(x)
            sx = self.aq.scale
        w = self.wq(self.weight)
        bias = self.bias
        if self.int8_graph and bias is not None:
            bias = quantize_bias(bias, sx * self.wq.scale)
        y = _conv(self, x, w, bias)
        y = self.oq(y) if self.oq is not None else y
        return mark_quantized(y, self.oq.scale) if self.int8_graph else y

    def strip(self) -> nn.Module:
        conv = self._orig[0]
        conv.weight, conv.bias = self.weight, self.bias
        conv.train(self.training)
        return conv


class QATAdd(nn.Module):
    """Residual add with both inputs fake-quantized (uint8, per tensor); with `quantize_silu`, inputs that
    arrive already quantized are used as is and the sum is fake-quantized (`oq`) and tagged."""

    def __init__(self, add: nn.Module, spec: QuantSpec):
        super().__init__()
        qa = spec.act_range
        self.aq_a = ActFakeQuant(*qa, spec.averaging_constant)
        self.aq_b = ActFakeQuant(*qa, spec.averaging_constant)
        self.int8_graph = spec.quantize_silu
        self.oq = ActFakeQuant(*qa, spec.averaging_constant) if spec.quantize_silu else None
        self._orig = [add]

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if self.int8_graph:
            a = a if is_quantized(a) else self.aq_a(a)
            b = b if is_quantized(b) else self.aq_b(b)
            return mark_quantized(self.oq(self._orig[0](a, b)), self.oq.scale)
        return self._orig[0](self.aq_a(a), self.aq_b(b))

    def strip(self) -> nn.Module:
        return self._orig[0]
