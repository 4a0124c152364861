"""Where a VOC-format dataset keeps its XMLs, images and split lists: the folder layouts `convert_voc` reads.

A source folder is one of (checked in this order):
- a dataset folder: XMLs (`.xml`, any case) in `Annotations/` (or `annotations/`, or the one folder in it that
  holds XMLs, as Oxford pets' `annotations/xmls/`), or beside the images; images in `JPEGImages/` (or `images/`),
  or beside the XMLs; optional `ImageSets/Main/<set>.txt` split lists (`VOCdevkit/BCCD`, `VOCdevkit/VOC2007`, or a
  flat folder of XML files and images);
- a folder of split folders `train/`, `valid/` (or `val/`, `validation/`), `test/`, each a flat dataset folder;
- a devkit: a folder holding `VOC<year>/` folders and/or other dataset folders with `Annotations/`
  (`VOCdevkit/` holding `VOC2007/` and `VOC2012/`, or holding `BCCD/`);
- a folder holding such a `VOCdevkit/`, or folders that each hold one (the VOC2007 trainval and test archives
  unpacked side by side: `VOCtrainval_06-Nov-2007/VOCdevkit/VOC2007/`, `VOCtest_06-Nov-2007/VOCdevkit/VOC2007/`).

Each dataset folder found is a `VocFolder`; its `tag` (the year of `VOC<year>`, else `_<folder name>`) is appended
to its set names in the output (`train2007`, `test_BCCD`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePath

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
XML_DIRS = ("Annotations", "annotations")
IMAGE_DIRS = ("JPEGImages", "images", "Images")
SPLIT_DIRS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


class VocError(Exception):
    """The source cannot be converted; the one-line message is meant for the user."""


@dataclass(frozen=True)
class VocFolder:
    """One dataset folder. `lists`: its ImageSets/Main/<set>.txt files by set name (class lists such as
    `dog_train.txt` left out); `fixed_set`: every XML belongs to this set (a `train/` / `valid/` folder)."""

    root: Path
    tag: str
    xml_dir: Path
    image_dirs: tuple[Path, ...]
    lists: dict[str, Path] = field(default_factory=dict)
    fixed_set: str | None = None

    def xml_files(self) -> dict[str, Path]:
        """The XML files in `xml_dir` (any case of `.xml`) by stem, sorted by stem."""
        if not self.xml_dir.is_dir():
            return {}
        found = {e.name[:-4]: Path(e.path) for e in os.scandir(self.xml_dir)
                 if e.name.lower().endswith(".xml") and e.is_file()}
        return dict(sorted(found.items()))


def _has_xml(d: Path) -> bool:
    try:
        return any(e.name.lower().endswith(".xml") and e.is_file() for e in os.scandir(d))
    except OSError:
        return False


def _xml_dir(d: Path) -> Path | None:
    for n in XML_DIRS:
        if (d / n).is_dir():
            if _has_xml(d / n):
                return d / n
            inner = [c for c in _children(d / n) if _has_xml(c)]  # e.g. Oxford pets' annotations/xmls/
            return inner[0] if len(inner) == 1 else d / n
    return d if _has_xml(d) else None


def _lists(d: Path) -> dict[str, Path]:
    main = d / "ImageSets" / "Main"
    if not main.is_dir():
        return {}
    return {p.stem: p for p in sorted(main.glob("*.txt")) if "_" not in p.stem}


def _tag(d: Path) -> str:
    m = re.fullmatch(r"VOC(.+)", d.name)
    if m:
        return m.group(1)
    return "_" + (re.sub(r"[^A-Za-z0-9.-]+", "_", d.resolve().name).strip("_") or "data")


def dataset_folder(d: Path, tag: str | None = None, fixed_set: str | None = None) -> VocFolder | None:
    """`d` as one dataset folder, or None when it holds neither XMLs (nor an annotations folder) nor split lists."""
    xml, lists = _xml_dir(d), _lists(d)
    if xml is None and not lists:
        return None
    xml = xml or d / "Annotations"
    dirs = [d / n for n in IMAGE_DIRS if (d / n).is_dir()] + [xml] + ([d] if xml != d else [])
    return VocFolder(d, _tag(d) if tag is None else tag, xml, tuple(dict.fromkeys(dirs)), lists, fixed_set)


def _children(d: Path) -> list[Path]:
    try:
        return sorted(p for p in d.iterdir() if p.is_dir())
    except OSError as e:
        raise VocError(f"cannot read {d}: {e.strerror or e}") from None


def find_voc_folders(src: Path, years=None) -> list[VocFolder]:
    """The dataset folders under `src` (see the module docstring). `years`: only these `VOC<year>/` folders."""
    if not src.is_dir():
        raise VocError(f"source folder not found: {src}")
    children = _children(src)
    found = [c.name[3:] for c in children if re.fullmatch(r"VOC\d+", c.name)]
    if years:
        out = []
        for y in years:
            f = dataset_folder(src / f"VOC{y}") if (src / f"VOC{y}").is_dir() else None
            if f is None:
                raise VocError(f"{src / f'VOC{y}'}: no Annotations/ nor ImageSets/Main/ found (years found in {src}: "
                               f"{', '.join(found) or 'none'})")
            out.append(f)
        return out
    me = dataset_folder(src)
    if me is not None and (me.xml_dir != src or not children or me.lists):
        return [me]
    splits = [c for c in children if c.name.lower() in SPLIT_DIRS and _xml_dir(c) is not None]
    if splits:
        return [dataset_folder(c, _tag(src), SPLIT_DIRS[c.name.lower()]) for c in splits]
    out = []
    for c in children:
        year = re.fullmatch(r"VOC\d+", c.name) is not None
        f = dataset_folder(c) if year or any((c / n).is_dir() for n in XML_DIRS) else None
        if f is None and year:
            raise VocError(f"{c}: no Annotations/ nor ImageSets/Main/ found (is {src} a VOCdevkit folder? "
                           f"years found: {', '.join(found) or 'none'})")
        if f is not None:
            out.append(f)
    if out:
        return out
    if me is not None:
        return [me]
    if (src / "VOCdevkit").is_dir():
        return find_voc_folders(src / "VOCdevkit")
    nested = [c / "VOCdevkit" for c in children if (c / "VOCdevkit").is_dir()]  # VOCtrainval_.../, VOCtest_.../
    if nested:
        return [f for d in nested for f in find_voc_folders(d)]
    raise VocError(f"no VOC annotations in {src}: expected XML files (in Annotations/, annotations/ or beside the "
                   "images), VOC<year>/ or other folders with Annotations/ + JPEGImages/, or train/ valid/ test/ "
                   "folders of XMLs and images")


def looks_like_voc(path: Path) -> bool:
    """Cheap: is `path` a folder `convert_voc` would accept (a layout above, with at least one XML file)?"""
    try:
        folders = find_voc_folders(Path(path))
    except (VocError, OSError):
        return False
    return any(_has_xml(f.xml_dir) for f in folders)


class ImageFinder:
    """Finds a dataset folder's image files: by the XML's <filename>, else by the XML's stem with any image
    extension (case-insensitive), searching the folder's image dirs in order. Each dir is listed once."""

    def __init__(self, dirs: tuple[Path, ...]):
        self.dirs = dirs
        self._index: dict[Path, tuple[dict[str, Path], dict[str, list[Path]]]] = {}

    def _listing(self, d: Path):
        if d not in self._index:
            names: dict[str, Path] = {}
            stems: dict[str, list[Path]] = {}
            try:
                entries = sorted(os.scandir(d), key=lambda e: e.name)
            except OSError:
                entries = []
            for e in entries:
                p = PurePath(e.name)
                if p.suffix.lower() in IMAGE_EXTS and e.is_file():
                    names.setdefault(e.name.lower(), Path(e.path))
                    stems.setdefault(p.stem.lower(), []).append(Path(e.path))
            self._index[d] = (names, stems)
        return self._index[d]

    def find(self, filename: str | None, stem: str) -> Path | None:
        """The file `filename` names, else `filename`'s stem or `stem` with any image extension."""
        stems = [stem.lower()]
        if filename:
            name = PurePath(filename.strip().replace("\\", "/")).name.lower()
            for d in self.dirs:
                if name in self._listing(d)[0]:
                    return self._listing(d)[0][name]
            p = PurePath(name)
            stems.insert(0, p.stem if p.suffix.lower() in IMAGE_EXTS else name)
        for s in dict.fromkeys(stems):
            for d in self.dirs:
                hits = self._listing(d)[1].get(s)
                if hits:
                    return min(hits, key=lambda p: IMAGE_EXTS.index(p.suffix.lower()))
        return None
