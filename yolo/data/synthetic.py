"""A deterministic synthetic detection dataset: coloured shapes on textured backgrounds.

`make_synthetic(out_dir, task="shapes-a", seed=0)` writes the YOLO layout

    out_dir/images/{train,val}/000000.png
    out_dir/labels/{train,val}/000000.txt
    out_dir/data.yaml            (path: ., train: images/train, val: images/val, names)

The same (task, seed, sizes) always gives byte-identical files (PNG, lossless). Each class is one
shape with its own hue, so a small model learns it in a few epochs on a CPU. Two tasks with
disjoint class sets make a transfer-learning demo: train on "shapes-a", fine-tune on "shapes-b".
Used by the offline default of the demo and by tests. Nothing here imports torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from PIL import Image, ImageDraw


@dataclass(frozen=True)
class ShapeClass:
    """One class: a shape kind (see `_draw`) and a base colour (RGB, jittered per object)."""

    name: str
    shape: str
    color: tuple[int, int, int]


TASKS: dict[str, tuple[ShapeClass, ...]] = {
    "shapes-a": (
        ShapeClass("red_rectangle", "rect", (220, 40, 40)),
        ShapeClass("green_ellipse", "ellipse", (40, 200, 60)),
        ShapeClass("blue_triangle", "triangle", (40, 70, 230)),
    ),
    "shapes-b": (
        ShapeClass("yellow_diamond", "diamond", (235, 210, 30)),
        ShapeClass("magenta_cross", "cross", (210, 40, 200)),
        ShapeClass("cyan_ring", "ring", (30, 210, 220)),
        ShapeClass("orange_star", "star", (245, 140, 20)),
    ),
}


def _background(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    """Low-contrast texture: a colour gradient, blurred noise blobs and a few thin lines."""
    c0, c1 = rng.integers(60, 190, 3), rng.integers(60, 190, 3)
    t = np.linspace(0, 1, w if rng.random() < 0.5 else h, dtype=np.float32)
    grad = c0[None, :] * (1 - t[:, None]) + c1[None, :] * t[:, None]
    arr = np.broadcast_to(grad[None, :, :], (h, w, 3)) if len(t) == w else \
        np.broadcast_to(grad[:, None, :], (h, w, 3))
    coarse = rng.normal(0, 18, (max(2, h // 16), max(2, w // 16), 3)).astype(np.float32)
    coarse_img = np.kron(coarse, np.ones((16, 16, 1), np.float32))[:h, :w]
    pad_h, pad_w = h - coarse_img.shape[0], w - coarse_img.shape[1]
    if pad_h or pad_w:
        coarse_img = np.pad(coarse_img, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    fine = rng.normal(0, 6, (h, w, 3)).astype(np.float32)
    img = np.clip(arr + coarse_img + fine, 0, 255).astype(np.uint8)
    im = Image.fromarray(img)
    d = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(2, 6))):
        x0, y0, x1, y1 = (int(v) for v in rng.integers(0, max(w, h), 4))
        col = tuple(int(v) for v in rng.integers(50, 200, 3))
        d.line([(x0 % w, y0 % h), (x1 % w, y1 % h)], fill=col, width=int(rng.integers(1, 3)))
    return im


def _polygon(kind: str, cx: float, cy: float, rw: float, rh: float) -> list[tuple[float, float]]:
    if kind == "triangle":
        return [(cx, cy - rh), (cx + rw, cy + rh), (cx - rw, cy + rh)]
    if kind == "diamond":
        return [(cx, cy - rh), (cx + rw, cy), (cx, cy + rh), (cx - rw, cy)]
    if kind == "star":
        pts = []
        for k in range(10):
            a = -math.pi / 2 + k * math.pi / 5
            r = 1.0 if k % 2 == 0 else 0.45
            pts.append((cx + rw * r * math.cos(a), cy + rh * r * math.sin(a)))
        return pts
    raise ValueError(kind)


def _draw(d: ImageDraw.ImageDraw, kind: str, box: tuple[float, float, float, float], color) -> tuple:
    """Draw `kind` filling `box` (x1, y1, x2, y2); returns the tight box actually covered."""
    x1, y1, x2, y2 = box
    cx, cy, rw, rh = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2
    if kind == "rect":
        d.rectangle(box, fill=color)
    elif kind == "ellipse":
        d.ellipse(box, fill=color)
    elif kind == "ring":
        d.ellipse(box, outline=color, width=max(2, int(min(rw, rh) * 0.35)))
    elif kind == "cross":
        tw, th = rw * 0.35, rh * 0.35
        d.rectangle((cx - tw, y1, cx + tw, y2), fill=color)
        d.rectangle((x1, cy - th, x2, cy + th), fill=color)
    else:
        pts = _polygon(kind, cx, cy, rw, rh)
        d.polygon(pts, fill=color)
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return min(xs), min(ys), max(xs), max(ys)
    return box


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0


def render_sample(rng: np.random.Generator, classes: tuple[ShapeClass, ...], size_range=(160, 320),
                  max_objects: int = 4) -> tuple[Image.Image, list[tuple[int, float, float, float, float]]]:
    """One image and its labels (class, x, y, w, h normalized). Objects overlap little (IoU < 0.2)."""
    w = int(rng.integers(size_range[0] // 32, size_range[1] // 32 + 1)) * 32
    h = int(rng.integers(size_range[0] // 32, size_range[1] // 32 + 1)) * 32
    im = _background(rng, w, h)
    d = ImageDraw.Draw(im)
    boxes: list[tuple] = []
    labels = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        for _try in range(20):
            side = rng.uniform(0.15, 0.45) * min(w, h)
            bw, bh = side * rng.uniform(0.7, 1.3), side * rng.uniform(0.7, 1.3)
            x1, y1 = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
            box = (x1, y1, x1 + bw, y1 + bh)
            if all(_iou(box, b) < 0.2 for b in boxes):
                break
        else:
            continue
        c = int(rng.integers(0, len(classes)))
        base = np.array(classes[c].color)
        col = tuple(int(v) for v in np.clip(base + rng.integers(-25, 26, 3), 0, 255))
        tb = _draw(d, classes[c].shape, box, col)
        boxes.append(box)
        bx1, by1, bx2, by2 = (max(0.0, tb[0]), max(0.0, tb[1]), min(float(w), tb[2]), min(float(h), tb[3]))
        labels.append((c, (bx1 + bx2) / 2 / w, (by1 + by2) / 2 / h, (bx2 - bx1) / w, (by2 - by1) / h))
    return im, labels


def make_synthetic(out_dir: str | Path, *, task: str = "shapes-a", n_train: int = 64, n_val: int = 16,
                   size_range: tuple[int, int] = (160, 320), seed: int = 0) -> Path:
    """Write the dataset and return the path of its data YAML. Deterministic in all arguments.

    Train and val images come from independent streams of the same seed, so changing `n_val`
    does not change the training images.
    """
    if task not in TASKS:
        raise ValueError(f"unknown synthetic task {task!r}; known: {', '.join(TASKS)}")
    classes = TASKS[task]
    out = Path(out_dir)
    task_id = list(TASKS).index(task)
    for split_id, (split, n) in enumerate((("train", n_train), ("val", n_val))):
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        for k in range(n):
            rng = np.random.default_rng((seed, task_id, split_id, k))
            im, labels = render_sample(rng, classes, size_range)
            im.save(out / "images" / split / f"{k:06d}.png", optimize=False)
            lines = "".join(f"{c} {x:.6f} {y:.6f} {bw:.6f} {bh:.6f}\n" for c, x, y, bw, bh in labels)
            (out / "labels" / split / f"{k:06d}.txt").write_text(lines)
    doc = {"path": ".", "train": "images/train", "val": "images/val", "nc": len(classes),
           "names": [c.name for c in classes]}
    yml = out / "data.yaml"
    yml.write_text(f"# synthetic dataset task={task} seed={seed} (recipec yolo.data.synthetic)\n"
                   + yaml.safe_dump(doc, sort_keys=False))
    return yml
