"""Export-time modules: a float or QAT model turned into a frozen graph that ONNX export traces cleanly.

`to_export_module(model)` deep-copies `model` (eval mode) and replaces:
- every conv block `(conv, bn[, act])` -> `FoldedConv` (BN folded into weight and bias);
- every `QATConvBn` / `QATConv2d` -> `QConvExport`: input Q/DQ (uint8, per tensor), the folded weight
  through a per-channel Q/DQ (int8, axis 0), conv, optional output Q/DQ, act;
- every `QATAdd` -> `QAddExport` (both inputs through Q/DQ);
- every `MaxPool2d` / nearest `Upsample` -> `GridPreserving` (in the int8 graph: the input's Q/DQ repeated
  after the op, exact, so onnxruntime keeps it and the following concat in uint8).
With `QuantSpec.quantize_silu` (the int8-graph layout) the same modules also emit the conv-output,
sigmoid-output and SiLU-output Q/DQ (SiLU as Sigmoid + Mul) and the add-output Q/DQ, and skip the input
Q/DQ of a tensor that already came out of one (the same tag rule as the QAT forward, so the ONNX
computes exactly what the fake-quant model computes).
torch's exporter emits `torch.fake_quantize_*` as QuantizeLinear + DequantizeLinear; `engine.export.onnx`
then stores each weight as an int8 initializer (exact zeros stay zeros: round(0 / s) = 0).
The qparams used are the trained ones (frozen scale when the observer was disabled; otherwise the
per-channel max |w_f| / 127, identical to what the QAT forward used).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from engine.quant.fake_quant import input_scale, mark_quantized
from engine.quant.fold import QATAdd, QATConv2d, QATConvBn, fold_conv_bn
from engine.quant.observers import symmetric_qparams
from engine.quant.qat import _is_conv_bn_block

# ONNX int8 QuantizeLinear saturates to [-128, 127]; our weights never use -128 (range [-127, 127]), so
# exporting with the ONNX range gives bit-identical codes.
W_QMIN, W_QMAX = -128, 127


class FoldedConv(nn.Module):
    """Conv with BN folded in, then the block's activation."""

    def __init__(self, conv: nn.Conv2d, w: torch.Tensor, b: torch.Tensor, act: nn.Module):
        super().__init__()
        self.conv = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                              conv.dilation, conv.groups, bias=True)
        with torch.no_grad():
            self.conv.weight.copy_(w)
            self.conv.bias.copy_(b)
        self.act = act

    def forward(self, x):
        return self.act(self.conv(x))


class QConvExport(nn.Module):
    """Q/DQ(input) -> Conv(Q/DQ(weight)) [-> Q/DQ(output)] -> act, all qparams constant."""

    def __init__(self, conv: nn.Conv2d, w: torch.Tensor, b: torch.Tensor | None, w_scale: torch.Tensor,
                 a_qp: tuple[float, int], o_qp: tuple[float, int] | None, act: nn.Module,
                 s_qp: tuple[float, int] | None = None, m_qp: tuple[float, int] | None = None,
                 int8_graph: bool = False):
        super().__init__()
        self.stride, self.padding, self.dilation, self.groups = conv.stride, conv.padding, conv.dilation, conv.groups
        self.register_buffer("weight", w.detach().clone())
        self.register_buffer("bias", b.detach().clone() if b is not None else None)
        self.register_buffer("w_scale", w_scale.detach().float().clone())
        self.register_buffer("w_zp", torch.zeros(w.shape[0], dtype=torch.int32))
        self.a_qp, self.o_qp, self.act = a_qp, o_qp, act
        self.s_qp, self.m_qp, self.int8_graph = s_qp, m_qp, int8_graph

    def forward(self, x):
        sx = input_scale(x) if self.int8_graph else None
        if sx is None:
            x = _fq(x, self.a_qp)
            sx = self.a_qp[0]
        w = torch.fake_quantize_per_channel_affine(self.weight, self.w_scale, self.w_zp, 0, W_QMIN, W_QMAX)
        bias = self.bias
        if self.int8_graph and bias is not None:  # on the int32 grid input scale * weight scale
            bias = _grid_bias(bias, float(sx), self.w_scale)
        y = F.conv2d(x, w, bias, self.stride, self.padding, self.dilation, self.groups)
        if self.o_qp is not None:
            y = _fq(y, self.o_qp)
        if self.s_qp is not None:  # SiLU as Sigmoid -> Q/DQ -> Mul -> Q/DQ (QLinearSigmoid, QLinearMul)
            y = _fq(y * _fq(torch.sigmoid(y), self.s_qp), self.m_qp)
        else:
            y = self.act(y)
            if self.m_qp is not None:
                y = _fq(y, self.m_qp)
        if not self.int8_graph:
            return y
        return _tag(y, self.m_qp or self.o_qp)


