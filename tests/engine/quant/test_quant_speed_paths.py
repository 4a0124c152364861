"""The fused fake-quant paths (one autograd node per weight fold, per activation) against plain autograd math.

References are written with ordinary torch ops (the formulation before fusion): forward values must be
bit-identical; gradients agree with a float64 evaluation of the straight-through derivative.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from engine.quant import QATConvBn, QuantSpec
from engine.quant.fake_quant import ActFakeQuant, WeightFakeQuant
from engine.quant.observers import EPS


def _bn(c: int, seed: int, affine: bool = True) -> nn.BatchNorm2d:
    g = torch.Generator().manual_seed(seed)
    bn = nn.BatchNorm2d(c, eps=1e-3, affine=affine)
    with torch.no_grad():
        bn.running_var.copy_(torch.rand(c, generator=g) * 2 + 0.1)
        bn.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
        if affine:
            bn.weight.copy_(torch.rand(c, generator=g) * 3 - 1.5)  # negative gammas too
    return bn


def _reference(w, bn, divide, frozen_scale=None, dtype=torch.float32):
    """q(w f) [/ f] with autograd ops: clamp to the (widened) range, round STE, fold factor f."""
    gamma = bn.weight if bn.affine else torch.ones_like(bn.running_var)
    std = torch.sqrt(bn.running_var.to(dtype) + bn.eps)
    f = (gamma.to(dtype) / std).reshape(-1, 1, 1, 1)
    wf = w.to(dtype) * f
    if frozen_scale is None:
        amax = wf.detach().abs().amax((1, 2, 3), keepdim=True)
        s = torch.clamp(amax.float() / 127.0, min=EPS).to(dtype)
        lo, hi = torch.minimum(-127 * s, -amax), torch.maximum(127 * s, amax)
    else:
        s = frozen_scale.reshape(-1, 1, 1, 1).to(dtype)
        lo, hi = -127 * s, 127 * s
    c = torch.clamp(wf, lo, hi)
    q = c + ((c * (1.0 / s)).round() * s - c).detach()
    return q / f if divide else q


@pytest.mark.parametrize("observe", [True, False])
@pytest.mark.parametrize("divide", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_weight_fold_matches_autograd_reference(observe, divide, affine):
    torch.manual_seed(3)
    w = (torch.randn(6, 4, 3, 3) * 0.2).requires_grad_()
    with torch.no_grad():
        w[0, :2] = 0.0  # pruned weights stay exactly zero
    bn = _bn(6, 1, affine)
    wq = WeightFakeQuant(6)
    frozen = None
    if not observe:  # a frozen scale that clips some weights
        wq.observer_enabled = False
        std = torch.sqrt(bn.running_var + bn.eps)
        gamma = bn.weight.detach() if affine else torch.ones(6)
        frozen = (w.detach() * (gamma / std).reshape(-1, 1, 1, 1)).abs().amax((1, 2, 3)) / 127 * 0.6
        wq.scale.copy_(frozen)
    g = torch.randn(6, 4, 3, 3)
    out = wq(w, bn=bn, divide=divide)
    ref = _reference(w, bn, divide, frozen)
    assert torch.equal(out, ref)
    assert (out[0, :2] == 0).all()
    params = [w] + ([bn.weight] if affine else [])
    got = torch.autograd.grad(out, params, g)
    w64 = w.detach().double().requires_grad_()
    bn64 = copy.deepcopy(bn).double()
    ref64 = _reference(w64, bn64, divide, frozen, torch.float64)
    # the float64 STE derivative, with the float32 quantization decisions (rounding, clipping) held fixed
    want = torch.autograd.grad(ref64, [w64] + ([bn64.weight] if affine else []), g.double())
    for a, b in zip(got, want):
        assert torch.allclose(a.double(), b, rtol=1e-4, atol=1e-6 * b.abs().max().item())
    if not observe:
        assert (got[0] == 0).any()  # clipped weights get no gradient


def test_weight_fold_f_tensor_equals_bn_form():
    torch.manual_seed(0)
    w = torch.randn(5, 3, 3, 3, requires_grad=True)
    bn = _bn(5, 2)
    f = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).reshape(-1, 1, 1, 1)
    a = WeightFakeQuant(5)(w, f, divide=True)
    b = WeightFakeQuant(5)(w, bn=bn, divide=True)
    assert torch.equal(a, b)
    ga = torch.autograd.grad(a.square().sum(), [w, bn.weight])
    gb = torch.autograd.grad(b.square().sum(), [w, bn.weight])
    assert all(torch.allclose(x, y, rtol=1e-5, atol=1e-7) for x, y in zip(ga, gb))
    with pytest.raises(ValueError):
        WeightFakeQuant(5)(w, f, bn=bn)


def test_weight_fake_quant_disabled_keeps_plain_fold():
    w = torch.randn(4, 2, 1, 1, requires_grad=True)
    bn = _bn(4, 5)
    wq = WeightFakeQuant(4)
    wq.fake_quant_enabled = False
    out = wq(w, bn=bn, divide=True)
    assert torch.allclose(out, w, rtol=1e-6) and wq.scale.ne(1).all()  # the observer still runs


def test_qat_conv_bn_live_block_forward_equals_reference():
    torch.manual_seed(0)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 6, 3, padding=1, bias=False)
            self.bn = _bn(6, 7)
            self.act = nn.SiLU()

    blk = QATConvBn(Block(), QuantSpec()).train()
    ref = copy.deepcopy(blk)
    x = torch.randn(2, 3, 8, 8)
    out = blk(x)
    xq = ref.aq(x)
    w = _reference(ref.conv.weight, ref.bn, divide=True)
    expect = ref.act(ref.bn(nn.functional.conv2d(xq, w, None, 1, 1)))
    assert torch.equal(out, expect)
    assert torch.equal(blk.bn.running_var, ref.bn.running_var)


def test_shared_input_across_steps_never_returns_a_freed_graph():
    """The same grad-requiring tensor fed on two steps with frozen observers: the second step must not get
    the first step's cached output (its graph was freed by backward)."""
    torch.manual_seed(0)
    a = ActFakeQuant().train()
    x = torch.randn(2, 3, 4, 4, requires_grad=True)
    a(x).sum().backward()
    a.observer_enabled = False
    for _ in range(3):
        x.grad = None
        a(x).square().sum().backward()  # raised "backward through the graph a second time" before
        assert x.grad is not None and x.grad.abs().sum() > 0


