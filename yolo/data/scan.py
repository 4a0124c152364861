"""Scan a split once: check every image header and label file, report bad input, cache the result.

Bad input is never a crash. Each problem is recorded once per file (`Issue`), with what was done:

| kind               | action                                                        |
|--------------------|---------------------------------------------------------------|
| corrupt_image      | image skipped (unreadable, not an image, too small)           |
| truncated_image    | image skipped (JPEG that does not decode to its end)          |
| missing_label      | image kept as a background image (no label file)              |
| empty_label        | image kept as a background image (label file has no boxes)    |
| bad_fields         | line skipped (not 5 numbers, nor an odd count >= 7 = polygon) |
| bad_value          | line skipped (not a number, negative or zero width/height)    |
| class_out_of_range | line skipped (class id not an integer in [0, nc))             |
| coords_clipped     | box clipped to the image (coordinates outside [0, 1])         |
| duplicate_labels   | exact duplicate lines removed                                 |

Results may be cached as JSON (no pickle) keyed by file sizes and mtimes. Nothing imports torch.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from yolo.data.yaml import img2label_path

CACHE_VERSION = 1
SKIPS_IMAGE = frozenset({"corrupt_image", "truncated_image"})


@dataclass(frozen=True)
class Issue:
    """One problem with one file: `kind` (see the module table), `file`, a short `detail`."""

    kind: str
    file: str
    detail: str = ""


@dataclass
class ScanResult:
    """Kept images with their labels, shapes and the issues found.

    `labels[i]` is float32 (n, 5): class, x_center, y_center, w, h normalized to the image after
    EXIF orientation; `shapes[i]` is (width, height) in pixels after EXIF orientation.
    """

    files: list[str] = field(default_factory=list)
    labels: list[np.ndarray] = field(default_factory=list)
    shapes: list[tuple[int, int]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    n_scanned: int = 0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in self.issues:
            out[i.kind] = out.get(i.kind, 0) + 1
        return out

    def summary(self, max_rows: int = 20) -> str:
        """A plain-text table of the issues (kind, file, detail), then the counts per kind."""
        n_inst = int(sum(len(lb) for lb in self.labels))
        head = f"scanned {self.n_scanned} images: {len(self.files)} kept, {n_inst} boxes"
        if not self.issues:
            return head + ", no problems"
        rows = [("kind", "file", "detail")] + [(i.kind, i.file, i.detail) for i in self.issues[:max_rows]]
        w0 = max(len(r[0]) for r in rows)
        w1 = min(60, max(len(r[1]) for r in rows))
        lines = [head + f", {len(self.issues)} problems:"]
        for r in rows:
            f = r[1] if len(r[1]) <= w1 else "..." + r[1][-(w1 - 3):]
            lines.append(f"  {r[0]:<{w0}}  {f:<{w1}}  {r[2]}")
        if len(self.issues) > max_rows:
            lines.append(f"  ... and {len(self.issues) - max_rows} more")
        lines.append("  totals: " + ", ".join(f"{k}={v}" for k, v in sorted(self.counts().items())))
        return "\n".join(lines)


def exif_size(im: Image.Image) -> tuple[int, int]:
    """(width, height) after applying the EXIF orientation tag (5..8 swap the axes)."""
    w, h = im.size
    try:
        o = im.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block is not a broken image
        o = 1
    return (h, w) if o in (5, 6, 7, 8) else (w, h)


def _check_image(path: str) -> tuple[tuple[int, int] | None, Issue | None]:
    try:
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:
            size = exif_size(im)
            fmt = (im.format or "").upper()
    except Exception as e:  # noqa: BLE001 - Pillow raises many types on bad files
        return None, Issue("corrupt_image", path, f"{type(e).__name__}: {e}"[:120])
    if size[0] < 10 or size[1] < 10:
        return None, Issue("corrupt_image", path, f"image too small {size[0]}x{size[1]}")
    if fmt in ("JPEG", "MPO"):
        with open(path, "rb") as f:
            f.seek(-2, os.SEEK_END)
            eoi = f.read() == b"\xff\xd9"
        if not eoi:  # truncated, or trailing bytes after the end marker: only a full decode can tell
            try:
                with Image.open(path) as im:
                    im.load()
            except Exception as e:  # noqa: BLE001
                return None, Issue("truncated_image", path, f"JPEG does not decode fully ({e})"[:120])
    return size, None


def parse_label_text(text: str, nc: int, file: str) -> tuple[np.ndarray, list[Issue]]:
    """Parse one YOLO label file's text. Returns (n, 5) float32 and the issues (one per kind)."""
    rows: list[list[float]] = []
    bad: dict[str, list[int]] = {}
    for ln, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 5 and not (len(parts) >= 7 and len(parts) % 2 == 1):
            bad.setdefault("bad_fields", []).append(ln)
            continue
        try:
            vals = [float(v) for v in parts]
        except ValueError:
            bad.setdefault("bad_value", []).append(ln)
            continue
        if not all(np.isfinite(vals)):
            bad.setdefault("bad_value", []).append(ln)
            continue
        c = vals[0]
        if c != int(c) or not (0 <= c < nc):
            bad.setdefault("class_out_of_range", []).append(ln)
            continue
        if len(vals) == 5:
            x, y, w, h = vals[1:]
            if w <= 0 or h <= 0:
                bad.setdefault("bad_value", []).append(ln)
                continue
            x1, y1, x2, y2 = x - w / 2, y - h / 2, x + w / 2, y + h / 2
        else:  # a segment polygon x1 y1 x2 y2 ...: its bounding box
            xy = np.asarray(vals[1:]).reshape(-1, 2)
            x1, y1 = xy.min(0)
            x2, y2 = xy.max(0)
        if min(x1, y1) < -1e-6 or max(x2, y2) > 1 + 1e-6:
            bad.setdefault("coords_clipped", []).append(ln)
        x1, y1, x2, y2 = (min(max(v, 0.0), 1.0) for v in (x1, y1, x2, y2))
        if np.float32(x2 - x1) <= 0 or np.float32(y2 - y1) <= 0:  # labels are stored as float32: no size left
            bad.setdefault("bad_value", []).append(ln)
            continue
        rows.append([c, (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])
    issues = [Issue(k, file, "line" + ("s " if len(v) > 1 else " ") + ",".join(map(str, v[:8]))
                    + (" ..." if len(v) > 8 else "")) for k, v in bad.items()]
    arr = np.asarray(rows, dtype=np.float32).reshape(-1, 5)
    if len(arr):
        _, idx = np.unique(arr, axis=0, return_index=True)
        if len(idx) < len(arr):
            issues.append(Issue("duplicate_labels", file, f"{len(arr) - len(idx)} duplicate boxes removed"))
            arr = arr[np.sort(idx)]
    return arr, issues


def _scan_one(img: str, nc: int) -> tuple[tuple[int, int] | None, np.ndarray, list[Issue]]:
    size, issue = _check_image(img)
    if issue is not None:
        return None, np.zeros((0, 5), np.float32), [issue]
    lp = img2label_path(img)
    if not lp.is_file():
        return size, np.zeros((0, 5), np.float32), [Issue("missing_label", img, f"no {lp.name}; background image")]
    try:
        text = lp.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        return size, np.zeros((0, 5), np.float32), [Issue("missing_label", img, f"unreadable label: {e}")]
    arr, issues = parse_label_text(text, nc, str(lp))
    if not text.strip():
        issues.append(Issue("empty_label", str(lp), "no boxes; background image"))
    return size, arr, issues


def _fingerprint(files: list[str], nc: int) -> str:
    h = hashlib.sha256(f"v{CACHE_VERSION} nc={nc}".encode())
    for f in files:
        for p in (f, str(img2label_path(f))):
            try:
                st = os.stat(p)
                h.update(f"{p}|{st.st_size}|{st.st_mtime_ns}\n".encode())
            except OSError:
                h.update(f"{p}|-\n".encode())
    return h.hexdigest()


def scan(files: list[str | Path], nc: int, *, cache_dir: str | Path | None = None,
         workers: int = 4) -> ScanResult:
    """Check `files` (image paths) and read their labels. Cached under `cache_dir` if given.

    The cache is a JSON file named by a hash of all paths, sizes and mtimes, so any change to an
    image or label file invalidates it. Nothing is written beside the data (it may be read-only).
    """
    files = [str(f) for f in files]
    cache_file = None
    if cache_dir is not None:
        key = _fingerprint(files, nc)
        cache_file = Path(cache_dir) / f"scan-{key[:32]}.json"
        if cache_file.is_file():
            try:
                return _from_json(json.loads(cache_file.read_text()))
            except (OSError, ValueError, KeyError, TypeError):
                pass  # a damaged cache is rebuilt
    res = ScanResult(n_scanned=len(files))
    with ThreadPoolExecutor(max(1, workers)) as ex:
        for f, (size, arr, issues) in zip(files, ex.map(lambda f: _scan_one(f, nc), files)):
            res.issues += issues
            if size is None:
                continue
            res.files.append(f)
            res.labels.append(arr)
            res.shapes.append(size)
    if cache_file is not None:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(_to_json(res)))
            tmp.replace(cache_file)
        except OSError:
            pass  # caching is an optimisation only
    return res


