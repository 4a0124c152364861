"""In-house QAT on a small YOLO-shaped net: swaps, fold math, observers, masks, state, strip."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from engine.pruning import MaskSet, resolve_params
from engine.quant import (QATAdd, QATConv2d, QATConvBn, QuantSpec, disable_observer, freeze_bn_stats,
                          prepare_from_state, prepare_qat, qat_state_dict, strip_qat)


class Conv(nn.Module):
    def __init__(self, c1, c2, k=3, s=1):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Add(nn.Module):
    def forward(self, a, b):
        return a + b


class Bottleneck(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.cv1, self.cv2, self.add = Conv(c, c, 1), Conv(c, c, 3), Add()

    def forward(self, x):
        return self.add(x, self.cv2(self.cv1(x)))


class TinyYolo(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(Conv(3, 8, 3, 2), Bottleneck(8), Conv(8, 16, 3, 2), nn.Conv2d(16, 7, 1))

    def forward(self, x):
        return self.model(x)


def make():
    torch.manual_seed(0)
    m = TinyYolo()
    with torch.no_grad():  # non-trivial BN stats
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.1, 0.1)
    return m


def batch(n=4):
    return torch.rand(n, 3, 32, 32)


def calibrate(model, steps=5):
    model.train()
    with torch.no_grad():
        for _ in range(steps):
            model(batch())


def test_prepare_swaps_and_keeps_names_and_params():
    m = make()
    keys, params = list(m.state_dict()), {n: p for n, p in m.named_parameters()}
    prepare_qat(m, QuantSpec())
    assert isinstance(m.model[0], QATConvBn) and isinstance(m.model[1].cv2, QATConvBn)
    assert isinstance(m.model[1].add, QATAdd) and isinstance(m.model[3], QATConv2d)
    assert list(m.state_dict()) == keys
    assert all(p is params[n] for n, p in m.named_parameters())


def test_submodules_and_excludes():
    m = prepare_qat(make(), QuantSpec(submodules=("model.0", "model.1", "model.2"), exclude_module_types=("Add",)))
    assert type(m.model[3]) is nn.Conv2d and type(m.model[1].add) is Add
    with pytest.raises(ValueError, match="model.9"):
        prepare_qat(make(), QuantSpec(submodules=("model.9",)))


def test_eval_matches_float_within_quant_error_and_fold_is_exact():
    m = make().eval()
    ref = m(batch())
    q = prepare_qat(copy.deepcopy(m), QuantSpec())
    for fq in [x for x in q.modules() if hasattr(x, "fake_quant_enabled")]:
        fq.fake_quant_enabled = False
    freeze_bn_stats(q)
    q.eval()
    torch.manual_seed(1)
    x = batch()
    assert torch.allclose(q(x), m(x), atol=1e-5)  # fold math == conv + BN (eval)
    q2 = prepare_qat(copy.deepcopy(m), QuantSpec())
    freeze_bn_stats(q2)
    calibrate(q2)
    q2.eval()
    out, ref = q2(x), m(x)
    err = (out - ref).abs().max() / ref.abs().max()
    assert 0 < err < 0.1


def test_bn_stats_update_until_frozen_and_grads_flow():
    m = prepare_qat(make(), QuantSpec()).train()
    rm = m.model[0].bn.running_mean.clone()
    out = m(batch()).pow(2).mean()
    out.backward()
    assert not torch.equal(rm, m.model[0].bn.running_mean)
    assert m.model[0].conv.weight.grad.abs().sum() > 0 and m.model[0].bn.weight.grad.abs().sum() > 0
    freeze_bn_stats(m)
    m.train()
    rm = m.model[0].bn.running_mean.clone()
    m(batch())
    assert torch.equal(rm, m.model[0].bn.running_mean) and not m.model[0].bn.training


def test_ema_observer_and_disable_observer():
    m = prepare_qat(make(), QuantSpec()).train()
    aq = m.model[0].aq
    x1, x2 = torch.full((1, 3, 8, 8), 2.0), torch.full((1, 3, 8, 8), 4.0)
    x1[0, 0, 0, 0], x2[0, 0, 0, 0] = -1.0, -3.0
    m(x1)
    m(x2)
    assert aq.max_val.item() == pytest.approx(2.0 + 0.01 * 2.0) and aq.min_val.item() == pytest.approx(-1.02)
    disable_observer(m)
    s, ws = aq.scale.clone(), m.model[0].wq.scale.clone()
    with torch.no_grad():
        m.model[0].conv.weight.mul_(3)
    m(batch() * 10)
    assert torch.equal(s, aq.scale) and torch.equal(ws, m.model[0].wq.scale)


def test_masks_hold_inside_folded_quantized_weights():
    m = make()
    names = resolve_params(m, "__ALL_PRUNABLE__").names
    masks = MaskSet(m, names)
    masks.update(0.5)
    prepare_qat(m, QuantSpec())
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.937, nesterov=True, weight_decay=5e-4)
    masks.attach(opt)
    m.train()
    for step in range(8):
        if step == 4:
            freeze_bn_stats(m)
        opt.zero_grad()
        m(batch()).pow(2).mean().backward()
        opt.step()
    blk = m.model[1].cv2
    pruned = masks.masks[names.index("model.1.cv2.conv.weight")] == 0
    wf = blk.wq(blk.folded()[0])
    assert pruned.any() and (wf[pruned] == 0).all() and (blk.conv.weight[pruned] == 0).all()
    assert (wf[~pruned] != 0).float().mean() > 0.5


def test_qat_state_roundtrip_and_strip():
    m = prepare_qat(make(), QuantSpec(quantize_conv_activations=True))
    calibrate(m)
    disable_observer(m)
    freeze_bn_stats(m)
    st, sd = qat_state_dict(m), m.state_dict()
    fresh = make()
    fresh.load_state_dict(sd)
    prepare_from_state(fresh, st)
    m.eval()
    fresh.eval()
    x = batch()
    assert torch.equal(m(x), fresh(x))
    f = strip_qat(m)
    assert type(f.model[0]) is Conv and type(f.model[3]) is nn.Conv2d and type(f.model[1].add) is Add
    assert f.state_dict().keys() == sd.keys() and all(torch.equal(f.state_dict()[k], sd[k]) for k in sd)
    assert isinstance(m.model[0], QATConvBn)  # not in place by default