def _grid_bias(bias: torch.Tensor, sx: float, w_scale: torch.Tensor) -> torch.Tensor:
    """round(b / (sx * s_w)) * (sx * s_w) in float32, computed outside the trace (numpy) so the exported
    graph holds it as one constant initializer; same float32 arithmetic as `quantize_bias`."""
    import numpy as np

    bs = (np.float32(sx) * w_scale.detach().cpu().numpy().astype(np.float32)).astype(np.float32)
    b = bias.detach().cpu().numpy().astype(np.float32)
    return torch.from_numpy((np.round(b / bs) * bs).astype(np.float32))


def _fq(x, qp: tuple[float, int]):
    return torch.fake_quantize_per_tensor_affine(x, qp[0], qp[1], 0, 255)


class QAddExport(nn.Module):
    def __init__(self, qa: QATAdd):
        super().__init__()
        self.qp_a, self.qp_b = qa.aq_a.qparams(), qa.aq_b.qparams()
        self.int8_graph = getattr(qa, "int8_graph", False)
        self.qp_o = qa.oq.qparams() if getattr(qa, "oq", None) is not None else None

    def forward(self, a, b):
        if self.int8_graph:
            a = a if input_scale(a) is not None else _fq(a, self.qp_a)
            b = b if input_scale(b) is not None else _fq(b, self.qp_b)
            return _tag(_fq(a + b, self.qp_o), self.qp_o)
        return _fq(a, self.qp_a) + _fq(b, self.qp_b)


_QP = "_recipec_export_qp"


def _tag(y: torch.Tensor, qp: tuple[float, int]) -> torch.Tensor:
    """`mark_quantized` plus the full (scale, zero point), for `GridPreserving` downstream."""
    setattr(y, _QP, qp)
    return mark_quantized(y, qp[0])


class GridPreserving(nn.Module):
    """A nearest `Upsample` or a `MaxPool2d`: every output is one of its inputs, so a uint8-grid input gives
    an output on the same grid. In the int8 graph the export repeats the input's Q/DQ after the op (exact:
    re-quantizing a grid value returns it), so onnxruntime runs the op in uint8 and the consuming concat
    as QLinearConcat (without it, a Resize or MaxPool output reaches the concat in float and onnxruntime
    keeps a float Concat plus a QuantizeLinear). The QAT forward has no such quantizer and needs none."""

    def __init__(self, op: nn.Module):
        super().__init__()
        self.op = op

    def forward(self, x):
        y = self.op(x)
        qp = getattr(x, _QP, None)
        if qp is None:
            return y
        y = _fq(y, qp)
        setattr(y, _QP, qp)  # not `mark_quantized`: the QAT model does not tag it, so a conv still quantizes it
        return y


def _weight_scale(wq, w: torch.Tensor) -> torch.Tensor:
    if wq.observer_enabled:
        return symmetric_qparams(w.detach().abs().reshape(w.shape[0], -1).amax(1), wq.qmax)
    return wq.scale


@torch.no_grad()
def quantized_weight(m: nn.Module) -> torch.Tensor:
    """The fake-quantized (folded) weight a QAT conv exports, in float (codes * scale)."""
    w = m.folded()[0] if isinstance(m, QATConvBn) else m.weight
    s = _weight_scale(m.wq, w)
    return torch.fake_quantize_per_channel_affine(w, s, torch.zeros(w.shape[0], dtype=torch.int32), 0, W_QMIN, W_QMAX)


def _qp(fq) -> tuple[float, int] | None:
    return fq.qparams() if fq is not None else None


def _convert(m: nn.Module) -> nn.Module | None:
    if isinstance(m, QATConvBn):
        w, b = m.folded()
        return QConvExport(m.conv, w, b, _weight_scale(m.wq, w), m.aq.qparams(), _qp(m.oq), m.act,
                           _qp(getattr(m, "sq", None)), _qp(getattr(m, "mq", None)), getattr(m, "int8_graph", False))
    if isinstance(m, QATConv2d):
        return QConvExport(m, m.weight, m.bias, _weight_scale(m.wq, m.weight), m.aq.qparams(), _qp(m.oq),
                           nn.Identity(), int8_graph=getattr(m, "int8_graph", False))
    if isinstance(m, QATAdd):
        return QAddExport(m)
    if isinstance(m, nn.MaxPool2d) or (isinstance(m, nn.Upsample) and m.mode == "nearest"):
        return GridPreserving(m)
    if _is_conv_bn_block(m):
        w, b = fold_conv_bn(m.conv.weight, m.conv.bias, m.bn)
        return FoldedConv(m.conv, w, b, getattr(m, "act", None) or nn.Identity())
    return None


@torch.no_grad()
def to_export_module(model: nn.Module) -> nn.Module:
    """Frozen, eval-mode copy of `model` with BN folded and fake-quant as constant Q/DQ (see docstring)."""
    model = copy.deepcopy(model).eval()
    todo = []
    skip: tuple[str, ...] = ()
    for name, m in model.named_modules():
        if not name or (skip and name.startswith(skip)):
            continue
        new = _convert(m)
        if new is not None:
            todo.append((name, new))
            skip = skip + (name + ".",)
    for name, new in todo:
        parent, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, child, new.eval())
    return model
