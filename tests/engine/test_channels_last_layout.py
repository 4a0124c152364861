"""Masks and the EMA follow the model into channels-last (engine/train.py converts on CUDA after building them):
same strides as the parameters, so the fused ``_foreach`` ops stay fused, and the same values as in NCHW."""

import copy

import torch
from torch import nn

from engine.ema import ModelEMA
from engine.pruning import MaskSet


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Conv2d(8, 4, 1), nn.Flatten(), nn.Linear(144, 2))


def _train_steps(model, cl: bool):
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    ms = MaskSet(model, ["0.weight", "2.weight", "4.weight"])
    ms.update(0.5)
    ema = ModelEMA(model)
    if cl:
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, foreach=True)
    for _ in range(3):
        model(x).square().mean().backward()
        ms.mask_grads_()
        opt.step()
        opt.zero_grad(set_to_none=True)
        ms.apply_()
        ms.mask_optimizer_state_(opt)
        ema.update(model)
        ms.apply_to_(ema.ema)
    return model, ms, ema, opt


def test_masks_and_ema_take_the_channels_last_layout_and_keep_values():
    base = _net()
    ref, ms0, ema0, _ = _train_steps(copy.deepcopy(base), cl=False)
    m, ms, ema, opt = _train_steps(copy.deepcopy(base), cl=True)
    w = m[0].weight
    assert w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous()
    for p, k in zip(ms.params, ms.masks):
        assert k.stride() == p.stride()
    emap = dict(ema.ema.named_parameters())
    for n, p in m.named_parameters():
        assert emap[n].stride() == p.stride(), n
    for (n, a), b in zip(m.named_parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=n)  # conv kernels differ by layout
    for a, b in zip(ema.ema.state_dict().values(), ema0.ema.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    for p, k in zip(ms.params, ms.masks):  # zeros exact in weights, EMA and momentum
        assert bool((p[k == 0] == 0).all())
        assert bool((opt.state[p]["momentum_buffer"][k == 0] == 0).all())
    for n, k in zip(ms.names, ms.masks):
        assert bool((emap[n][k == 0] == 0).all())
