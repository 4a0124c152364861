"""The detection confusion matrix of YOLOv5's validation plots.

Rows are predicted classes, columns true classes; the extra last row and column are "background": a label no
detection matched (a miss) counts in the background row, a detection that matched no label (a false alarm) in
the background column. Only detections with confidence above `conf` (0.25) count; a detection and a label
match when their IoU exceeds `iou` (0.45), whatever their classes (so a wrong class shows off the diagonal),
one to one, highest IoU first.
"""

from __future__ import annotations

import numpy as np

from yolo.metrics import box_iou


class ConfusionMatrix:
    def __init__(self, nc: int, conf: float = 0.25, iou: float = 0.45):
        self.nc, self.conf, self.iou = int(nc), float(conf), float(iou)
        self.matrix = np.zeros((self.nc + 1, self.nc + 1), dtype=np.int64)

    def add(self, dets, label_cls, label_boxes) -> None:
        """One image: `dets` (n, 6) xyxy, conf, class; labels: classes (m,) and xyxy boxes (m, 4) in the same
        pixels (tensors)."""
        dets = dets[dets[:, 4] > self.conf]
        lc = label_cls.long().cpu().numpy()
        dc = dets[:, 5].long().cpu().numpy()
        bg = self.nc
        if len(lc) == 0:
            np.add.at(self.matrix, (dc, bg), 1)
            return
        if len(dc) == 0:
            np.add.at(self.matrix, (bg, lc), 1)
            return
        iou = box_iou(label_boxes.float(), dets[:, :4].float()).cpu().numpy()  # (m labels, n dets)
        li, di = np.nonzero(iou > self.iou)
        order = np.argsort(-iou[li, di], kind="stable")
        li, di = li[order], di[order]
        used_l, used_d = set(), set()
        for a, b in zip(li.tolist(), di.tolist()):
            if a not in used_l and b not in used_d:
                used_l.add(a)
                used_d.add(b)
                self.matrix[dc[b], lc[a]] += 1
        for a in range(len(lc)):
            if a not in used_l:
                self.matrix[bg, lc[a]] += 1
        for b in range(len(dc)):
            if b not in used_d:
                self.matrix[dc[b], bg] += 1

    def normalized(self) -> np.ndarray:
        """Each column (true class) divided by its total: the fractions the plot shows."""
        return self.matrix / np.maximum(self.matrix.sum(0, keepdims=True), 1)
