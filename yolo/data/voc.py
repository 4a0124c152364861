"""Pascal VOC XML -> YOLO labels, image lists and a data YAML.

The source layouts accepted (a VOCdevkit, one dataset folder, a flat folder of XMLs and images, train/ valid/
test/ folders) are described in `yolo.data.voc_layout`. Each dataset folder has a tag: the year of `VOC<year>`,
else `_<folder name>`; a "key" is a set name plus the tag (`train2007`, `test_BCCD`, `val_mydata`).

Layout written under `out` (all at once: see `yolo.data.voc_write`):

    out/images/<key>/<id>.<ext>     (a copy of the image, or a hard/sym link; never re-encoded)
    out/labels/<key>/<id>.txt       (class x_center y_center width height, normalized)
    out/<key>.txt                   (one `./images/<key>/<id>.<ext>` per line)
    out/train.txt, out/val.txt      (the lists the data YAML points at)
    out/data.yaml                   (path: ., train: train.txt, val: val.txt, names)

The image of `<id>.xml` is the file its `<filename>` names, else that name's stem or `<id>` with any image
extension, in the folder's image dirs. Box convention (VOC pixel coordinates are 1-based and inclusive; YOLO's are 0-based):
    x_center = ((xmin + xmax) / 2 - 1) / width,   y_center = ((ymin + ymax) / 2 - 1) / height
    w = (xmax - xmin) / width,                    h = (ymax - ymin) / height
then clipped to [0, 1]. `width`/`height` are the image's own pixel size (the XML `<size>` is
checked against it; a mismatch is reported and the image's size wins). Objects marked
`<difficult>1` are skipped unless `keep_difficult`. A box reaching more than a pixel past the image is clipped
and reported; a box without area (or wholly outside the image) is skipped and reported.

Splits: a folder with `ImageSets/Main` lists converts its `train`, `val`, `test` lists (`trainval` when there is no
`train`), or `sets`; with none of these (CVAT's `default.txt`) it is split like a folder without lists. Over all
such sets: when some `test` set is converted, train = every other set and val = the test sets (VOC2007+2012
`train`+`val` train, VOC2007 `test` validates: the usual protocol); otherwise val = the `val` sets and train = the
others (`train`/`trainval`, or any set named by `sets`); a split with no set takes the other split's sets.
A folder without lists is split by `val_fraction`: its converted ids, sorted, shuffled by `random.Random(seed)`,
the first round(n * val_fraction) (at least 1, at most n - 1) to val.

Classes: `names` if given (objects of other classes are reported and skipped; an error when no object is
left); else the 20 VOC classes when every name in the XMLs is one of them; else the sorted set of names found.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from PIL import Image

from yolo.data.voc_layout import (IMAGE_EXTS, ImageFinder, VocError, VocFolder, find_voc_folders,
                                  looks_like_voc)
from yolo.data.voc_write import LINKS, MARKER, check_out, place, staged
from yolo.data.voc_xml import VocAnnotation, VocObject, parse_voc_xml, voc_box_to_yolo

__all__ = ["VOC_NAMES", "VocAnnotation", "VocError", "VocObject", "VocResult", "convert_voc", "looks_like_voc",
           "parse_voc_xml", "voc_box_to_yolo"]

VOC_NAMES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
             "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
             "tvmonitor")
DEFAULT_SETS = ("train", "val", "test")

# warning kinds, in report order
MISSING_IMAGE = "image missing (XML skipped)"
BAD_XML = "unreadable XML (skipped)"
BAD_IMAGE = "unreadable image (skipped)"
BAD_ID = "list entry that is not a file name (skipped)"
OUTSIDE = "box outside the image (clipped)"
DEGENERATE = "degenerate box (skipped)"
SIZE = "XML <size> differs from the image (the image's size used)"
UNKNOWN_CLASS = "class not in the class list (objects skipped)"
KINDS = (MISSING_IMAGE, BAD_XML, BAD_IMAGE, BAD_ID, OUTSIDE, DEGENERATE, SIZE, UNKNOWN_CLASS)
SHOWN = 5  # files named per warning kind in the report


@dataclass
class VocResult:
    """What `convert_voc` did: the YAML, names, images and boxes per split (`train`, `val`) and per set key,
    and the warnings by kind (each a list of (file, message))."""

    yaml_path: Path
    names: list[str]
    splits: dict[str, int] = field(default_factory=dict)
    split_boxes: dict[str, int] = field(default_factory=dict)
    split_keys: dict[str, list[str]] = field(default_factory=dict)
    sets: dict[str, int] = field(default_factory=dict)
    boxes: int = 0
    difficult_skipped: int = 0
    warnings: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    names_source: str = ""

    @property
    def problems(self) -> list[tuple[str, str]]:
        """Every warning as (file, message)."""
        return [p for ps in self.warnings.values() for p in ps]

    def warn(self, kind: str, file: str, message: str) -> None:
        self.warnings.setdefault(kind, []).append((file, message))

    def report_lines(self) -> list[str]:
        out = [f"classes ({self.names_source}): {', '.join(self.names)}"]
        for s, n in self.splits.items():
            parts = " + ".join(f"{k}: {self.sets.get(k, 0)} images" for k in self.split_keys.get(s, []))
            out.append(f"{s}: {n} images, {self.split_boxes.get(s, 0)} boxes ({parts})")
        out.append(f"{self.boxes} boxes written, {self.difficult_skipped} difficult objects skipped")
        for kind in sorted(self.warnings, key=KINDS.index):
            ps = self.warnings[kind]
            out.append(f"warning: {kind}: {len(ps)}")
            out += [f"  {f}: {m}" for f, m in ps[:SHOWN]]
            if len(ps) > SHOWN:
                out.append(f"  ... and {len(ps) - SHOWN} more")
        return out


@dataclass
class _Item:
    folder: VocFolder
    set: str | None  # None: split by val_fraction
    id: str
    xml: str  # for messages
    ann: VocAnnotation
    image: Path
    size: tuple[int, int]
    lines: list[str] = field(default_factory=list)
    seeded: bool = False  # the set came from the val_fraction split


def _jobs(folders: list[VocFolder], sets) -> list[tuple[VocFolder, str | None, list[str]]]:
    """(folder, set or None, ids) for every set to convert."""
    jobs = []
    for f in folders:
        if f.fixed_set:
            if not sets or f.fixed_set in sets:
                jobs.append((f, f.fixed_set, list(f.xml_files())))
            continue
        if not f.lists:
            if sets:
                raise VocError(f"{f.root}: no ImageSets/Main/ split lists, so --sets does not apply (without "
                               "--sets its images are split by --val-fraction)")
            jobs.append((f, None, list(f.xml_files())))
            continue
        if sets:
            missing = [s for s in sets if s not in f.lists]
            if missing:
                have = ", ".join(sorted(f.lists))
                raise VocError(f"{f.root.name}: no ImageSets/Main/{missing[0]}.txt (have: {have})")
            chosen = list(sets)
        else:
            chosen = [s for s in DEFAULT_SETS if s in f.lists]
            if "train" not in chosen and "trainval" in f.lists:
                chosen = ["trainval"] + [s for s in chosen if s != "val"]
        if not chosen:  # e.g. CVAT's single `default.txt`: split like a folder without lists
            jobs.append((f, None, list(f.xml_files())))
            continue
        for s in chosen:
            try:
                text = f.lists[s].read_text(encoding="utf-8", errors="replace")
            except OSError as e:
                raise VocError(f"cannot read {f.lists[s]}: {e.strerror or e}") from None
            jobs.append((f, s, [ln.split()[0] for ln in text.splitlines() if ln.strip()]))
    return jobs


def _read(jobs, res: VocResult, rel) -> list[_Item]:
    """Parse every XML, find and measure its image; warn and skip what cannot be used."""
    items = []
    folders = {f.root: f for f, _, _ in jobs}.values()
    finders = {f.root: ImageFinder(f.image_dirs) for f in folders}
    xmls = {f.root: f.xml_files() for f in folders}  # `.XML` too; list ids are looked up here
    for f, s, ids in jobs:
        for i in ids:
            if i in (".", "..") or "/" in i or "\\" in i:
                res.warn(BAD_ID, rel(f.lists.get(s, f.root)), f"{i!r}; skipped")
                continue
            xp = xmls[f.root].get(i, f.xml_dir / f"{i}.xml")
            try:
                ann = parse_voc_xml(xp) if xp.is_file() else None
                err = None if ann else f"XML missing (listed in ImageSets/Main/{s}.txt)"
            except ValueError as e:
                ann, err = None, str(e)
            img = finders[f.root].find(ann.filename if ann else None, i)
            if img is None:
                want = (ann.filename if ann and ann.filename else f"{i}.jpg")
                res.warn(MISSING_IMAGE, rel(f.image_dirs[0] / Path(want.replace("\\", "/")).name),
                         f"image missing (looked for <filename>, then {i}.*{'' if ann else ' for a bad XML'}); skipped")
            if ann is None:
                res.warn(BAD_XML, rel(xp), f"{err}; skipped")
                continue
            if img is None:
                continue
            try:
                with Image.open(img) as im:
                    size = im.size
            except Exception as e:  # noqa: BLE001 - Pillow raises many types on bad files
                res.warn(BAD_IMAGE, rel(img), f"unreadable image ({type(e).__name__}); skipped")
                continue
            if ann.width and ann.height and (ann.width, ann.height) != size:
                res.warn(SIZE, rel(xp), f"<size> {ann.width}x{ann.height} but the image is {size[0]}x{size[1]}; "
                         "using the image")
            items.append(_Item(f, s, i, rel(xp), ann, img, size))
    return items


def _choose_names(items: list[_Item], names) -> tuple[list[str], str]:
    seen = sorted({o.name for it in items for o in it.ann.objects})
    if names:
        return list(names), "--names"
    if set(seen) <= set(VOC_NAMES):
        return list(VOC_NAMES), "the 20 VOC classes"
    return seen, "found in the XMLs (not the VOC classes), sorted"


def _label(it: _Item, index: dict[str, int], res: VocResult, keep_difficult: bool, unknown: dict[str, int]):
    iw, ih = it.size
    for o in it.ann.objects:
        if o.difficult and not keep_difficult:
            res.difficult_skipped += 1
            continue
        if o.name not in index:
            unknown[o.name] = unknown.get(o.name, 0) + 1
            continue
        b = (o.xmin, o.ymin, o.xmax, o.ymax)
        coords = ",".join(f"{v:g}" for v in b)
        if not all(map(math.isfinite, b)) or o.xmax <= o.xmin or o.ymax <= o.ymin:
            res.warn(DEGENERATE, it.xml, f"{o.name!r} box {coords} has no area; skipped")
            continue
        x, y, bw, bh = voc_box_to_yolo(*b, iw, ih)
        if bw <= 0 or bh <= 0:
            res.warn(DEGENERATE, it.xml, f"{o.name!r} box {coords} lies outside the {iw}x{ih} image; skipped")
            continue
        if o.xmin < 0 or o.ymin < 0 or o.xmax > iw + 1 or o.ymax > ih + 1:
            res.warn(OUTSIDE, it.xml, f"{o.name!r} box {coords} leaves the {iw}x{ih} image; clipped")
        it.lines.append(f"{index[o.name]} {x:.6f} {y:.6f} {bw:.6f} {bh:.6f}\n")


def _split(items: list[_Item], val_fraction: float, seed: int) -> None:
    """Give every item without a set `train` or `val`: per folder, a seeded shuffle of the sorted ids."""
    by_folder: dict[Path, list[_Item]] = {}
    for it in items:
        if it.set is None:
            by_folder.setdefault(it.folder.root, []).append(it)
    for group in by_folder.values():
        group.sort(key=lambda it: it.id)
        random.Random(seed).shuffle(group)
        n = len(group)
        n_val = min(max(round(n * val_fraction), 1), n - 1) if n > 1 else 0
        for k, it in enumerate(group):
            it.set, it.seeded = ("val" if k < n_val else "train"), True


def _roles(keys: dict[str, tuple[str, bool]]) -> tuple[list[str], list[str]]:
    """keys: key -> (set, from a split list). Train and val keys (the convention in the module docstring)."""
    listed = [k for k, (_, lst) in keys.items() if lst]
    seeded_train = [k for k, (s, lst) in keys.items() if not lst and s == "train"]
    seeded_val = [k for k, (s, lst) in keys.items() if not lst and s == "val"]
    test = [k for k in listed if keys[k][0] == "test"]
    if test:
        train, val = [k for k in listed if k not in test], test
    else:
        val = [k for k in listed if keys[k][0] == "val"]
        train = [k for k in listed if k not in val]
    train, val = seeded_train + train, seeded_val + val
    return (train or val), (val or train)


def convert_voc(src: str | Path, out: str | Path, *, names: list[str] | None = None, val_fraction: float = 0.2,
                seed: int = 0, link: str = "copy", keep_difficult: bool = False, years=None, sets=None) -> VocResult:
    """Convert; see the module docstring. Raises VocError (one line) on unusable input, never on one bad file;
    nothing is written to `out` unless the conversion succeeds."""
    src, out = Path(src), Path(out)
    if not 0 < val_fraction < 1:
        raise VocError(f"--val-fraction must be between 0 and 1 (exclusive), got {val_fraction}")
    if link not in LINKS:
        raise VocError(f"--link must be one of {', '.join(LINKS)}, got {link!r}")
    folders = find_voc_folders(src, years)
    check_out(src, out)
    jobs = _jobs(folders, sets)
    n_xml = sum(len(ids) for _, _, ids in jobs)
    if n_xml == 0:
        where = ", ".join(sorted({str(f.xml_dir) for f in folders}))
        raise VocError(f"no XML annotation files in {src} (looked in: {where})")
    res = VocResult(yaml_path=out / "data.yaml", names=[])

    def rel(p: Path) -> str:
        r = os.path.relpath(p, src)
        return str(p) if r.startswith("..") else r

    items = _read(jobs, res, rel)
    if not items:
        n_img = len(res.warnings.get(MISSING_IMAGE, []))
        if n_img:
            dirs = sorted({str(d) for f in folders for d in f.image_dirs})
            raise VocError(f"no image found for any of the {n_xml} XML files in {src} (looked in {', '.join(dirs)} "
                           f"by <filename>, then by the XML's name with {'/'.join(IMAGE_EXTS)})")
        f, m = res.problems[0]
        raise VocError(f"nothing converted: none of the {n_xml} XML files could be used (first: {f}: {m})")
    res.names, res.names_source = _choose_names(items, names)
    index = {n: k for k, n in enumerate(res.names)}
    unknown: dict[str, int] = {}
    for it in items:
        _label(it, index, res, keep_difficult, unknown)
    res.boxes = sum(len(it.lines) for it in items)
    for n, c in sorted(unknown.items()):
        res.warn(UNKNOWN_CLASS, "(annotations)", f"{c} objects of class {n!r} not in the class list; skipped")
    if names and unknown and res.boxes == 0:
        raise VocError(f"no object is of a class in --names ({', '.join(names)}): the XMLs name "
                       f"{', '.join(sorted(unknown))}")
    _split(items, val_fraction, seed)
    _write(src, out, items, res, link)
    return res


def _write(src: Path, out: Path, items: list[_Item], res: VocResult, link: str) -> None:
    keys: dict[str, tuple[str, bool]] = {}
    lists: dict[str, list[_Item]] = {}
    roots: dict[str, Path] = {}
    for it in items:
        key = f"{it.set}{it.folder.tag}"
        if roots.setdefault(key, it.folder.root) != it.folder.root:
            raise VocError(f"{roots[key]} and {it.folder.root} both give the set {key}; convert them separately")
        keys.setdefault(key, (it.set, not it.seeded))
        lists.setdefault(key, []).append(it)
    train, val = _roles(keys)
    res.split_keys = {"train": train, "val": val}
    with staged(out) as tmp:
        for key, its in lists.items():
            (tmp / "images" / key).mkdir(parents=True)
            (tmp / "labels" / key).mkdir(parents=True)
            for it in its:
                name = f"{it.id}{it.image.suffix.lower()}"
                place(it.image, tmp / "images" / key / name, link)
                (tmp / "labels" / key / f"{it.id}.txt").write_text("".join(it.lines))
            (tmp / f"{key}.txt").write_text("".join(f"./images/{key}/{it.id}{it.image.suffix.lower()}\n" for it in its))
            res.sets[key] = len(its)
        for split, ks in res.split_keys.items():
            (tmp / f"{split}.txt").write_text("".join((tmp / f"{k}.txt").read_text() for k in ks))
            res.splits[split] = sum(len(lists[k]) for k in ks)
            res.split_boxes[split] = sum(len(it.lines) for k in ks for it in lists[k])
        doc = {"path": ".", "train": "train.txt", "val": "val.txt", "nc": len(res.names),
               "names": dict(enumerate(res.names))}
        (tmp / "data.yaml").write_text(
            f"{MARKER} from {src.resolve()}\n"
            f"# train: {' + '.join(train)}; val: {' + '.join(val)}\n" + yaml.safe_dump(doc, sort_keys=False))
