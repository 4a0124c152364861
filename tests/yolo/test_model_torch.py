"""The torch model: names equal the torch-free table, shapes per scale, train/eval outputs, init."""

from __future__ import annotations

import math

import pytest
import torch

from yolo.layers import BN_EPS, BN_MOMENTUM, Add
from yolo.model import build_model
from yolo.names import module_names, param_names, state_dict_keys

PUBLISHED = {"n": 1_872_157, "s": 7_235_389, "m": 21_190_557, "l": 46_563_709, "x": 86_749_405}


@pytest.mark.parametrize("scale", list(PUBLISHED))
def test_scale_counts_and_names(scale):
    with torch.device("meta"):  # shapes only: no memory, no init cost for l / x
        m = build_model(f"yolov5{scale}")
    assert sum(p.numel() for p in m.parameters()) == PUBLISHED[scale]
    cfg = f"yolov5{scale}"
    assert [n for n, _ in m.named_parameters()] == param_names(cfg)
    assert list(m.state_dict()) == state_dict_keys(cfg)
    assert [n for n, _ in m.named_modules()][1:] == module_names(cfg)
    shapes = {n: tuple(t.shape) for n, t in m.state_dict().items()}
    from yolo.names import param_infos

    assert all(shapes[p.name] == p.shape for p in param_infos(cfg))


@pytest.fixture(scope="module")
def nano():
    torch.manual_seed(0)
    return build_model("yolov5n", nc=3)


def test_train_and_eval_outputs(nano):
    x = torch.rand(2, 3, 128, 96)
    nano.train()
    raw = nano(x)
    assert [tuple(r.shape) for r in raw] == [(2, 3, 16, 12, 8), (2, 3, 8, 6, 8), (2, 3, 4, 3, 8)]
    nano.eval()
    with torch.no_grad():
        out = nano(x)
        raw_eval = nano.detect.raw(nano.features(x))
    assert out.shape == (2, 3 * (16 * 12 + 8 * 6 + 4 * 3), 8)
    assert ((out[..., 4:] >= 0) & (out[..., 4:] <= 1)).all()
    # Decoding by hand for one cell: level 1, anchor 2, row 5, col 4.
    p = raw_eval[1][0, 2, 5, 4].sigmoid()
    anchor_px = nano.detect.anchors[1, 2] * 16
    idx = 3 * 16 * 12 + 2 * (8 * 6) + 5 * 6 + 4
    expect_xy = (p[:2] * 2 - 0.5 + torch.tensor([4.0, 5.0])) * 16
    expect_wh = (p[2:4] * 2) ** 2 * anchor_px
    torch.testing.assert_close(out[0, idx, :2], expect_xy)
    torch.testing.assert_close(out[0, idx, 2:4], expect_wh)
    torch.testing.assert_close(out[0, idx, 4:], p[4:])


def test_attributes_and_init(nano):
    assert nano.nc == 3 and nano.names == ["class0", "class1", "class2"]
    assert nano.stride.tolist() == [8.0, 16.0, 32.0] and nano.cfg == "yolov5n"
    # Anchors stored in grid units, as ultralytics does.
    torch.testing.assert_close(nano.detect.anchors[0, 0], torch.tensor([10 / 8, 13 / 8]))
    torch.testing.assert_close(nano.detect.anchors[2, 2], torch.tensor([373 / 32, 326 / 32]))
    bn = nano.model[0].bn
    assert bn.eps == BN_EPS == 1e-3 and bn.momentum == BN_MOMENTUM == 0.03
    assert isinstance(nano.model[2].m[0].add, Add)
    # Bias priors: default init is within +-1/sqrt(fan_in); the prior shifts it by log(8/(640/s)^2).
    for conv, s in zip(nano.detect.m, (8, 16, 32)):
        b = conv.bias.view(3, -1)
        bound = 1 / math.sqrt(conv.in_channels)
        obj = math.log(8 / (640 / s) ** 2)
        cls = math.log(0.6 / (3 - 0.99))
        assert ((b[:, 4] - obj).abs() <= bound + 1e-6).all()
        assert ((b[:, 5:] - cls).abs() <= bound + 1e-6).all()


def test_backward_and_export(nano):
    nano.train()
    loss = sum(r.sum() for r in nano(torch.rand(1, 3, 64, 64)))
    loss.backward()
    assert nano.model[0].conv.weight.grad is not None
    nano.eval()
    x = torch.rand(1, 3, 64, 64)
    # torch.export traces without graph breaks only if the forward has no data-dependent Python control flow.
    exported = torch.export.export(nano, (x,))
    with torch.no_grad():
        torch.testing.assert_close(exported.module()(x), nano(x))


@pytest.mark.slow
def test_torch_compile_fullgraph():
    """Dynamo traces train and eval forwards without graph breaks (fullgraph=True fails on any)."""
    m = build_model("yolov5n", nc=3)
    compiled = torch.compile(m, fullgraph=True, backend="eager")
    x = torch.rand(1, 3, 64, 64)
    m.eval()
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), m(x))
    m.train()
    assert [tuple(r.shape) for r in compiled(x)] == [(1, 3, 8, 8, 8), (1, 3, 4, 4, 8), (1, 3, 2, 2, 8)]
