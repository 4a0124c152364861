"""mAP machinery on hand-made predictions with answers worked out by hand."""

import numpy as np
import pytest
import torch

from yolo.metrics import IOU_THRESHOLDS, ap_per_class, box_iou, compute_ap, match_predictions, summarize


def test_box_iou():
    a = torch.tensor([[0.0, 0, 10, 10], [0, 0, 5, 5]])
    b = torch.tensor([[0.0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    np.testing.assert_allclose(box_iou(a, b).numpy(), [[1, 1 / 3, 0], [0.25, 0, 0]], atol=1e-6)


def test_perfect_curve_is_0_995():
    # the (recall 1, precision 0) sentinel makes the last trapezoid half: the YOLOv5 value
    assert compute_ap(np.array([0.5, 1.0]), np.array([1.0, 1.0])) == pytest.approx(0.995)


def test_ap_of_a_known_curve():
    # 3 labels; predictions by confidence: TP FP TP FP TP
    tp = np.array([1, 0, 1, 0, 1], float)
    recall = np.cumsum(tp) / 3
    precision = np.cumsum(tp) / np.arange(1, 6)
    # envelope: 1 up to r=1/3, 2/3 up to 2/3, 0.6 up to 1; sampled at 0.00..1.00, trapezoids:
    expected = 0.33 + 0.01 * (1 + 2 / 3) / 2 + 0.32 * 2 / 3 + 0.01 * (2 / 3 + 0.6) / 2 + 0.32 * 0.6 + 0.01 * 0.3
    assert compute_ap(recall, precision) == pytest.approx(expected, abs=1e-9)


def test_match_one_label_two_predictions():
    iou = np.array([[0.72, 0.9]])  # label x predictions; prediction 0 has the higher confidence
    c = match_predictions(np.array([0, 0]), np.array([0]), iou)
    # thresholds 0.5..0.70: both qualify; prediction 1 has the better IoU -> it takes the label
    # (each prediction keeps its best label, then the label keeps the earliest prediction: 0)
    assert c[:, :5].tolist() == [[True] * 5, [False] * 5]
    # 0.75..0.90: only prediction 1 qualifies
    assert c[1, 5:9].all() and not c[0, 5:].any() and not c[1, 9]


def test_match_needs_the_same_class_and_iou():
    c = match_predictions(np.array([1, 0]), np.array([0]), np.array([[0.95, 0.49]]))
    assert not c.any()
    c = match_predictions(np.array([0]), np.array([0]), np.array([[0.7]]))
    assert c[0].tolist() == [t <= 0.7 + 1e-9 for t in IOU_THRESHOLDS]
    assert match_predictions(np.zeros(0), np.zeros(0), np.zeros((0, 0))).shape == (0, 10)


def test_ap_per_class_two_classes_one_missed():
    # class 0: 2 labels, both found (conf .9, .8) plus an FP (.3); class 1: 1 label, never predicted
    tp = np.array([[1] * 10, [1] * 10, [0] * 10], bool)
    st = ap_per_class(tp, np.array([0.9, 0.8, 0.3]), np.array([0, 0, 0]), np.array([0, 0, 1]))
    assert st.classes.tolist() == [0, 1]
    np.testing.assert_allclose(st.ap[0], 0.995)
    np.testing.assert_allclose(st.ap[1], 0.0)
    # P/R at the max of the *smoothed* F1: recall 1; precision just under 1 (the curve is linear
    # in confidence between .8 (P=1) and .3 (P=2/3) and the smoothing moves the peak off .8)
    assert st.r[0] == pytest.approx(1.0) and 0.95 < st.p[0] < 1.0
    assert st.p[1] == 0 and st.r[1] == 0
    rep = summarize(st, ["a", "b"], images_per_class={0: 2, 1: 1}, instances_per_class={0: 2, 1: 1})
    assert rep["map50"] == pytest.approx(0.4975) and rep["map50_95"] == pytest.approx(0.4975)
    assert [(p["name"], p["images"], p["instances"]) for p in rep["per_class"]] == [("a", 2, 2), ("b", 1, 1)]


def test_ap_depends_on_iou_threshold():
    # one label, one prediction matching only up to IoU 0.7 -> AP50 = .995, AP50:95 = .995 * 5/10
    tp = match_predictions(np.array([0]), np.array([0]), np.array([[0.7]]))
    st = ap_per_class(tp, np.array([0.5]), np.array([0]), np.array([0]))
    assert st.ap50[0] == pytest.approx(0.995) and st.ap50_95[0] == pytest.approx(0.4975)


def test_predictions_of_unlabelled_classes_are_ignored():
    tp = np.array([[1] * 10, [0] * 10], bool)
    st = ap_per_class(tp, np.array([0.9, 0.95]), np.array([0, 5]), np.array([0]))
    assert st.classes.tolist() == [0] and st.ap50[0] == pytest.approx(0.995)


def test_no_labels_gives_empty_stats():
    st = ap_per_class(np.zeros((2, 10), bool), np.array([0.9, 0.1]), np.array([0, 1]), np.zeros(0))
    rep = summarize(st, ["a"])
    assert rep["map50"] == 0.0 and rep["per_class"] == []
