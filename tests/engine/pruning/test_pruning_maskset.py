"""MaskSet invariant: pruned weights stay exactly zero through SGD, EMA, save/load."""

from __future__ import annotations

import copy
import io

import torch
from torch import nn

from engine.pruning import MaskSet, format_table, parse_mask_type, resolve_params, sparsity_table


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.SiLU(),
                         nn.Conv2d(8, 16, 3, padding=1), nn.SiLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(16, 4))


def sgd(model):
    return torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.937, nesterov=True, weight_decay=5e-4)


def train(model, opt, masks, steps, ema=None):
    for _ in range(steps):
        x = torch.randn(4, 3, 8, 8)
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()  # masks attached: grads masked before, weights + momentum after
        if ema is not None:
            with torch.no_grad():
                for e, p in zip(ema.parameters(), model.parameters()):
                    e.mul_(0.9).add_(p, alpha=0.1)
            masks.apply_to_(ema)


def zeros_of(model, names):
    return {n: model.get_parameter(n).detach() == 0 for n in names}


def test_zeros_hold_through_sgd_momentum_and_ema():
    model = net()
    ema = copy.deepcopy(model)  # EMA starts dense: it must become and stay sparse by masking
    names = resolve_params(model, "__ALL_PRUNABLE__").names
    opt = sgd(model)
    masks = MaskSet(model, names)
    masks.update(0.6)
    masks.attach(opt)
    before = zeros_of(model, names)
    train(model, opt, masks, 30, ema)
    for n in names:
        m = masks.masks[names.index(n)] == 0
        assert torch.equal(before[n], m)
        assert (model.get_parameter(n)[m] == 0).all()
        assert (ema.get_parameter(n)[m] == 0).all()
        assert (opt.state[model.get_parameter(n)]["momentum_buffer"][m] == 0).all()
    # the unpruned weights did move (the test can fail if training is a no-op)
    assert any((model.get_parameter(n)[~(masks.masks[i] == 0)] != 0).all() for i, n in enumerate(names))


def test_without_masking_zeros_would_move():
    model = net()
    names = resolve_params(model, "__ALL_PRUNABLE__").names
    masks = MaskSet(model, names)
    masks.update(0.6)
    opt = sgd(model)
    masks.detach()
    train(model, opt, masks, 3)
    assert not all((model.get_parameter(n) == 0).sum() == (m == 0).sum() for n, m in zip(names, masks.masks))


def test_constant_masks_from_zeros_and_save_load_roundtrip():
    model = net()
    names = resolve_params(model, "__ALL_PRUNABLE__").names
    MaskSet(model, names).update(0.5, parse_mask_type([1, 4]))
    masks = MaskSet.from_zeros(model, names)
    assert abs(masks.overall_sparsity() - 0.5) < 0.1
    buf = io.BytesIO()
    torch.save({"model": model.state_dict(), "masks": masks.state_dict()}, buf)
    buf.seek(0)
    ck = torch.load(buf, weights_only=True)
    model2 = net()
    model2.load_state_dict(ck["model"])
    masks2 = MaskSet.from_state_dict(model2, ck["masks"])
    assert all(torch.equal(a, b) for a, b in zip(masks.masks, masks2.masks))
    opt = sgd(model2)
    masks2.attach(opt)
    train(model2, opt, masks2, 10)
    for i, n in enumerate(names):
        assert (model2.get_parameter(n)[masks2.masks[i] == 0] == 0).all()


def test_global_update_and_table():
    model = net()
    names = resolve_params(model, "__ALL_PRUNABLE__").names
    masks = MaskSet(model, names)
    masks.update(0.7, global_=True)
    rows = sparsity_table(model, names)
    total = sum(r.numel for r in rows)
    assert sum(r.zeros for r in rows) == round(total * 0.7)
    assert [r.zeros for r in rows] == [r.zeros for r in masks.table()]
    assert "total" in format_table(rows)


def test_load_rejects_bad_version():
    model = net()
    masks = MaskSet(model, ["0.weight"])
    sd = masks.state_dict()
    sd["version"] = 99
    try:
        masks.load_state_dict(sd)
    except ValueError as e:
        assert "version" in str(e)
    else:
        raise AssertionError("bad version accepted")
