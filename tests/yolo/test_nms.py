"""Plain-torch NMS: suppression within a class, none across classes, thresholds, max_det."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import yolo.nms as nms_module
from yolo.nms import box_iou, greedy_keep, nms, non_max_suppression, xywh2xyxy


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


def test_box_iou_bits_equal_the_corner_form():
    """The in-place per-axis box_iou gives the very bits of the textbook corner max/min form."""
    def corner(a, b):
        area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
        area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
        lt = torch.max(a[:, None, :2], b[None, :, :2])
        rb = torch.min(a[:, None, 2:], b[None, :, 2:])
        inter = (rb - lt).clamp(min=0).prod(-1)
        return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-9)

    g = torch.Generator().manual_seed(5)
    for scale in (1.0, 37.3, 640.0):
        xy = torch.rand(300, 2, generator=g) * scale
        boxes = torch.cat((xy, xy + torch.rand(300, 2, generator=g) * scale / 4), 1)
        boxes[::7] = boxes[1::7][: len(boxes[::7])]  # duplicates
        other = boxes[torch.randperm(300, generator=g)]
        assert torch.equal(box_iou(boxes, other), corner(boxes, other))


def test_greedy_keep_long_chain():
    """A chain where each box overlaps only the next: kept, suppressed, kept... (the fixed point's worst
    case: as many rounds as boxes), also across blocks."""
    n = 600
    x = torch.arange(n, dtype=torch.float32) * 5  # width 10, step 5: IoU 1/3 with the next, 0 beyond
    boxes = torch.stack((x, torch.zeros(n), x + 10, torch.ones(n) * 10), 1)
    scores = torch.linspace(1, 0.1, n)
    keep = nms(boxes, scores, 0.3)
    assert keep.tolist() == list(range(0, n, 2)) == _greedy_reference(boxes, scores, 0.3)
    iou = torch.eye(5)
    iou[0, 1] = iou[1, 2] = iou[2, 3] = iou[3, 4] = 0.9
    iou[1, 0] = 0.9  # below the diagonal: ignored (only higher-scored boxes suppress)
    assert greedy_keep(iou, 0.5).tolist() == [True, False, True, False, True]


@st.composite
def _box_sets(draw):
    """Boxes on a coarse grid (exact duplicates, IoU exactly at the threshold), scores with ties, classes."""
    n = draw(st.integers(0, 60))
    ints = st.integers(0, 12)
    rows = draw(st.lists(st.tuples(ints, ints, st.integers(0, 8), st.integers(0, 8), st.integers(0, 5),
                                   st.integers(0, 2)), min_size=n, max_size=n))
    boxes = torch.tensor([[x, y, x + w, y + h] for x, y, w, h, _, _ in rows], dtype=torch.float32).view(-1, 4)
    scores = torch.tensor([s / 5 for *_, s, _ in rows], dtype=torch.float32)
    cls = torch.tensor([c for *_, c in rows], dtype=torch.float32)
    return boxes, scores, cls


@settings(max_examples=300, deadline=None)
@given(_box_sets(), st.sampled_from([0.0, 0.25, 0.5, 0.6, 1.0]), st.sampled_from([None, 1, 5, 300]),
       st.sampled_from([1, 3, 7, 256]))
def test_nms_equals_textbook_greedy_property(data, thr, max_keep, block):
    boxes, scores, cls = data
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nms_module, "BLOCK", block)  # small blocks: every cross-block path
        assert nms(boxes, scores, thr, max_keep).tolist() == _greedy_reference(boxes, scores, thr, max_keep)
        # class-offset batching: the same as greedy NMS per class, merged by score, capped
        got = nms(boxes + cls[:, None] * nms_module.MAX_WH, scores, thr, max_keep).tolist()
    order = scores.argsort(descending=True, stable=True).tolist()
    per_class = set()
    for c in cls.unique().tolist():
        idx = (cls == c).nonzero().flatten()
        per_class.update(idx[_greedy_reference(boxes[idx], scores[idx], thr)].tolist())
    want = [i for i in order if i in per_class][:max_keep]
    assert got == want


def test_iou_exactly_at_the_threshold_compares_as_torchvision_does():
    """IoU 30/50 is 0.6000000238 in float32: above a 0.6 threshold (torchvision compares its float IoU with
    the double threshold), although torch's `iou > 0.6` would round 0.6 to that same float32."""
    boxes = torch.tensor([[6.0, 0.0, 11.0, 8.0], [6.0, 2.0, 11.0, 10.0]])
    scores = torch.tensor([0.9, 0.8])
    assert nms(boxes, scores, 0.6).tolist() == [0] == _greedy_reference(boxes, scores, 0.6)
    assert nms(boxes, scores, 0.61).tolist() == [0, 1]


def test_nms_runs_on_one_cpu_thread_and_restores_the_count():
    before = torch.get_num_threads()
    seen = []
    real = nms_module.nms_sorted

    def spy(*a, **kw):
        seen.append(torch.get_num_threads())
        return real(*a, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nms_module, "nms_sorted", spy)
        torch.set_num_threads(2)
        try:
            non_max_suppression(_pred([(50, 50, 40, 40, 0.9, 0, 1.0)]), 0.25, 0.45)
            assert seen == [1] and torch.get_num_threads() == 2
        finally:
            torch.set_num_threads(before)


def test_non_finite_boxes_overlap_nothing():
    """A NaN / inf box neither suppresses nor is suppressed (torchvision: a NaN IoU compares false); the
    finite boxes get greedy NMS as if it were absent."""
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [float("nan"), 0.0, 10.0, 10.0], [1.0, 0.0, 11.0, 10.0],
                          [0.0, 0.0, float("inf"), 10.0], [50.0, 50.0, 60.0, 60.0]])
    scores = torch.tensor([0.5, 0.9, 0.4, 0.8, 0.3])
    assert nms(boxes, scores, 0.5).tolist() == [1, 3, 0, 4]


@given(st.lists(st.booleans(), max_size=300))
@settings(max_examples=60, deadline=None)
def test_true_indices_equal_torch_nonzero(bits):
    mask = torch.tensor(bits, dtype=torch.bool)
    got = nms_module._true_indices(mask)
    assert got.dtype == torch.long and torch.equal(got, mask.nonzero().view(-1))
