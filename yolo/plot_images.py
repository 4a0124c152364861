"""Image plots of a run folder, as YOLOv5 writes them: `val_batch0_labels.jpg` / `val_batch0_pred.jpg` (the
first validation batch tiled into one JPEG with its labels or its detections) and `labels.jpg` (the dataset's
class counts and box centres and sizes)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

MAX_TILES = 16      # images per mosaic
MAX_SIZE = 1920     # the mosaic's longest side in pixels
PRED_CONF = 0.25    # detections drawn on val_batch*_pred.jpg


def plot_batch(path: str | Path, imgs, boxes: list[np.ndarray], names: list[str] | None) -> Path:
    """Tile up to 16 images (float (B, 3, H, W) in [0, 1]) with their boxes: per image an (n, 5) array
    class, x1, y1, x2, y2 (labels) or (n, 6) with a confidence last (detections), in network pixels."""
    from PIL import Image, ImageDraw, ImageFont

    from yolo.predict import PALETTE

    imgs = imgs[:MAX_TILES]
    b, _, h, w = imgs.shape
    ns = math.ceil(b ** 0.5)
    scale = min(1.0, MAX_SIZE / (ns * max(h, w)))
    th, tw = math.ceil(h * scale), math.ceil(w * scale)
    canvas = Image.new("RGB", (ns * tw, ns * th), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    try:
        font = ImageFont.load_default(size=max(10, th // 30))
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    arr = (imgs.detach().float().cpu().clamp(0, 1).numpy() * 255).astype(np.uint8).transpose(0, 2, 3, 1)
    for i in range(b):
        x0, y0 = (i % ns) * tw, (i // ns) * th
        canvas.paste(Image.fromarray(arr[i]).resize((tw, th)), (x0, y0))
        draw.rectangle((x0, y0, x0 + tw - 1, y0 + th - 1), outline=(255, 255, 255), width=2)
        for row in (boxes[i] if i < len(boxes) else ()):
            c = int(row[0])
            conf = float(row[5]) if len(row) > 5 else None
            if conf is not None and conf < PRED_CONF:
                continue
            x1, y1, x2, y2 = (float(v) * scale for v in row[1:5])
            color = PALETTE[c % len(PALETTE)]
            draw.rectangle((x0 + x1, y0 + y1, x0 + x2, y0 + y2), outline=color, width=max(1, th // 200 + 1))
            label = names[c] if names and c < len(names) else str(c)
            draw.text((x0 + x1 + 2, y0 + y1 + 1), label if conf is None else f"{label} {conf:.1f}", fill=color,
                      font=font)
    path = Path(path)
    canvas.save(path, quality=85)
    return path


def plot_labels(path: str | Path, labels: list[np.ndarray], names: list[str] | None) -> Path:
    """`labels.jpg`: instances per class (bar chart), then 2-D histograms of the box centres (x, y) and sizes
    (width, height), all normalized to the image. `labels`: per image an (n, 5) array class, x, y, w, h."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lab = np.concatenate([np.asarray(x, np.float64).reshape(-1, 5) for x in labels], 0) if labels else \
        np.zeros((0, 5))
    nc = len(names) if names else (int(lab[:, 0].max()) + 1 if len(lab) else 1)
    counts = np.bincount(lab[:, 0].astype(int), minlength=nc)[:max(nc, 1)] if len(lab) else np.zeros(nc, int)
    fig, ax = plt.subplots(1, 3, figsize=(12, 4), tight_layout=True)
    ax[0].bar(range(len(counts)), counts, color=[np.array(_rgb(c)) / 255 for c in range(len(counts))])
    ax[0].set(ylabel="instances", title=f"{len(lab)} labels, {int((counts > 0).sum())} of {nc} classes")
    if names and len(names) <= 30:
        ax[0].set_xticks(range(len(names)), names, rotation=90, fontsize=8)
    else:
        ax[0].set_xlabel("class")
    for a, (i, j), (xl, yl) in ((ax[1], (1, 2), ("x", "y")), (ax[2], (3, 4), ("width", "height"))):
        a.hist2d(lab[:, i], lab[:, j], bins=50, range=((0, 1), (0, 1)), cmap="Blues")
        a.set(xlabel=xl, ylabel=yl, xlim=(0, 1), ylim=(0, 1))
    ax[1].invert_yaxis()  # image coordinates: y grows downwards
    path = Path(path)
    fig.savefig(path, dpi=100, pil_kwargs={"quality": 85})
    plt.close(fig)
    return path


def _rgb(c: int) -> tuple[int, int, int]:
    from yolo.predict import PALETTE

    return PALETTE[c % len(PALETTE)]
