"""engine/quant/weight_batch.py: the model-level batched weight fake-quant equals the per-layer path exactly, and
falls back to it whenever a precomputed weight could be stale."""

from __future__ import annotations

import copy

import pytest
import torch

import yolo
from engine.quant import QuantSpec, freeze_bn_stats, prepare_qat
from engine.quant import weight_batch as wb
from engine.quant.fold import QATConvBn
from engine.quant.qat import disable_observer, strip_qat

SPEC = QuantSpec(quantize_conv_activations=True, submodules=tuple(f"model.{i}" for i in range(24)))


@pytest.fixture(scope="module")
def base():
    torch.manual_seed(0)
    m = yolo.build_model("yolov5n", nc=3).train()
    with torch.no_grad():  # BN state away from the defaults (gamma 1, var 1), negative gammas included
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_var.uniform_(0.3, 2.0)
                mod.weight.uniform_(-1.5, 1.5)
    return prepare_qat(m, SPEC).train()


@pytest.fixture
def pair(base):
    """(batched, per-layer) copies of one prepared model."""
    a, b = copy.deepcopy(base), copy.deepcopy(base)
    wb.uninstall(b)
    return a, b


@pytest.fixture
def groups(monkeypatch):
    """How many batched groups each forward ran."""
    n = []
    apply = wb._GroupWeightFQ.apply
    monkeypatch.setattr(wb._GroupWeightFQ, "apply", lambda *a: (n.append(1), apply(*a))[1])
    return n


def _blocks(m):
    return [x for x in m.modules() if isinstance(x, QATConvBn)]


def _step(m, x):
    out = m(x)
    sum(o.float().pow(2).mean() for o in out).backward()
    return out


def test_forward_gradients_and_scales_are_bit_identical_over_steps(pair, groups):
    a, b = pair
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    for _ in range(2):  # the second step sees updated weights and running statistics
        ya, yb = _step(a, x), _step(b, x)
        assert all(torch.equal(p, q) for p, q in zip(ya, yb))
        pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
        assert [n for n in pa if not torch.equal(pa[n].grad, pb[n].grad)] == []  # weights and BN gammas
        assert all(torch.equal(p.wq.scale, q.wq.scale) for p, q in zip(_blocks(a), _blocks(b)))
        with torch.no_grad():
            for p in (*a.parameters(), *b.parameters()):
                p -= 0.01 * p.grad
                p.grad = None
    assert len(groups) >= 2 * 4  # several row lengths, batched every step
    assert len(wb._READY) == 0  # nothing (and no graph) kept past the forward


def test_a_weight_changed_after_the_hook_is_quantized_again(pair):
    a, b = pair
    blk = _blocks(a)[3]
    wb.quantize_weights_hook(a, ())
    with torch.no_grad():
        blk.conv.weight.mul_(2.0)  # bumps the version counter: the prepared value is stale
    assert wb.take(blk) is None
    wb.quantize_weights_hook(a, ())
    assert wb.take(blk) is not None and wb.take(blk) is None  # valid once; consumed by the first take


def test_a_block_called_on_its_own_uses_its_own_path(pair, groups):
    a, b = pair
    x = torch.rand(2, 16, 16, 16)
    assert torch.equal(_blocks(a)[1](x), _blocks(b)[1](x)) and groups == []


@pytest.mark.parametrize("change", [freeze_bn_stats, disable_observer, lambda m: m.eval()])
def test_other_qat_states_are_not_batched(pair, groups, change):
    a, b = pair
    change(a), change(b)
    x = torch.rand(1, 3, 64, 64)
    assert all(torch.equal(p, q) for p, q in zip(a(x), b(x))) and groups == []


def test_a_deep_copy_batches_its_own_blocks_and_strip_removes_the_hooks(base, groups):
    c = copy.deepcopy(base)
    assert all(x is y for x, y in zip(c._qat_weight_groups, _blocks(c)))  # the copy's blocks, not base's
    _step(c, torch.rand(1, 3, 64, 64))
    assert groups and all(x.conv.weight.grad is not None for x in _blocks(c))
    assert all(x.conv.weight.grad is None for x in _blocks(base))
    stripped = strip_qat(c)
    assert not stripped._forward_pre_hooks and not stripped._forward_hooks
    assert not hasattr(stripped, "_qat_weight_groups")
