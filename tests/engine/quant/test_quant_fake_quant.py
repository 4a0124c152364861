"""fake_quant is bit-identical to torch's fake_quantize_* forward; BN-live running stats are exact."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from engine.quant import QuantSpec, QATConvBn
from engine.quant.fake_quant import ActFakeQuant, WeightFakeQuant, fake_quant


@pytest.mark.parametrize("seed", range(6))
def test_per_tensor_bit_identical(seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(3, 5, 9, 9, generator=g) * 4
    if seed % 2:  # exact ties (x / s = k + 0.5): ties go to even in both
        x = (torch.randint(-400, 400, x.shape, generator=g).float() + 0.5) * 0.125
    s = torch.tensor(0.125 if seed % 2 else 0.0371)
    z = torch.tensor(17 + 30 * seed, dtype=torch.int32)
    ref = torch.fake_quantize_per_tensor_affine(x, s, z, 0, 255)
    assert torch.equal(fake_quant(x, s, z, 0, 255), ref)
    assert torch.equal(fake_quant(x, float(s), int(z), 0, 255), ref)


def test_per_channel_bit_identical_and_ste():
    w = torch.randn(8, 4, 3, 3, requires_grad=True)
    wq = WeightFakeQuant(8)
    out = wq(w)
    ref = torch.fake_quantize_per_channel_affine(w, wq.scale, torch.zeros(8, dtype=torch.int32), 0, -127, 127)
    assert torch.equal(out, ref)
    out.sum().backward()
    assert torch.equal(w.grad, torch.ones_like(w))  # nothing clipped: straight through


def test_act_grad_zero_outside_range_and_cpu_mirror_matches_tensor_math():
    a = ActFakeQuant().train()
    x = torch.linspace(-1, 3, 101).reshape(1, 1, 1, -1)
    a(x)
    a.observer_enabled = False
    y = torch.linspace(-3, 6, 101, requires_grad=True)
    a(y).sum().backward()
    lo, hi = (0 - a.zero_point) * a.scale, (255 - a.zero_point) * a.scale
    inside = (y >= lo) & (y <= hi)
    assert torch.equal(y.grad, inside.float()) and (~inside).any()
    from engine.quant.observers import affine_qparams
    s, z = affine_qparams(a.min_val, a.max_val, 0, 255)
    assert torch.equal(s, a.scale) and torch.equal(z, a.zero_point)


def test_bn_live_running_stats_match_plain_batchnorm():
    torch.manual_seed(0)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 6, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(6, eps=1e-3, momentum=0.03)
            self.act = nn.SiLU()

    blk = Block()
    with torch.no_grad():
        blk.bn.weight.uniform_(-1.5, 1.5)  # negative gammas too
        blk.bn.running_var.uniform_(0.5, 2)
    ref = copy.deepcopy(blk).train()
    q = QATConvBn(copy.deepcopy(blk), QuantSpec()).train()
    q.aq.fake_quant_enabled = q.wq.fake_quant_enabled = False  # isolate the fold math
    x = torch.randn(8, 4, 10, 10)
    out = q(x)
    expect = ref.act(ref.bn(ref.conv(x)))
    assert torch.allclose(q.bn.running_mean, ref.bn.running_mean, atol=1e-6)
    assert torch.allclose(q.bn.running_var, ref.bn.running_var, rtol=1e-5)
    assert torch.allclose(out, expect, atol=2e-3)  # eps scaled by f^2 only


def test_shared_input_quantizers_reuse_is_exact(monkeypatch):
    import engine.quant.fake_quant as fqm
    from engine.quant import prepare_qat

    class Add(nn.Module):
        def forward(self, a, b):
            return a + b

    class Conv(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv, self.bn, self.act = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.SiLU()

        def forward(self, x):
            return self.act(self.bn(self.conv(x)))

    class Net(nn.Module):  # cv1, cv2 and the add's first input all quantize the same x
        def __init__(self):
            super().__init__()
            self.cv1, self.cv2, self.add = Conv(4), Conv(4), Add()

        def forward(self, x):
            return self.add(x, self.cv1(x) + self.cv2(x))

    torch.manual_seed(0)
    base = Net()
    results = []
    for size in (8, 0):  # sharing on, then off (a cache of size 0 never hits)
        monkeypatch.setattr(fqm, "_SHARED", fqm._SharedResults(size))
        m = prepare_qat(copy.deepcopy(base), QuantSpec()).train()
        opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        torch.manual_seed(1)
        outs = []
        for _ in range(4):
            out = m(torch.randn(2, 4, 8, 8))
            opt.zero_grad()
            out.square().mean().backward()
            opt.step()
            outs.append(out.detach())
        results.append((outs, [p.detach().clone() for p in m.parameters()], m.cv2.aq.scale.clone()))
        assert (fqm._SHARED.hits >= 8) == (size > 0)  # 2 reuses per forward when sharing
    (o1, p1, s1), (o2, p2, s2) = results
    assert all(torch.equal(a, b) for a, b in zip(o1, o2))
    assert all(torch.equal(a, b) for a, b in zip(p1, p2)) and torch.equal(s1, s2)
