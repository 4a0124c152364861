"""The YOLOv5 training loss, written from its published description.

    loss = box_gain * sum_l mean(1 - CIoU)              over matched (target, anchor, cell) triples
         + obj_gain * sum_l balance_l * BCE(obj_l, t)    over every cell, t = detached CIoU (>= 0) on
                                                         matched cells, 0 elsewhere (gr = 1)
         + cls_gain * sum_l BCE(cls, one-hot)            over matched triples
    returned multiplied by the batch size, as YOLOv5 does.

Target assignment per level l: a target goes to every anchor whose width and height ratios to it
(both ways) stay below `anchor_t` (4.0); it is assigned to its own grid cell and to the two
neighbouring cells nearest to its centre (offset 0.5 cell), so up to 3 cells per anchor.
Predicted boxes: xy = 2*sigmoid - 0.5 (cell units, relative to the cell), wh = (2*sigmoid)^2 * anchor.

Gains follow YOLOv5's training script: box 0.05, obj 1.0, cls 0.5 (hyp.scratch-low), each scaled
by 3 / nl; obj also by (imgsz / 640)^2 and cls by nc / 80. Level balance [4.0, 1.0, 0.4].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn


@dataclass(frozen=True)
class LossHyp:
    """Loss hyperparameters (YOLOv5 hyp.scratch-low defaults), before the nl/nc/imgsz scaling."""

    box: float = 0.05
    obj: float = 1.0
    cls: float = 0.5
    anchor_t: float = 4.0
    label_smoothing: float = 0.0

    @classmethod
    def from_dict(cls, d: dict) -> "LossHyp":
        """Take the loss keys of a hyp dict/YAML; other keys (lr0, hsv_h, ...) are ignored."""
        names = set(cls.__dataclass_fields__)
        return cls(**{k: float(v) for k, v in d.items() if k in names})


def bbox_ciou(b1: torch.Tensor, b2: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Complete IoU of paired boxes, both (n, 4) center xywh in the same units -> (n,).

    CIoU = IoU - rho^2 / c^2 - alpha * v, where rho is the distance between centres, c the
    diagonal of the smallest enclosing box, v = 4/pi^2 (atan(w2/h2) - atan(w1/h1))^2 and
    alpha = v / (v - IoU + 1 + eps) (treated as a constant for the gradient).
    """
    (x1, y1, w1, h1), (x2, y2, w2, h2) = b1.unbind(-1), b2.unbind(-1)
    b1x1, b1x2, b1y1, b1y2 = x1 - w1 / 2, x1 + w1 / 2, y1 - h1 / 2, y1 + h1 / 2
    b2x1, b2x2, b2y1, b2y2 = x2 - w2 / 2, x2 + w2 / 2, y2 - h2 / 2, y2 + h2 / 2
    inter = (torch.min(b1x2, b2x2) - torch.max(b1x1, b2x1)).clamp(0) * \
        (torch.min(b1y2, b2y2) - torch.max(b1y1, b2y1)).clamp(0)
    h1e, h2e = h1 + eps, h2 + eps
    union = w1 * h1e + w2 * h2e - inter + eps
    iou = inter / union
    cw = torch.max(b1x2, b2x2) - torch.min(b1x1, b2x1)
    ch = torch.max(b1y2, b2y2) - torch.min(b1y1, b2y1)
    c2 = cw ** 2 + ch ** 2 + eps
    rho2 = (x2 - x1) ** 2 + (y2 - y1) ** 2
    v = (4 / math.pi ** 2) * (torch.atan(w2 / h2e) - torch.atan(w1 / h1e)) ** 2
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return iou - (rho2 / c2 + v * alpha)


