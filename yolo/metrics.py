"""Detection metrics with the COCO / YOLOv5 definitions.

- A prediction is a true positive at IoU threshold t when it is matched one-to-one to a label of
  the same class with IoU >= t (`match_predictions`).
- Per class, predictions sorted by decreasing confidence give a precision/recall curve; AP is the
  area under its precision envelope (running max from the right), sampled at 101 recall points
  in [0, 1] and integrated with the trapezoid rule, with sentinels (recall 0, precision 1) and
  (recall 1, precision 0) (`compute_ap`). Ten thresholds 0.50:0.05:0.95.
- Precision and recall are reported at the confidence that maximises the class-mean F1 curve
  (sampled on 1000 confidences, smoothed with a box filter of 10% width).
- mAP@0.5 / mAP@0.5:0.95 average over the classes that have labels; a class with labels and no
  predictions counts as AP 0. Predictions of classes without labels are ignored.

numpy for the curves, torch only for the IoU matrix (predictions arrive as tensors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)


def box_iou(a, b):
    """Pairwise IoU of xyxy boxes: a (n, 4), b (m, 4) torch tensors -> (n, m)."""
    import torch

    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(0).prod(2)
    area_a = (a[:, 2:] - a[:, :2]).clamp(0).prod(1)
    area_b = (b[:, 2:] - b[:, :2]).clamp(0).prod(1)
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-7)


def match_predictions(pred_cls, label_cls, iou, thresholds=IOU_THRESHOLDS) -> np.ndarray:
    """Which predictions are true positives, per IoU threshold.

    pred_cls (n,), label_cls (m,) class ids; iou (m, n) label x prediction IoU (tensors or arrays).
    Returns bool (n, len(thresholds)). For each threshold, among the pairs with matching class and
    IoU >= t, each prediction keeps its best-IoU label, then each label keeps the earliest of the
    predictions left to it (predictions come from NMS in decreasing confidence), as YOLOv5 does.
    """
    iou = np.asarray(iou.cpu() if hasattr(iou, "cpu") else iou, dtype=np.float64)
    pc = np.asarray(pred_cls.cpu() if hasattr(pred_cls, "cpu") else pred_cls)
    lc = np.asarray(label_cls.cpu() if hasattr(label_cls, "cpu") else label_cls)
    correct = np.zeros((len(pc), len(thresholds)), dtype=bool)
    if iou.size == 0:
        return correct
    iou = iou * (lc[:, None] == pc[None, :])
    for k, t in enumerate(thresholds):
        li, pi = np.nonzero(iou >= t)
        if not len(li):
            continue
        order = np.argsort(-iou[li, pi], kind="stable")
        li, pi = li[order], pi[order]
        _, first_p = np.unique(pi, return_index=True)  # each prediction: its best-IoU label
        li, pi = li[first_p], pi[first_p]  # now in prediction order (= decreasing confidence)
        _, first_l = np.unique(li, return_index=True)  # each label: its earliest prediction
        correct[pi[first_l], k] = True
    return correct


def precision_envelope(recall: np.ndarray, precision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(recall, precision envelope) with the sentinels of the module docstring: the curve AP integrates."""
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([1.0], precision, [0.0]))
    return mrec, np.flip(np.maximum.accumulate(np.flip(mpre)))


