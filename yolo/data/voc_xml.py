"""One Pascal VOC annotation file: parsed into frozen dataclasses, and its box convention (1-based inclusive pixel
coordinates -> YOLO's normalized centre and size)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class VocObject:
    name: str
    difficult: bool
    xmin: float
    ymin: float
    xmax: float
    ymax: float


@dataclass(frozen=True)
class VocAnnotation:
    width: int | None
    height: int | None
    objects: tuple[VocObject, ...]
    filename: str | None = None


def _num(el, tag: str, what: str):
    t = (el.findtext(tag) or "").strip()
    if not t:
        return None
    try:
        return float(t)
    except ValueError:
        raise ValueError(f"{what}: <{tag}> is not a number: {t[:20]!r}") from None


def parse_voc_xml(path: str | Path) -> VocAnnotation:
    """Read one annotation file. Raises ValueError on malformed XML or boxes."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        raise ValueError(f"unreadable XML: {e}") from None
    size = root.find("size")
    w = h = None
    if size is not None:
        try:
            w, h = _num(size, "width", "size"), _num(size, "height", "size")
        except ValueError:
            w = h = None  # the image's own size is used anyway
    objs = []
    for o in root.iter("object"):
        name = (o.findtext("name") or "").strip()
        bb = o.find("bndbox")
        if not name or bb is None:
            raise ValueError("an <object> without <name> or <bndbox>")
        vals = [_num(bb, k, f"object {name!r}") for k in ("xmin", "ymin", "xmax", "ymax")]
        if any(v is None for v in vals):
            raise ValueError(f"object {name!r}: incomplete <bndbox>")
        diff = (o.findtext("difficult") or "0").strip() in ("1", "true", "True")
        objs.append(VocObject(name, diff, *vals))
    return VocAnnotation(_size(w), _size(h), tuple(objs), (root.findtext("filename") or "").strip() or None)


def _size(v: float | None) -> int | None:
    return int(v) if v is not None and math.isfinite(v) and 0 < v < 1e6 else None


def voc_box_to_yolo(xmin: float, ymin: float, xmax: float, ymax: float, w: int, h: int):
    """One VOC box (1-based inclusive pixels) -> normalized (x_center, y_center, width, height)."""
    x = ((xmin + xmax) / 2 - 1) / w
    y = ((ymin + ymax) / 2 - 1) / h
    bw, bh = (xmax - xmin) / w, (ymax - ymin) / h
    x1, y1 = max(0.0, x - bw / 2), max(0.0, y - bh / 2)
    x2, y2 = min(1.0, x + bw / 2), min(1.0, y + bh / 2)
    return (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