class YoloLoss:
    """Callable: `loss(preds, targets) -> (total * batch_size (1,), items [box, obj, cls] detached (3,))`.

    Args:
        anchors: (nl, na, 2) anchor sizes in grid units of each level (the Detect buffer).
        stride: (nl,) level strides in pixels (kept for reference; targets are normalized).
        nc: number of classes.
        imgsz: training image size in pixels (scales the objectness gain by (imgsz/640)^2).
        hyp: gains and the anchor ratio threshold.
    preds: list of nl raw head outputs (B, na, H, W, 5 + nc) (model.train() forward).
    targets: (n, 6) [image index, class, x, y, w, h], xywh normalized to the input image.
    """

    balance_3 = (4.0, 1.0, 0.4)

    def __init__(self, anchors: torch.Tensor, stride, nc: int, *, imgsz: int = 640, hyp: LossHyp | None = None):
        hyp = hyp or LossHyp()
        self.anchors = torch.as_tensor(anchors, dtype=torch.float32).detach().clone()
        self.stride = torch.as_tensor(stride, dtype=torch.float32).flatten()
        self.nl, self.na = self.anchors.shape[:2]
        self.nc = int(nc)
        self.anchor_t = hyp.anchor_t
        self.balance = list(self.balance_3) if self.nl == 3 else [4.0, 1.0, 0.25, 0.06, 0.02][: self.nl]
        k = 3 / self.nl
        self.box_gain = hyp.box * k
        self.obj_gain = hyp.obj * (imgsz / 640) ** 2 * k
        self.cls_gain = hyp.cls * self.nc / 80 * k
        self.cp, self.cn = 1.0 - 0.5 * hyp.label_smoothing, 0.5 * hyp.label_smoothing
        self.bce = nn.BCEWithLogitsLoss()

    @classmethod
    def from_model(cls, model: nn.Module, *, imgsz: int = 640, hyp: LossHyp | None = None) -> "YoloLoss":
        """Build from a YoloModel: uses its Detect head's `anchors` (grid units), strides and nc."""
        head = None
        for m in model.modules():
            if isinstance(getattr(m, "anchors", None), torch.Tensor) and hasattr(m, "nl"):
                head = m
        if head is None:
            raise ValueError("model has no detection head with an `anchors` buffer")
        stride = getattr(head, "strides", None) or getattr(model, "stride")
        return cls(head.anchors, stride, head.nc, imgsz=imgsz, hyp=hyp)

    def __call__(self, preds: list[torch.Tensor], targets: torch.Tensor):
        dev = preds[0].device
        lcls = torch.zeros(1, device=dev)
        lbox = torch.zeros(1, device=dev)
        lobj = torch.zeros(1, device=dev)
        tcls, tbox, indices, anch = self.build_targets(preds, targets.to(dev))
        for i, p in enumerate(preds):
            b, a, gj, gi = indices[i]
            tobj = torch.zeros(p.shape[:4], dtype=p.dtype, device=dev)
            if b.shape[0]:
                ps = p[b, a, gj, gi]  # (n, 5 + nc)
                pxy = ps[:, :2].sigmoid() * 2 - 0.5
                pwh = (ps[:, 2:4].sigmoid() * 2) ** 2 * anch[i]
                iou = bbox_ciou(torch.cat((pxy, pwh), 1), tbox[i])
                lbox = lbox + (1.0 - iou).mean()
                tobj[b, a, gj, gi] = iou.detach().clamp(0).to(tobj.dtype)
                if self.nc > 1:
                    t = torch.full_like(ps[:, 5:], self.cn)
                    t[torch.arange(b.shape[0], device=dev), tcls[i]] = self.cp
                    lcls = lcls + self.bce(ps[:, 5:], t)
            lobj = lobj + self.bce(p[..., 4], tobj) * self.balance[i]
        lbox, lobj, lcls = lbox * self.box_gain, lobj * self.obj_gain, lcls * self.cls_gain
        bs = preds[0].shape[0]
        return (lbox + lobj + lcls) * bs, torch.cat((lbox, lobj, lcls)).detach()

    def build_targets(self, preds: list[torch.Tensor], targets: torch.Tensor):
        """Match targets to anchors and cells. Per level returns class ids (n,), boxes (n, 4)
        as (x, y) offsets from the assigned cell + (w, h) in grid units, indices
        (image, anchor, grid_y, grid_x) and the matched anchors (n, 2)."""
        dev = targets.device
        na, nt = self.na, targets.shape[0]
        tcls, tbox, indices, anch = [], [], [], []
        ai = torch.arange(na, device=dev, dtype=torch.float32).view(na, 1).repeat(1, nt)
        t_all = torch.cat((targets.float().repeat(na, 1, 1), ai[..., None]), 2)  # (na, nt, 7)
        g = 0.5
        off = torch.tensor([[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]], device=dev, dtype=torch.float32) * g
        for i, p in enumerate(preds):
            anchors = self.anchors[i].to(dev)
            h, w = p.shape[2], p.shape[3]
            gain = torch.tensor([1, 1, w, h, w, h, 1], device=dev, dtype=torch.float32)
            t = t_all * gain
            if nt:
                r = t[..., 4:6] / anchors[:, None]
                keep = torch.max(r, 1 / r).max(2)[0] < self.anchor_t
                t = t[keep]
                gxy = t[:, 2:4]
                gxi = gain[[2, 3]] - gxy
                j, k = ((gxy % 1 < g) & (gxy > 1)).T
                l, m = ((gxi % 1 < g) & (gxi > 1)).T
                sel = torch.stack((torch.ones_like(j), j, k, l, m))
                t = t.repeat((5, 1, 1))[sel]
                offsets = (torch.zeros_like(gxy)[None] + off[:, None])[sel]
            else:
                t = t_all[0] * gain
                offsets = torch.zeros((0, 2), device=dev)
            bc, gxy, gwh, a = t.split((2, 2, 2, 1), 1)
            a, (b, c) = a.long().view(-1), bc.long().T
            gij = (gxy - offsets).long()
            gi = gij[:, 0].clamp_(0, w - 1)
            gj = gij[:, 1].clamp_(0, h - 1)
            indices.append((b, a, gj, gi))
            tbox.append(torch.cat((gxy - torch.stack((gi, gj), 1), gwh), 1))
            anch.append(anchors[a])
            tcls.append(c)
        return tcls, tbox, indices, anch
