"""`recipec plan --data`: steps_per_epoch from an ultralytics data YAML, without torch: ceil(train images / batch).

The YAML's `train` is a directory of images (searched recursively), a `.txt` file listing
image paths (one per line; relative lines resolve against the file's folder), or a list of
those. Relative `train` entries resolve against `path` when given, and a relative `path`
resolves against the YAML's own folder. Errors are `DatasetError` with a readable message.
"""

from __future__ import annotations

import math
from pathlib import Path

IMG_EXTS = frozenset({"bmp", "dng", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp", "pfm"})


class DatasetError(ValueError):
    """The data YAML cannot be read or its train split has no images."""


def _is_image(p: Path) -> bool:
    return p.suffix[1:].lower() in IMG_EXTS


def _count_entry(entry: Path) -> int:
    if entry.is_dir():
        return sum(1 for p in entry.rglob("*") if p.is_file() and _is_image(p))
    if entry.is_file() and entry.suffix.lower() == ".txt":
        n = 0
        for line in entry.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.strip()
            if line and _is_image(Path(line)):
                n += 1
        return n
    if entry.is_file() and _is_image(entry):
        return 1
    raise DatasetError(f"train entry {entry} does not exist (expected an image folder or a .txt list)")


def count_train_images(data_yaml: str | Path) -> int:
    """Number of images in the train split of an ultralytics data YAML."""
    from yolo.safe_yaml import YamlFileError, load_file_or_error

    p = Path(data_yaml)
    try:
        data = load_file_or_error(p)
    except YamlFileError as exc:
        raise DatasetError(str(exc)) from None
    if not isinstance(data, dict) or not data.get("train"):
        raise DatasetError(f"{p} has no `train` entry")
    root = p.resolve().parent
    if data.get("path"):
        base = Path(str(data["path"]))
        root = base if base.is_absolute() else (root / base)
    entries = data["train"] if isinstance(data["train"], list) else [data["train"]]
    total = 0
    for e in entries:
        ep = Path(str(e))
        try:
            total += _count_entry(ep if ep.is_absolute() else root / ep)
        except OSError as exc:
            raise DatasetError(f"cannot read train entry {e}: {exc.strerror or exc}") from None
    if total == 0:
        raise DatasetError(f"the train split of {p} has no images")
    return total


def steps_per_epoch_from_data(data_yaml: str | Path, batch: int) -> int:
    """ceil(n_train_images / batch): the batches per epoch of a loader without drop_last."""
    if batch < 1:
        raise DatasetError("--batch must be >= 1")
    return math.ceil(count_train_images(data_yaml) / batch)
