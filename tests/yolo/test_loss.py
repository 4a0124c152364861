"""YOLOv5 loss: CIoU by hand, target assignment, gains, and that optimising it lowers it."""

import math

import pytest
import torch

from yolo.loss import LossHyp, YoloLoss, bbox_ciou

ANCHORS_PX = [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119], [116, 90, 156, 198, 373, 326]]
STRIDES = [8.0, 16.0, 32.0]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _anchors():
    return torch.tensor(ANCHORS_PX, dtype=torch.float32).view(3, 3, 2) / torch.tensor(STRIDES).view(3, 1, 1)


def test_ciou_identical_boxes_is_one():
    b = torch.tensor([[5.0, 5.0, 2.0, 4.0]])
    assert bbox_ciou(b, b).item() == pytest.approx(1.0, abs=1e-6)


def test_ciou_by_hand_same_aspect():
    # 2x2 box at (1,1) and 2x2 box at (2,1): IoU = 2/6, enclosing 3x2 -> c^2 = 13, rho^2 = 1, v = 0
    b1, b2 = torch.tensor([[1.0, 1.0, 2.0, 2.0]]), torch.tensor([[2.0, 1.0, 2.0, 2.0]])
    assert bbox_ciou(b1, b2).item() == pytest.approx(1 / 3 - 1 / 13, abs=1e-5)


def test_ciou_by_hand_different_aspect():
    # concentric 2x2 and 4x1: inter 2x1 = 2, union 4 + 4 - 2 = 6; rho = 0
    b1, b2 = torch.tensor([[0.0, 0.0, 2.0, 2.0]]), torch.tensor([[0.0, 0.0, 4.0, 1.0]])
    iou = 2 / 6
    v = 4 / math.pi ** 2 * (math.atan(4.0) - math.atan(1.0)) ** 2
    alpha = v / (v - iou + 1)
    assert bbox_ciou(b1, b2).item() == pytest.approx(iou - alpha * v, abs=1e-5)


def test_ciou_disjoint_is_negative():
    b1, b2 = torch.tensor([[0.0, 0.0, 1.0, 1.0]]), torch.tensor([[3.0, 0.0, 1.0, 1.0]])
    # IoU 0, enclosing 4x1 -> c^2 = 17, rho^2 = 9
    assert bbox_ciou(b1, b2).item() == pytest.approx(-9 / 17, abs=1e-5)


def _preds(bs=2, nc=3, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(bs, 3, size // int(s), size // int(s), 5 + nc, generator=g) * 0.1 for s in STRIDES]


def test_build_targets_anchor_ratio_and_neighbour_cells():
    loss = YoloLoss(_anchors(), STRIDES, nc=3, imgsz=64)
    # one 20x26 px target centred at (20.5, 36.25) px of a 64 px image
    t = torch.tensor([[0, 1, 20.5 / 64, 36.25 / 64, 20 / 64, 26 / 64]])
    tcls, tbox, idx, anch = loss.build_targets(_preds(), t)
    # level 0 (stride 8, 8x8 grid): anchors 10x13, 16x30, 33x23 px all within ratio 4 of 20x26;
    # centre (2.5625, 4.53125) cells: x frac 0.5625 >= 0.5 -> right neighbour, y frac 0.53 -> lower neighbour
    b, a, gj, gi = idx[0]
    assert len(b) == 9 and sorted(set(a.tolist())) == [0, 1, 2]
    assert sorted(set(zip(gj.tolist(), gi.tolist()))) == [(4, 2), (4, 3), (5, 2)]
    assert ((tbox[0][:, :2] > -0.5) & (tbox[0][:, :2] < 1.5)).all()
    # level 2 (stride 32): anchors 116x90.. px: 116/20 > 4 -> rejected, 373/20 too
    assert len(idx[2][0]) == 0
    assert (tcls[0] == 1).all()


def test_gains_scale_with_nl_nc_imgsz():
    loss = YoloLoss(_anchors(), STRIDES, nc=20, imgsz=320, hyp=LossHyp())
    assert loss.box_gain == pytest.approx(0.05)
    assert loss.obj_gain == pytest.approx(0.25)
    assert loss.cls_gain == pytest.approx(0.5 * 20 / 80)
    assert loss.balance == [4.0, 1.0, 0.4]


def test_returns_scaled_total_and_items():
    loss = YoloLoss(_anchors(), STRIDES, nc=3, imgsz=64)
    t = torch.tensor([[0, 1, 0.5, 0.5, 0.3, 0.4], [1, 2, 0.2, 0.3, 0.1, 0.2]])
    total, items = loss(_preds(bs=2), t)
    assert total.shape == (1,) and items.shape == (3,) and not items.requires_grad
    assert total.item() == pytest.approx(items.sum().item() * 2, rel=1e-5)
    assert (items > 0).all()
    total0, items0 = loss(_preds(bs=2), torch.zeros((0, 6)))
    assert items0[0] == 0 and items0[2] == 0 and items0[1] > 0


def test_optimising_the_loss_lowers_it():
    torch.manual_seed(0)
    loss = YoloLoss(_anchors(), STRIDES, nc=3, imgsz=64)
    params = [torch.nn.Parameter(p) for p in _preds(bs=2)]
    t = torch.tensor([[0, 1, 0.5, 0.5, 0.3, 0.4], [1, 2, 0.2, 0.3, 0.1, 0.2], [1, 0, 0.7, 0.7, 0.5, 0.3]])
    opt = torch.optim.Adam(params, lr=0.05)
    first = None
    for _ in range(60):
        opt.zero_grad()
        total, items = loss(params, t)
        total.backward()
        opt.step()
        first = items if first is None else first
    assert (items < first * 0.5).all(), (first, items)


def test_from_model_and_training_step_lowers_loss():
    import yolo.model as yolo
    torch.manual_seed(0)
    model = yolo.build_model("yolov5n", nc=2).train()
    crit = YoloLoss.from_model(model, imgsz=64)
    assert crit.nc == 2 and crit.anchors.shape == (3, 3, 2)
    x = torch.rand(2, 3, 64, 64)
    t = torch.tensor([[0, 1, 0.5, 0.5, 0.3, 0.4], [1, 0, 0.3, 0.3, 0.2, 0.2]])
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        total, _ = crit(model(x), t)
        total.backward()
        opt.step()
        losses.append(total.item())
    assert losses[-1] < losses[0]