def compute_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the precision envelope, 101-point interpolation (see the module docstring)."""
    mrec, mpre = precision_envelope(recall, precision)
    x = np.linspace(0, 1, 101)
    y = np.interp(x, mrec, mpre)
    return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)))


def smooth(y: np.ndarray, f: float = 0.05) -> np.ndarray:
    """Box filter of width ~2f of the length (odd), edges padded with the end values."""
    nf = round(len(y) * f * 2) // 2 + 1
    p = np.ones(nf // 2)
    yp = np.concatenate((p * y[0], y, p * y[-1]))
    return np.convolve(yp, np.ones(nf) / nf, mode="valid")


@dataclass(frozen=True)
class ClassStats:
    """Per-class results: `classes` (k,) ids with labels, and (k,) p, r, f1, ap50, ap (0.5:0.95)."""

    classes: np.ndarray
    p: np.ndarray
    r: np.ndarray
    f1: np.ndarray
    ap: np.ndarray  # (k, 10)
    curves: dict | None = None  # (k, 1000) arrays on `px` (1000 points in [0, 1]): "p", "r", "f1" against
    # confidence, "pr" (precision envelope at IoU 0.5 against recall); what the PR/F1/P/R plots draw

    @property
    def ap50(self) -> np.ndarray:
        return self.ap[:, 0]

    @property
    def ap50_95(self) -> np.ndarray:
        return self.ap.mean(1)


def ap_per_class(tp: np.ndarray, conf: np.ndarray, pred_cls: np.ndarray, target_cls: np.ndarray,
                 eps: float = 1e-16) -> ClassStats:
    """Per-class AP over all images. tp (n, 10) bool, conf (n,), pred_cls (n,), target_cls (m,)
    (every label of the dataset). P and R are taken at the max of the smoothed mean F1."""
    tp, conf, pred_cls = np.asarray(tp, bool), np.asarray(conf, float), np.asarray(pred_cls)
    target_cls = np.asarray(target_cls)
    order = np.argsort(-conf, kind="stable")
    tp, conf, pred_cls = tp[order], conf[order], pred_cls[order]
    classes, n_labels = np.unique(target_cls, return_counts=True)
    k = len(classes)
    px = np.linspace(0, 1, 1000)
    ap = np.zeros((k, tp.shape[1] if tp.ndim == 2 else 10))
    p_curve, r_curve, pr_curve = np.zeros((k, 1000)), np.zeros((k, 1000)), np.zeros((k, 1000))
    for ci, c in enumerate(classes):
        sel = pred_cls == c
        n_l, n_p = n_labels[ci], int(sel.sum())
        if n_p == 0 or n_l == 0:
            continue
        tpc = tp[sel].cumsum(0)
        fpc = (1 - tp[sel]).cumsum(0)
        recall = tpc / (n_l + eps)
        precision = tpc / (tpc + fpc)
        # curves at IoU 0.5 as functions of confidence (np.interp needs increasing x: negate)
        r_curve[ci] = np.interp(-px, -conf[sel], recall[:, 0], left=0)
        p_curve[ci] = np.interp(-px, -conf[sel], precision[:, 0], left=1)
        for j in range(tp.shape[1]):
            ap[ci, j] = compute_ap(recall[:, j], precision[:, j])
        pr_curve[ci] = np.interp(px, *precision_envelope(recall[:, 0], precision[:, 0]))
    f1 = 2 * p_curve * r_curve / (p_curve + r_curve + eps)
    i = int(smooth(f1.mean(0), 0.1).argmax()) if k else 0
    curves = {"px": px, "p": p_curve, "r": r_curve, "f1": f1, "pr": pr_curve}
    return ClassStats(classes=classes, p=p_curve[:, i], r=r_curve[:, i], f1=f1[:, i], ap=ap, curves=curves)


def summarize(stats: ClassStats, names, *, images_per_class: dict[int, int] | None = None,
              instances_per_class: dict[int, int] | None = None) -> dict:
    """The report dict used by `validate` and `recipec val`: overall precision, recall, map50,
    map50_95 and a per_class list of {class, name, images, instances, precision, recall, map50,
    map50_95} (classes that have labels, in id order)."""
    names = list(names) if names is not None else []
    per = []
    for k, c in enumerate(stats.classes.tolist()):
        c = int(c)
        per.append({
            "class": c,
            "name": names[c] if c < len(names) else str(c),
            "images": int((images_per_class or {}).get(c, 0)),
            "instances": int((instances_per_class or {}).get(c, 0)),
            "precision": float(stats.p[k]),
            "recall": float(stats.r[k]),
            "map50": float(stats.ap50[k]),
            "map50_95": float(stats.ap50_95[k]),
        })
    n = len(stats.classes)
    return {
        "precision": float(stats.p.mean()) if n else 0.0,
        "recall": float(stats.r.mean()) if n else 0.0,
        "map50": float(stats.ap50.mean()) if n else 0.0,
        "map50_95": float(stats.ap50_95.mean()) if n else 0.0,
        "per_class": per,
    }
