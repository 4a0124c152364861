"""Single-image inference: letterbox, forward, NMS, boxes back in original pixels, and drawing.

Preprocessing follows YOLOv5's detect: RGB, letterbox to `imgsz` keeping the aspect ratio with grey
padding only up to the next multiple of the model stride (a "minimum rectangle"), scale to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from yolo.data.augment import letterbox
from yolo.nms import non_max_suppression

# A fixed palette (RGB), one colour per class id modulo its length.
PALETTE = ((255, 56, 56), (255, 157, 151), (255, 112, 31), (255, 178, 29), (207, 210, 49), (72, 249, 10),
           (146, 204, 23), (61, 219, 134), (26, 147, 52), (0, 212, 187), (44, 153, 168), (0, 194, 255),
           (52, 69, 147), (100, 115, 255), (0, 24, 236), (132, 56, 255), (82, 0, 133), (203, 56, 255),
           (255, 149, 200), (255, 55, 199))


class ImageError(ValueError):
    """An image that cannot be read; the message names the file."""


@dataclass(frozen=True)
class Detection:
    """One box in original-image pixels (x1, y1, x2, y2), its confidence, class id and name."""

    xyxy: tuple[float, float, float, float]
    conf: float
    cls: int
    name: str


def load_image(path: str | Path) -> np.ndarray:
    """RGB uint8 (H, W, 3), with the EXIF orientation applied. Raises ImageError."""
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            return np.asarray(im.convert("RGB"))
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as e:
        raise ImageError(f"{path}: cannot read image ({e})") from None


def preprocess(img: np.ndarray, imgsz: int = 640, stride: int = 32):
    """Letterboxed `(1, 3, h, w)` float tensor in [0, 1], plus (ratio (rw, rh), pad (left, top))."""
    boxed, ratio, pad = letterbox(img, imgsz, auto=True, stride=stride)
    x = torch.from_numpy(np.ascontiguousarray(boxed.transpose(2, 0, 1))).float().div_(255.0)
    return x.unsqueeze(0), ratio, pad


def scale_boxes(boxes: torch.Tensor, ratio, pad, shape) -> torch.Tensor:
    """Letterboxed-input xyxy -> original-image xyxy, clipped to `shape` (h, w)."""
    b = boxes.clone()
    b[:, [0, 2]] = (b[:, [0, 2]] - pad[0]) / ratio[0]
    b[:, [1, 3]] = (b[:, [1, 3]] - pad[1]) / ratio[1]
    b[:, [0, 2]] = b[:, [0, 2]].clamp(0, shape[1])
    b[:, [1, 3]] = b[:, [1, 3]].clamp(0, shape[0])
    return b


@torch.no_grad()
def detect(model, img: np.ndarray, *, imgsz: int = 640, conf: float = 0.25, iou: float = 0.45,
           max_det: int = 1000) -> list[Detection]:
    """Detections on one RGB image, best first. `model` is a YoloModel (put in eval mode here) or a
    `yolo.val.OnnxModel` (a static input size is letterboxed to exactly that size)."""
    if isinstance(model, torch.nn.Module):
        model.eval()
        stride = int(max(model.stride.tolist()))
        device = next(model.parameters()).device
        x, ratio, pad = preprocess(img, imgsz, stride)
    else:
        device = torch.device("cpu")
        fixed = getattr(model, "fixed_hw", None)
        if fixed is None:
            x, ratio, pad = preprocess(img, imgsz, int(getattr(model, "stride", 32)))
        else:
            boxed, ratio, pad = letterbox(img, fixed, auto=False)
            x = torch.from_numpy(np.ascontiguousarray(boxed.transpose(2, 0, 1))).float().div_(255.0)[None]
    pred = model(x.to(device))
    if isinstance(pred, (list, tuple)):
        pred = pred[0]
    (det,) = non_max_suppression(torch.as_tensor(pred).float(), conf, iou, max_det)
    det = det.cpu()
    det[:, :4] = scale_boxes(det[:, :4], ratio, pad, img.shape[:2])
    names = getattr(model, "names", None) or []
    return [Detection(tuple(float(v) for v in d[:4]), float(d[4]), int(d[5]),
                      names[int(d[5])] if int(d[5]) < len(names) else str(int(d[5]))) for d in det]


def yolo_label_lines(dets: list[Detection], shape: tuple[int, ...], with_conf: bool = False) -> list[str]:
    """YOLO-format label lines, `class x_center y_center width height` normalized to the image `shape` (h, w),
    plus the confidence with `with_conf` (YOLOv5's `--save-txt` / `--save-conf`)."""
    h, w = shape[:2]
    out = []
    for d in dets:
        x1, y1, x2, y2 = d.xyxy
        vals = [(x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h] + ([d.conf] if with_conf else [])
        out.append(" ".join([str(d.cls)] + [f"{v:.6g}" for v in vals]))
    return out


def summarize(dets: list[Detection]) -> str:
    """'4 person, 1 bus' (classes by first appearance, i.e. by best confidence)."""
    counts: dict[str, int] = {}
    for d in dets:
        counts[d.name] = counts.get(d.name, 0) + 1
    return ", ".join(f"{n} {name}" for name, n in counts.items()) or "no detections"


def draw(img: np.ndarray, dets: list[Detection]) -> Image.Image:
    """The image with one labelled rectangle per detection ("name 0.87")."""
    im = Image.fromarray(img)
    d = ImageDraw.Draw(im)
    width = max(round(sum(im.size) / 2 * 0.003), 2)
    try:
        font = ImageFont.load_default(size=max(12, 6 * width))
    except TypeError:  # Pillow < 10.1: fixed-size bitmap font
        font = ImageFont.load_default()
    for det in dets:
        color = PALETTE[det.cls % len(PALETTE)]
        x1, y1, x2, y2 = det.xyxy
        d.rectangle((x1, y1, x2, y2), outline=color, width=width)
        label = f"{det.name} {det.conf:.2f}"
        l, t, r, b = d.textbbox((0, 0), label, font=font)
        tw, th = r - l, b - t
        ty = y1 - th - 4 if y1 - th - 4 >= 0 else y1
        d.rectangle((x1, ty, x1 + tw + 4, ty + th + 4), fill=color)
        d.text((x1 + 2, ty + 2 - t), label, fill=(255, 255, 255), font=font)
    return im