def test_tensor_qparam_path_forced_on_cpu_is_exact_and_straight_through():
    """The non-CPU branch (observer and qparams as tensor ops, no host sync), forced on CPU."""
    torch.manual_seed(0)
    a = ActFakeQuant().train()
    for step in range(3):
        x = (torch.randn(2, 3, 5, 5) * (step + 1) + 0.5).requires_grad_()
        out = a._forward_tensor(x, observe=True)
        ref = torch.fake_quantize_per_tensor_affine(x.detach(), a.scale, a.zero_point, 0, 255)
        assert torch.equal(out, ref)
        out.sum().backward()
        lo, hi = (0 - a.zero_point) * a.scale, (255 - a.zero_point) * a.scale
        assert torch.equal(x.grad, ((x >= lo) & (x <= hi)).float())
    assert a._py is None  # the CPU mirror is re-read from the buffers on the next CPU call
    a(torch.randn(2, 3, 5, 5))
    assert a._py is not None and a._py[2] == a.scale.item()


def test_weight_fold_and_tensor_act_path_have_no_host_sync_and_work_without_grad():
    """No `.item()`/`float(tensor)` in the weight path or the non-CPU activation path (a host sync on GPU):
    they must run under a mode that forbids reading tensor values from Python."""
    w = torch.randn(4, 3, 3, 3, requires_grad=True)
    bn = _bn(4, 9)
    wq = WeightFakeQuant(4)
    with torch.no_grad():
        a = wq(w, bn=bn, divide=True)
    b = wq(w, bn=bn, divide=True)
    assert torch.equal(a, b) and b.requires_grad and not a.requires_grad
    from torch._subclasses.fake_tensor import FakeTensorMode
    with FakeTensorMode(allow_non_fake_inputs=True):  # raises on data-dependent Python reads
        wq(torch.randn(4, 3, 3, 3), bn=bn, divide=True)
        a = ActFakeQuant().train()
        a._forward_tensor(torch.randn(2, 3, 4, 4, requires_grad=True), observe=True).sum().backward()
    with pytest.raises(Exception, match="_local_scalar_dense"), FakeTensorMode(allow_non_fake_inputs=True):
        ActFakeQuant().train()(torch.randn(2, 3, 4, 4))  # the CPU path reads min/max (the check can fail)


def test_in_range_fast_path_matches_the_clamped_path(monkeypatch):
    """When the observed batch lies strictly inside the clamp range, ActFakeQuant skips the clamp (and its
    backward pass): same values bit for bit as torch's fake-quant, gradient all ones; out of range it clamps."""
    import engine.quant.fake_quant as fqm

    calls = []
    orig = fqm._RoundInRange.apply
    monkeypatch.setattr(fqm._RoundInRange, "apply", lambda *a: calls.append(1) or orig(*a))
    aq = fqm.ActFakeQuant().train()
    g = torch.Generator().manual_seed(0)
    aq(torch.randn(2, 8, 16, 16, generator=g) * 3)  # first batch sets the range
    x = (torch.randn(2, 8, 16, 16, generator=g) * 0.5).requires_grad_()
    out = aq(x)
    assert calls == [1]
    s, z = aq.qparams()
    ref = torch.fake_quantize_per_tensor_affine(x.detach(), s, z, 0, 255)
    assert torch.equal(out.detach(), ref)
    out.backward(torch.ones_like(out))
    assert torch.equal(x.grad, torch.ones_like(x))
    y = (torch.randn(2, 8, 16, 16, generator=g) * 30).requires_grad_()  # beyond the range: clamped path
    out = aq(y)
    assert calls == [1]
    s, z = aq.qparams()
    assert torch.equal(out.detach(), torch.fake_quantize_per_tensor_affine(y.detach(), s, z, 0, 255))
    out.backward(torch.ones_like(out))
    assert 0 < float(y.grad.mean()) < 1  # clipped elements get no gradient


@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "strided"])
def test_batch_minmax_is_one_flat_pass_with_the_same_values(layout, monkeypatch):
    from engine.quant import fake_quant as FQ

    x = torch.randn(2, 5, 7, 3, generator=torch.Generator().manual_seed(3))
    if layout == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    elif layout == "strided":
        x = x[:, ::2]  # not dense: falls back to amin / amax
    calls = []
    aminmax = torch.aminmax
    monkeypatch.setattr(torch, "aminmax", lambda t: calls.append(t.dim()) or aminmax(t))
    assert FQ._batch_minmax(x) == (x.amin().item(), x.amax().item())
    assert calls == ([] if layout == "strided" else [1])  # a 1-D view: the fast reduction path
    act = ActFakeQuant()
    act.train()
    act(x)
    assert (act.min_val.item(), act.max_val.item()) == (x.amin().item(), x.amax().item())
