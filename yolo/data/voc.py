"""Pascal VOC XML -> YOLO labels, image lists and a data YAML.

Layout written under `out`:

    out/images/<set><year>/<id>.jpg     (a copy of VOC<year>/JPEGImages/<id>.jpg, or a hard/sym link)
    out/labels/<set><year>/<id>.txt     (class x_center y_center width height, normalized)
    out/<set><year>.txt                 (one `./images/<set><year>/<id>.jpg` per line)
    out/train.txt, out/val.txt          (the lists the data YAML points at)
    out/data.yaml                       (path: ., train: train.txt, val: val.txt, names)

Box convention (VOC pixel coordinates are 1-based and inclusive; YOLO's are 0-based, continuous):
    x_center = ((xmin + xmax) / 2 - 1) / width,   y_center = ((ymin + ymax) / 2 - 1) / height
    w = (xmax - xmin) / width,                    h = (ymax - ymin) / height
then clipped to [0, 1]. `width`/`height` are the image's own pixel size (the XML `<size>` is
checked against it; a mismatch is reported and the image's size wins). Objects marked
`<difficult>1` are skipped unless `keep_difficult`.

Splits: VOC2007+2012 `train`+`val` train, VOC2007 `test` validates (the usual protocol). In general:
when some `test` set is converted, train = every other set and val = the test sets; otherwise
train = `train`/`trainval` sets and val = `val` sets (or the train sets when there is none).

Classes: `names` if given (objects of other classes are reported and skipped); else the 20 VOC
classes when every name in the XMLs is one of them; else the sorted set of names found.
"""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from PIL import Image

VOC_NAMES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
             "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
             "tvmonitor")
DEFAULT_SETS = ("train", "val", "test")


class VocError(Exception):
    """The devkit cannot be converted; the message is meant for the user."""


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


@dataclass
class VocResult:
    """What `convert_voc` did: the YAML, names, per split image counts, and problems (file, text)."""

    yaml_path: Path
    names: list[str]
    splits: dict[str, int] = field(default_factory=dict)
    boxes: int = 0
    difficult_skipped: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)
    names_source: str = ""

    def report_lines(self) -> list[str]:
        out = [f"classes ({self.names_source}): {', '.join(self.names)}"]
        out += [f"{k}: {v} images" for k, v in self.splits.items()]
        out.append(f"{self.boxes} boxes written, {self.difficult_skipped} difficult objects skipped")
        for f, msg in self.problems[:30]:
            out.append(f"warning: {f}: {msg}")
        if len(self.problems) > 30:
            out.append(f"warning: ... and {len(self.problems) - 30} more problems")
        return out


def _num(el, tag: str):
    t = el.findtext(tag)
    return float(t) if t is not None and t.strip() else None


