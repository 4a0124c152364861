"""Plain-torch NMS: suppression within a class, none across classes, thresholds, max_det."""

from __future__ import annotations

import pytest
import torch

from yolo.nms import box_iou, nms, non_max_suppression, xywh2xyxy


def _pred(rows, nc=2):
    """rows: (cx, cy, w, h, obj, cls_id, cls_prob) -> (1, N, 5 + nc)."""
    t = torch.zeros(1, len(rows), 5 + nc)
    for k, (cx, cy, w, h, obj, c, p) in enumerate(rows):
        t[0, k, :5] = torch.tensor([cx, cy, w, h, obj])
        t[0, k, 5 + c] = p
    return t


def test_box_iou_and_xyxy():
    a = xywh2xyxy(torch.tensor([[10.0, 10.0, 20.0, 20.0]]))
    assert a.tolist() == [[0.0, 0.0, 20.0, 20.0]]
    b = torch.tensor([[10.0, 0.0, 30.0, 20.0], [100.0, 100.0, 110.0, 110.0]])
    iou = box_iou(a, b)
    assert iou[0, 0].item() == pytest.approx(200 / 600) and iou[0, 1].item() == 0.0


def test_suppresses_same_class_only():
    pred = _pred([
        (50, 50, 40, 40, 0.9, 0, 1.0),  # kept
        (52, 50, 40, 40, 0.8, 0, 1.0),  # IoU ~0.9 with the first, same class: suppressed
        (52, 50, 40, 40, 0.7, 1, 1.0),  # same place, other class: kept
        (200, 200, 10, 10, 0.6, 0, 0.5),  # conf 0.3: kept
        (300, 300, 10, 10, 0.6, 0, 0.3),  # conf 0.18 < 0.25: dropped
    ])
    (det,) = non_max_suppression(pred, 0.25, 0.45)
    assert det[:, 4].tolist() == pytest.approx([0.9, 0.7, 0.3])
    assert det[:, 5].tolist() == [0.0, 1.0, 0.0]
    assert det[0, :4].tolist() == [30.0, 30.0, 70.0, 70.0]
    (agn,) = non_max_suppression(pred, 0.25, 0.45, agnostic=True)
    assert len(agn) == 2


def test_max_det_classes_and_multilabel():
    rows = [(20 * k, 20 * k, 10, 10, 0.9 - 0.01 * k, k % 2, 1.0) for k in range(20)]
    (det,) = non_max_suppression(_pred(rows), 0.25, 0.45, max_det=5)
    assert len(det) == 5 and det[0, 4].item() == pytest.approx(0.9)
    (only1,) = non_max_suppression(_pred(rows), 0.25, 0.45, classes=[1])
    assert len(only1) == 10 and (only1[:, 5] == 1).all()
    ml = _pred([(50, 50, 10, 10, 0.9, 0, 0.8)])
    ml[0, 0, 6] = 0.5
    (m,) = non_max_suppression(ml, 0.25, 0.45, multi_label=True)
    assert sorted(m[:, 5].tolist()) == [0.0, 1.0]


def test_empty_and_bad_input():
    (det,) = non_max_suppression(torch.zeros(1, 10, 7))
    assert det.shape == (0, 6)
    assert nms(torch.zeros(0, 4), torch.zeros(0), 0.5).numel() == 0
    with pytest.raises(ValueError):
        non_max_suppression(torch.zeros(10, 7))


def _greedy_reference(boxes, scores, thr, max_keep=None):
    """The textbook one-box-at-a-time greedy NMS, for comparison."""
    order = scores.argsort(descending=True, stable=True).tolist()
    keep = []
    while order and (max_keep is None or len(keep) < max_keep):
        i = order.pop(0)
        keep.append(i)
        if order:
            iou = box_iou(boxes[i : i + 1], boxes[order])[0]
            order = [j for j, v in zip(order, iou.tolist()) if v <= thr]
    return keep


@pytest.mark.parametrize("n,max_keep,seed", [(50, None, 0), (1300, None, 1), (1300, 40, 2), (2100, 7, 3)])
def test_blocked_nms_equals_textbook_greedy(n, max_keep, seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 200  # crowded: many overlaps across block boundaries
    wh = torch.rand(n, 2, generator=g) * 40 + 2
    boxes = torch.cat((xy, xy + wh), 1)
    scores = torch.rand(n, generator=g)
    got = nms(boxes, scores, 0.45, max_keep).tolist()
    assert got == _greedy_reference(boxes, scores, 0.45, max_keep)