def _to_json(r: ScanResult) -> dict:
    return {
        "version": CACHE_VERSION,
        "n_scanned": r.n_scanned,
        "files": r.files,
        "labels": [lb.tolist() for lb in r.labels],
        "shapes": [list(s) for s in r.shapes],
        "issues": [[i.kind, i.file, i.detail] for i in r.issues],
    }


def _from_json(d: dict) -> ScanResult:
    if d["version"] != CACHE_VERSION:
        raise ValueError("old cache")
    return ScanResult(
        files=[str(f) for f in d["files"]],
        labels=[np.asarray(lb, np.float32).reshape(-1, 5) for lb in d["labels"]],
        shapes=[(int(a), int(b)) for a, b in d["shapes"]],
        issues=[Issue(*i) for i in d["issues"]],
        n_scanned=int(d["n_scanned"]),
    )


def load_rgb(path: str, max_side: int | None = None, *, fast_downscale: bool = False) -> np.ndarray:
    """Decode an image to RGB uint8 (H, W, 3) with EXIF orientation applied.

    `max_side`: when given, the image is resized so that its longer side equals it (aspect kept,
    bilinear, antialiased when shrinking). `fast_downscale` lets the JPEG decoder shrink by 1/2..1/8
    first (draft mode), which is much faster and slightly less exact (training only).
    """
    with Image.open(path) as im:
        if fast_downscale and max_side and im.format == "JPEG":
            w, h = exif_size(im)
            r = max_side / max(w, h)
            if r < 0.5:
                raw = (round(im.size[0] * r), round(im.size[1] * r))
                im.draft("RGB", raw)
        im = ImageOps.exif_transpose(im)
        im = im.convert("RGB")
        if max_side:
            w, h = im.size
            r = max_side / max(w, h)
            if r != 1:
                im = im.resize((max(1, round(w * r)), max(1, round(h * r))), Image.BILINEAR)
        return np.asarray(im)