def parse_voc_xml(path: str | Path) -> VocAnnotation:
    """Read one annotation file. Raises ValueError on malformed XML or boxes."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        raise ValueError(f"unreadable XML: {e}") from None
    size = root.find("size")
    w = h = None
    if size is not None:
        w, h = _num(size, "width"), _num(size, "height")
    objs = []
    for o in root.iter("object"):
        name = (o.findtext("name") or "").strip()
        bb = o.find("bndbox")
        if not name or bb is None:
            raise ValueError("an <object> without <name> or <bndbox>")
        vals = [_num(bb, k) for k in ("xmin", "ymin", "xmax", "ymax")]
        if any(v is None for v in vals):
            raise ValueError(f"object {name!r}: incomplete <bndbox>")
        diff = (o.findtext("difficult") or "0").strip() in ("1", "true", "True")
        objs.append(VocObject(name, diff, *vals))
    return VocAnnotation(int(w) if w else None, int(h) if h else None, tuple(objs))


def voc_box_to_yolo(xmin: float, ymin: float, xmax: float, ymax: float, w: int, h: int):
    """One VOC box (1-based inclusive pixels) -> normalized (x_center, y_center, width, height)."""
    x = ((xmin + xmax) / 2 - 1) / w
    y = ((ymin + ymax) / 2 - 1) / h
    bw, bh = (xmax - xmin) / w, (ymax - ymin) / h
    x1, y1 = max(0.0, x - bw / 2), max(0.0, y - bh / 2)
    x2, y2 = min(1.0, x + bw / 2), min(1.0, y + bh / 2)
    return (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1


def _place(src: Path, dst: Path, link: str) -> None:
    if dst.exists() or dst.is_symlink():
        dst.unlink()
    if link in ("auto", "hardlink"):
        try:
            os.link(src, dst)
            return
        except OSError:
            if link == "hardlink":
                raise
    if link == "symlink":
        dst.symlink_to(src.resolve())
        return
    shutil.copy2(src, dst)


def _find_jobs(devkit: Path, years, sets):
    if not devkit.is_dir():
        raise VocError(f"VOCdevkit folder not found: {devkit}")
    found = sorted(p.name[3:] for p in devkit.iterdir() if p.is_dir() and p.name.startswith("VOC"))
    years = list(years) if years else found
    if not years:
        raise VocError(f"no VOC<year> folders in {devkit}")
    jobs = []
    for y in years:
        d = devkit / f"VOC{y}"
        main = d / "ImageSets" / "Main"
        if not main.is_dir():
            raise VocError(f"{main} not found (is {devkit} a VOCdevkit folder? years found: {', '.join(found) or 'none'})")
        have = {p.stem for p in main.glob("*.txt") if "_" not in p.stem}
        if sets:
            missing = [s for s in sets if s not in have]
            if missing:
                raise VocError(f"VOC{y}: no ImageSets/Main/{missing[0]}.txt (have: {', '.join(sorted(have))})")
            chosen = list(sets)
        else:
            chosen = [s for s in DEFAULT_SETS if s in have]
            if "train" not in chosen and "trainval" in have:
                chosen = ["trainval"] + [s for s in chosen if s != "val"]
        if not chosen:
            raise VocError(f"VOC{y}: no image sets to convert in {main}")
        jobs += [(y, d, s) for s in chosen]
    return jobs


def convert_voc(devkit: str | Path, out: str | Path, *, years=None, sets=None, names=None, link: str = "copy",
                keep_difficult: bool = False) -> VocResult:
    """Convert; see the module docstring. Raises VocError on an unusable devkit, never on one bad file."""
    devkit, out = Path(devkit), Path(out)
    jobs = _find_jobs(devkit, years, sets)
    problems: list[tuple[str, str]] = []
    items = []  # (year, set, id, xml path, annotation or None)
    for y, d, s in jobs:
        ids = [ln.split()[0] for ln in (d / "ImageSets" / "Main" / f"{s}.txt").read_text().splitlines() if ln.strip()]
        for i in ids:
            xp = d / "Annotations" / f"{i}.xml"
            try:
                ann = parse_voc_xml(xp)
            except ValueError as e:
                problems.append((str(xp), str(e)))
                ann = None
            items.append((y, s, i, d, ann))
    seen_names = sorted({o.name for *_, ann in items if ann for o in ann.objects})
    if names:
        names_list, src = list(names), "--names"
    elif set(seen_names) <= set(VOC_NAMES):
        names_list, src = list(VOC_NAMES), "the 20 VOC classes"
    else:
        names_list, src = seen_names, "found in the XMLs (not the VOC classes), sorted"
    index = {n: k for k, n in enumerate(names_list)}
    res = VocResult(yaml_path=out / "data.yaml", names=names_list, names_source=src)
    unknown: dict[str, int] = {}
    lists: dict[str, list[str]] = {}
    out.mkdir(parents=True, exist_ok=True)
    for y, s, i, d, ann in items:
        key = f"{s}{y}"
        src_img = d / "JPEGImages" / f"{i}.jpg"
        if not src_img.is_file():
            problems.append((str(src_img), "image missing; skipped"))
            continue
        if ann is None:
            continue  # reported above
        try:
            with Image.open(src_img) as im:
                iw, ih = im.size
        except Exception as e:  # noqa: BLE001 - Pillow raises many types on bad files
            problems.append((str(src_img), f"unreadable image ({type(e).__name__}); skipped"))
            continue
        if ann.width and ann.height and (ann.width, ann.height) != (iw, ih):
            problems.append((f"{i}.xml", f"<size> {ann.width}x{ann.height} but the image is {iw}x{ih}; using the image"))
        lines = []
        for o in ann.objects:
            if o.difficult and not keep_difficult:
                res.difficult_skipped += 1
                continue
            if o.name not in index:
                unknown[o.name] = unknown.get(o.name, 0) + 1
                continue
            x, yc, bw, bh = voc_box_to_yolo(o.xmin, o.ymin, o.xmax, o.ymax, iw, ih)
            if bw <= 0 or bh <= 0:
                problems.append((f"{i}.xml", f"empty box for {o.name!r}; skipped"))
                continue
            lines.append(f"{index[o.name]} {x:.6f} {yc:.6f} {bw:.6f} {bh:.6f}\n")
        (out / "images" / key).mkdir(parents=True, exist_ok=True)
        (out / "labels" / key).mkdir(parents=True, exist_ok=True)
        _place(src_img, out / "images" / key / f"{i}.jpg", link)
        (out / "labels" / key / f"{i}.txt").write_text("".join(lines))
        res.boxes += len(lines)
        lists.setdefault(key, []).append(f"./images/{key}/{i}.jpg")
    for n, c in sorted(unknown.items()):
        problems.append(("(annotations)", f"{c} objects of class {n!r} not in the class list; skipped"))
    if not lists:
        raise VocError("nothing converted:\n" + "\n".join(f"  {f}: {m}" for f, m in problems[:20]))
    for key, lst in lists.items():
        (out / f"{key}.txt").write_text("\n".join(lst) + "\n")
        res.splits[key] = len(lst)
    test_keys = [k for k in lists if k.startswith("test")]
    if test_keys:
        train_keys, val_keys = [k for k in lists if k not in test_keys], test_keys
    else:
        train_keys = [k for k in lists if k.startswith(("train", "trainval"))]
        val_keys = [k for k in lists if k.startswith("val")] or train_keys
    if not train_keys:
        train_keys = val_keys
    for split, keys in (("train", train_keys), ("val", val_keys)):
        (out / f"{split}.txt").write_text("".join((out / f"{k}.txt").read_text() for k in keys))
    doc = {"path": ".", "train": "train.txt", "val": "val.txt", "nc": len(names_list),
           "names": {k: n for k, n in enumerate(names_list)}}
    res.yaml_path.write_text(
        f"# written by `recipec data voc` from {devkit.resolve()}\n"
        f"# train: {' + '.join(train_keys)}; val: {' + '.join(val_keys)}\n" + yaml.safe_dump(doc, sort_keys=False))
    res.problems = problems
    return res
