"""Non-maximum suppression in plain torch (no torchvision), YOLOv5 semantics.

`non_max_suppression(pred)` takes the eval-mode model output `(B, N, 5 + nc)` (xywh pixels,
objectness, class probabilities) and returns per image an `(n, 6)` tensor: x1, y1, x2, y2, conf, cls,
sorted by conf. conf = objectness * class probability. Classes never suppress each other: boxes are
offset by `cls * max_wh` before the IoU test (the usual batched-NMS trick).
"""

from __future__ import annotations

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


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_thres: float, max_keep: int | None = None) -> torch.Tensor:
    """Greedy NMS: indices of kept boxes, by descending score. Stops after `max_keep` kept boxes, so
    the cost is O(kept x candidates) without an n x n IoU matrix."""
    order = scores.argsort(descending=True, stable=True)
    keep: list[torch.Tensor] = []
    limit = len(order) if max_keep is None else max_keep
    while order.numel() and len(keep) < limit:
        i = order[0]
        keep.append(i)
        if order.numel() == 1:
            break
        rest = order[1:]
        iou = box_iou(boxes[i].unsqueeze(0), boxes[rest])[0]
        order = rest[iou <= iou_thres]
    if not keep:
        return torch.empty(0, dtype=torch.long, device=boxes.device)
    return torch.stack(keep)


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
