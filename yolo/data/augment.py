"""Image geometry and augmentation, numpy + Pillow only (no OpenCV, no torch).

Conventions: images are RGB uint8 (H, W, 3) numpy arrays; boxes are float (n, 4) pixel xyxy;
label arrays are (n, 5) = class, x1, y1, x2, y2 in pixels unless a function says otherwise. All
randomness comes from an explicit `numpy.random.Generator`, so a (seed, epoch, index) triple gives
the same sample in any DataLoader worker.

The behaviour follows the published description of YOLOv5's training augmentation: mosaic of
four images on a 2s x 2s canvas cropped back to s x s by a random affine (translate, scale), HSV
gains, left-right flip; grey (114) padding everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
from PIL import Image

PAD_VALUE = 114


@dataclass(frozen=True)
class AugmentHyp:
    """Augmentation hyperparameters; defaults are the values of YOLOv5's hyp.scratch-low."""

    hsv_h: float = 0.015  # hue gain, fraction of the full hue circle
    hsv_s: float = 0.7  # saturation gain (+/- fraction)
    hsv_v: float = 0.4  # value gain (+/- fraction)
    degrees: float = 0.0  # rotation, +/- degrees
    translate: float = 0.1  # translation, +/- fraction of the image size
    scale: float = 0.5  # scale gain, image scaled by U(1 - scale, 1 + scale)
    shear: float = 0.0  # shear, +/- degrees
    perspective: float = 0.0  # not supported (must be 0): affine only
    flipud: float = 0.0  # probability of an up-down flip
    fliplr: float = 0.5  # probability of a left-right flip
    mosaic: float = 1.0  # probability of a 4-image mosaic
    mixup: float = 0.0  # not supported (must be 0)

    @classmethod
    def from_dict(cls, d: dict) -> "AugmentHyp":
        """Take the augmentation keys of a hyp dict/YAML (other keys, e.g. lr0, are ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in d.items() if k in names})


def letterbox(img: np.ndarray, new_shape: int | tuple[int, int] = 640, *, auto: bool = False,
              scaleup: bool = True, stride: int = 32, color: int = PAD_VALUE):
    """Resize keeping the aspect ratio, then pad to `new_shape` = (h, w) (or a square side).

    `auto=True` pads only up to the next multiple of `stride` (minimum rectangle). `scaleup=False`
    only shrinks (val). Returns (img, ratio (rw, rh), (pad_w, pad_h)) where the pads are the
    left/top padding in pixels as floats (half of the total).
    """
    h0, w0 = img.shape[:2]
    if isinstance(new_shape, int):
        new_shape = (new_shape, new_shape)
    r = min(new_shape[0] / h0, new_shape[1] / w0)
    if not scaleup:
        r = min(r, 1.0)
    nw, nh = int(round(w0 * r)), int(round(h0 * r))
    dw, dh = new_shape[1] - nw, new_shape[0] - nh
    if auto:
        dw, dh = dw % stride, dh % stride
    dw, dh = dw / 2, dh / 2
    if (nw, nh) != (w0, h0):
        img = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR))
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    out = np.full((nh + top + bottom, nw + left + right, 3), color, dtype=np.uint8)
    out[top:top + nh, left:left + nw] = img
    return out, (nw / w0, nh / h0), (dw, dh)


def xywhn2xyxy(x: np.ndarray, w: float, h: float, padw: float = 0.0, padh: float = 0.0) -> np.ndarray:
    """Normalized center xywh (n, 4) -> pixel xyxy, with an optional offset."""
    y = np.empty_like(x, dtype=np.float32)
    y[:, 0] = w * (x[:, 0] - x[:, 2] / 2) + padw
    y[:, 1] = h * (x[:, 1] - x[:, 3] / 2) + padh
    y[:, 2] = w * (x[:, 0] + x[:, 2] / 2) + padw
    y[:, 3] = h * (x[:, 1] + x[:, 3] / 2) + padh
    return y


def xyxy2xywhn(x: np.ndarray, w: float, h: float, clip: bool = True) -> np.ndarray:
    """Pixel xyxy (n, 4) -> normalized center xywh; clips to the image first when `clip`."""
    x = x.astype(np.float32, copy=True)
    if clip:
        x[:, [0, 2]] = x[:, [0, 2]].clip(0, w)
        x[:, [1, 3]] = x[:, [1, 3]].clip(0, h)
    y = np.empty_like(x)
    y[:, 0] = (x[:, 0] + x[:, 2]) / 2 / w
    y[:, 1] = (x[:, 1] + x[:, 3]) / 2 / h
    y[:, 2] = (x[:, 2] - x[:, 0]) / w
    y[:, 3] = (x[:, 3] - x[:, 1]) / h
    return y


def augment_hsv(img: np.ndarray, rng: np.random.Generator, hgain=0.5, sgain=0.5, vgain=0.5) -> np.ndarray:
    """Random hue shift and saturation/value gains through lookup tables in Pillow's HSV space.

    Hue is rotated by U(-hgain, hgain) of the full circle; S and V are multiplied by
    1 + U(-gain, gain) and clipped. Returns a new array.
    """
    if not (hgain or sgain or vgain):
        return img
    r = rng.uniform(-1, 1, 3) * np.array([hgain, sgain, vgain]) + 1
    hsv = np.asarray(Image.fromarray(img).convert("HSV"))
    x = np.arange(256, dtype=np.float32)
    lut_h = ((x * r[0]) % 256).astype(np.uint8)
    lut_s = np.clip(x * r[1], 0, 255).astype(np.uint8)
    lut_v = np.clip(x * r[2], 0, 255).astype(np.uint8)
    out = np.stack([lut_h[hsv[..., 0]], lut_s[hsv[..., 1]], lut_v[hsv[..., 2]]], axis=-1)
    return np.asarray(Image.fromarray(out, "HSV").convert("RGB"))


def box_candidates(b1: np.ndarray, b2: np.ndarray, wh_thr=2.0, ar_thr=20.0, area_thr=0.1, eps=1e-16):
    """Boxes to keep after a warp: b1 before, b2 after, both (4, n) xyxy pixels.

    Kept when wider and taller than `wh_thr` px, keeping > `area_thr` of their (scaled) area and
    with an aspect ratio below `ar_thr`.
    """
    w1, h1 = b1[2] - b1[0], b1[3] - b1[1]
    w2, h2 = b2[2] - b2[0], b2[3] - b2[1]
    ar = np.maximum(w2 / (h2 + eps), h2 / (w2 + eps))
    return (w2 > wh_thr) & (h2 > wh_thr) & (w2 * h2 / (w1 * h1 + eps) > area_thr) & (ar < ar_thr)


def random_affine(img: np.ndarray, labels: np.ndarray, rng: np.random.Generator, *, degrees=0.0,
                  translate=0.1, scale=0.5, shear=0.0, border: tuple[int, int] = (0, 0)):
    """Random rotation/scale/shear/translation around the image centre; labels (n, 5) pixel xyxy.

    `border` = (top/bottom, left/right) margins: negative values crop (used after a mosaic, whose
    2s canvas becomes an s x s output). Returns (img, labels) with the surviving, clipped boxes.
    """
    height = img.shape[0] + border[0] * 2
    width = img.shape[1] + border[1] * 2
    C = np.eye(3)
    C[0, 2], C[1, 2] = -img.shape[1] / 2, -img.shape[0] / 2
    a = rng.uniform(-degrees, degrees)
    s = rng.uniform(1 - scale, 1 + scale)
    R = np.eye(3)
    ca, sa = math.cos(math.radians(a)) * s, math.sin(math.radians(a)) * s
    R[:2, :2] = [[ca, sa], [-sa, ca]]
    S = np.eye(3)
    S[0, 1] = math.tan(math.radians(rng.uniform(-shear, shear)))
    S[1, 0] = math.tan(math.radians(rng.uniform(-shear, shear)))
    T = np.eye(3)
    T[0, 2] = rng.uniform(0.5 - translate, 0.5 + translate) * width
    T[1, 2] = rng.uniform(0.5 - translate, 0.5 + translate) * height
    M = T @ S @ R @ C
    if border != (0, 0) or not np.allclose(M, np.eye(3)):
        inv = np.linalg.inv(M)  # Pillow maps output pixels back to input pixels
        pil = Image.fromarray(img).transform(
            (width, height), Image.AFFINE, data=tuple(inv[:2].reshape(-1)), resample=Image.BILINEAR,
            fillcolor=(PAD_VALUE,) * 3)
        img = np.asarray(pil)
    n = len(labels)
    if n:
        xy = np.ones((n * 4, 3))
        xy[:, :2] = labels[:, [1, 2, 3, 4, 1, 4, 3, 2]].reshape(n * 4, 2)  # the four corners
        xy = (xy @ M.T)[:, :2].reshape(n, 8)
        x, y = xy[:, [0, 2, 4, 6]], xy[:, [1, 3, 5, 7]]
        new = np.stack([x.min(1), y.min(1), x.max(1), y.max(1)], axis=1)
        new[:, [0, 2]] = new[:, [0, 2]].clip(0, width)
        new[:, [1, 3]] = new[:, [1, 3]].clip(0, height)
        keep = box_candidates(labels[:, 1:5].T * s, new.T)
        labels = np.concatenate([labels[keep, :1], new[keep]], axis=1).astype(np.float32)
    return img, labels


def mosaic4(imgs: list[np.ndarray], labels: list[np.ndarray], s: int, rng: np.random.Generator):
    """Place four images around a random centre of a (2s, 2s) grey canvas.

    `labels[k]` are (n, 5) class + normalized xywh of `imgs[k]`. Returns (canvas, labels (n, 5)
    pixel xyxy on the canvas, clipped to it). Follow with `random_affine(..., border=(-s//2, -s//2))`.
    """
    yc, xc = (int(rng.uniform(s // 2, 2 * s - s // 2)) for _ in range(2))
    canvas = np.full((2 * s, 2 * s, 3), PAD_VALUE, dtype=np.uint8)
    out = []
    for k, (img, lb) in enumerate(zip(imgs, labels)):
        h, w = img.shape[:2]
        if k == 0:  # top left: the image's bottom-right corner at the centre
            x1a, y1a, x2a, y2a = max(xc - w, 0), max(yc - h, 0), xc, yc
            x1b, y1b, x2b, y2b = w - (x2a - x1a), h - (y2a - y1a), w, h
        elif k == 1:  # top right
            x1a, y1a, x2a, y2a = xc, max(yc - h, 0), min(xc + w, 2 * s), yc
            x1b, y1b, x2b, y2b = 0, h - (y2a - y1a), min(w, x2a - x1a), h
        elif k == 2:  # bottom left
            x1a, y1a, x2a, y2a = max(xc - w, 0), yc, xc, min(2 * s, yc + h)
            x1b, y1b, x2b, y2b = w - (x2a - x1a), 0, w, min(y2a - y1a, h)
        else:  # bottom right
            x1a, y1a, x2a, y2a = xc, yc, min(xc + w, 2 * s), min(2 * s, yc + h)
            x1b, y1b, x2b, y2b = 0, 0, min(w, x2a - x1a), min(y2a - y1a, h)
        canvas[y1a:y2a, x1a:x2a] = img[y1b:y2b, x1b:x2b]
        if len(lb):
            out.append(np.concatenate([lb[:, :1], xywhn2xyxy(lb[:, 1:5], w, h, x1a - x1b, y1a - y1b)], 1))
    lab = np.concatenate(out, 0).astype(np.float32) if out else np.zeros((0, 5), np.float32)
    lab[:, 1:] = lab[:, 1:].clip(0, 2 * s)
    return canvas, lab


def flip_lr(img: np.ndarray, labels_xywhn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror left-right; labels (n, 5) class + normalized xywh are mirrored too (x -> 1 - x)."""
    labels_xywhn = labels_xywhn.copy()
    labels_xywhn[:, 1] = 1 - labels_xywhn[:, 1]
    return np.ascontiguousarray(img[:, ::-1]), labels_xywhn


def flip_ud(img: np.ndarray, labels_xywhn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror up-down; y -> 1 - y."""
    labels_xywhn = labels_xywhn.copy()
    labels_xywhn[:, 2] = 1 - labels_xywhn[:, 2]
    return np.ascontiguousarray(img[::-1]), labels_xywhn
