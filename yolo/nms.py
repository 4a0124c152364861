"""Non-maximum suppression in plain torch (no torchvision), YOLOv5 semantics.

`non_max_suppression(pred)` takes the eval-mode model output `(B, N, 5 + nc)` (xywh pixels,
objectness, class probabilities) and returns per image an `(n, 6)` tensor: x1, y1, x2, y2, conf, cls,
sorted by conf. conf = objectness * class probability. Classes never suppress each other: boxes are
offset by `cls * max_wh` before the IoU test (the usual batched-NMS trick).
"""

from __future__ import annotations

import numpy as np
import torch

MAX_WH = 7680.0  # class offset in pixels; larger than any image side we handle
MAX_NMS = 30000  # at most this many candidates (highest conf) enter the IoU stage


def xywh2xyxy(x: torch.Tensor) -> torch.Tensor:
    """Center x, y, width, height -> corners x1, y1, x2, y2 (same units)."""
    y = x.clone()
    y[..., 0] = x[..., 0] - x[..., 2] / 2
    y[..., 1] = x[..., 1] - x[..., 3] / 2
    y[..., 2] = x[..., 0] + x[..., 2] / 2
    y[..., 3] = x[..., 1] + x[..., 3] / 2
    return y


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU matrix `(len(a), len(b))` of xyxy boxes."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-9)


BLOCK = 1024  # candidates whose pairwise IoUs are computed at once (a BLOCK x BLOCK matrix)


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_thres: float, max_keep: int | None = None) -> torch.Tensor:
    """Greedy NMS: indices of kept boxes, by descending score; stops after `max_keep` kept boxes.

    Exactly the classic greedy rule (a box is kept iff no kept box of higher score overlaps it by more
    than `iou_thres`), computed a block of `BLOCK` candidates at a time: first the block against the boxes
    kept so far (one IoU matrix), then the greedy pass inside the block over its precomputed boolean
    overlap matrix. Memory stays O(BLOCK^2) and the Python work is one cheap row-OR per surviving candidate,
    instead of a handful of tensor ops per kept box.
    """
    order = scores.argsort(descending=True, stable=True)
    limit = order.numel() if max_keep is None else max_keep
    kept: list[torch.Tensor] = []  # indices into `order`, per block
    n_kept = 0
    ordered = boxes[order]
    for start in range(0, order.numel(), BLOCK):
        if n_kept >= limit:
            break
        block = ordered[start:start + BLOCK]
        alive = torch.ones(len(block), dtype=torch.bool, device=boxes.device)
        if n_kept:
            prev = ordered[torch.cat(kept)]
            alive &= ~(box_iou(prev, block) > iou_thres).any(0)
        idx = alive.nonzero().flatten()
        if not idx.numel():
            continue
        over = (box_iou(block[idx], block[idx]) > iou_thres).cpu().numpy()
        suppressed = np.zeros(len(idx), dtype=bool)
        picked = []
        for i in range(len(idx)):
            if suppressed[i]:
                continue
            picked.append(i)
            if n_kept + len(picked) >= limit:
                break
            suppressed |= over[i]
        kept.append(idx[torch.as_tensor(picked, dtype=torch.long, device=idx.device)] + start)
        n_kept += len(picked)
    if not kept:
        return torch.empty(0, dtype=torch.long, device=boxes.device)
    return order[torch.cat(kept)]


def non_max_suppression(pred: torch.Tensor, conf_thres: float = 0.25, iou_thres: float = 0.45,
                        max_det: int = 300, *, classes: list[int] | None = None, agnostic: bool = False,
                        multi_label: bool = False) -> list[torch.Tensor]:
    """Per image, `(n, 6)` detections [x1, y1, x2, y2, conf, cls] with conf > `conf_thres`.

    `multi_label=True` keeps every class whose score passes (as validation does); otherwise each box
    keeps its best class. `classes` keeps only those class ids; `agnostic` lets classes suppress each
    other. Thresholds are fractions; boxes are in the input's pixel units.
    """
    if pred.dim() != 3 or pred.shape[-1] < 6:
        raise ValueError(f"expected predictions (B, N, 5 + nc), got {tuple(pred.shape)}")
    if not (0.0 <= conf_thres <= 1.0 and 0.0 <= iou_thres <= 1.0):
        raise ValueError(f"conf_thres and iou_thres must be in [0, 1], got {conf_thres}, {iou_thres}")
    out = []
    for x in pred:
        x = x[x[:, 4] > conf_thres]
        if not x.shape[0]:
            out.append(torch.zeros((0, 6), device=pred.device))
            continue
        scores = x[:, 5:] * x[:, 4:5]
        box = xywh2xyxy(x[:, :4])
        if multi_label:
            i, j = (scores > conf_thres).nonzero(as_tuple=True)
            det = torch.cat((box[i], scores[i, j, None], j[:, None].float()), 1)
        else:
            conf, j = scores.max(1, keepdim=True)
            det = torch.cat((box, conf, j.float()), 1)[conf.view(-1) > conf_thres]
        if classes is not None:
            det = det[(det[:, 5:6] == torch.tensor(classes, device=det.device)).any(1)]
        if not det.shape[0]:
            out.append(torch.zeros((0, 6), device=pred.device))
            continue
        det = det[det[:, 4].argsort(descending=True, stable=True)[:MAX_NMS]]
        offset = det[:, 5:6] * (0.0 if agnostic else MAX_WH)
        keep = nms(det[:, :4] + offset, det[:, 4], iou_thres, max_det)
        out.append(det[keep])
    return out
