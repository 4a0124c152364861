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

A label problem names its first bad line and what is wrong with it, e.g. `labels/x.txt:3: class 95 out of
range 0..79 (nc=80)` (`Issue.where` + `detail`), and how many more lines of that file have the same problem.
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

CACHE_VERSION = 2  # 2: label issues carry their first line and the bad value
SKIPS_IMAGE = frozenset({"corrupt_image", "truncated_image"})


@dataclass(frozen=True)
class Issue:
    """One problem with one file: `kind` (see the module table), `file`, a short `detail`; `line` (1-based) is
    the first label line with that problem, 0 for a whole-file problem."""

    kind: str
    file: str
    detail: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


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

    def summary(self, max_rows: int = 20, issues: list[Issue] | None = None) -> str:
        """One line per issue (`kind  file[:line]: detail`), then the counts per kind. `issues`: only these (e.g.
        those not reported yet), with the same head line."""
        issues = self.issues if issues is None else issues
        n_inst = int(sum(len(lb) for lb in self.labels))
        head = f"scanned {self.n_scanned} images: {len(self.files)} kept, {n_inst} boxes"
        if not issues:
            return head + ", no problems"
        w0 = max(len(i.kind) for i in issues[:max_rows])
        lines = [head + f", {len(issues)} problem{'s' if len(issues) > 1 else ''}:"]
        for i in issues[:max_rows]:  # the whole path: it is what the user opens
            lines.append(f"  {i.kind:<{w0}}  {i.where}: {i.detail}")
        if len(issues) > max_rows:
            lines.append(f"  ... and {len(issues) - max_rows} more")
        counts: dict[str, int] = {}
        for i in issues:
            counts[i.kind] = counts.get(i.kind, 0) + 1
        lines.append("  totals: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
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
    bad: dict[str, list[tuple[int, str]]] = {}  # kind -> [(line, what is wrong)], in file order

    def flag(kind: str, ln: int, what: str) -> None:
        bad.setdefault(kind, []).append((ln, what))

    for ln, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 5 and not (len(parts) >= 7 and len(parts) % 2 == 1):
            n = len(parts)
            flag("bad_fields", ln, f"{n} field{'s' if n != 1 else ''}, expected 5 (class x y w h) or a polygon "
                                   "(an odd count >= 7)")
            continue
        try:
            vals = [float(v) for v in parts]
        except ValueError:
            tok = next(v for v in parts if not _is_float(v))
            flag("bad_value", ln, f"{_short(tok)!r} is not a number")
            continue
        if not all(np.isfinite(vals)):
            flag("bad_value", ln, f"{_short(next(p for p, v in zip(parts, vals) if not np.isfinite(v)))} is not finite")
            continue
        c = vals[0]
        if c != int(c) or not (0 <= c < nc):
            why = "is not an integer in" if c != int(c) else "out of range"
            flag("class_out_of_range", ln, f"class {_short(parts[0])} {why} 0..{nc - 1} (nc={nc})")
            continue
        if len(vals) == 5:
            x, y, w, h = vals[1:]
            if w <= 0 or h <= 0:
                flag("bad_value", ln, f"width and height must be > 0, got {_short(parts[3])} {_short(parts[4])}")
                continue
            x1, y1, x2, y2 = x - w / 2, y - h / 2, x + w / 2, y + h / 2
        else:  # a segment polygon x1 y1 x2 y2 ...: its bounding box
            xy = np.asarray(vals[1:]).reshape(-1, 2)
            x1, y1 = xy.min(0)
            x2, y2 = xy.max(0)
        if min(x1, y1) < -1e-6 or max(x2, y2) > 1 + 1e-6:
            flag("coords_clipped", ln, f"box {x1:.4g},{y1:.4g} .. {x2:.4g},{y2:.4g} reaches outside 0..1: clipped")
        x1, y1, x2, y2 = (min(max(v, 0.0), 1.0) for v in (x1, y1, x2, y2))
        if np.float32(x2 - x1) <= 0 or np.float32(y2 - y1) <= 0:  # labels are stored as float32: no size left
            flag("bad_value", ln, "the box has no size inside the image")
            continue
        rows.append([c, (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])
    issues = [Issue(k, file, v[0][1] + _more(v), v[0][0]) for k, v in bad.items()]
    arr = np.asarray(rows, dtype=np.float32).reshape(-1, 5)
    if len(arr):
        _, idx = np.unique(arr, axis=0, return_index=True)
        if len(idx) < len(arr):
            issues.append(Issue("duplicate_labels", file, f"{len(arr) - len(idx)} duplicate boxes removed"))
            arr = arr[np.sort(idx)]
    return arr, issues


def _is_float(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def _short(tok: str) -> str:
    return tok if len(tok) <= 20 else tok[:17] + "..."


def _more(found: list[tuple[int, str]]) -> str:
    """'' or ' (and 2 more lines: 5, 9)' for the lines after the first with the same problem."""
    rest = [ln for ln, _ in found[1:]]
    if not rest:
        return ""
    shown = ", ".join(map(str, rest[:8])) + (", ..." if len(rest) > 8 else "")
    return f" (and {len(rest)} more line{'s' if len(rest) > 1 else ''}: {shown})"


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
        "issues": [[i.kind, i.file, i.detail, i.line] for i in r.issues],
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
