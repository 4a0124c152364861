"""Ultralytics-style data YAML: where the images are and what the classes are called.

Format (the ultralytics one, read with `yaml.safe_load` within limits: `yolo.safe_yaml`):

    path: ../datasets/coco128   # dataset root; relative -> against the YAML file's folder
    train: images/train2017     # a folder, a .txt list of images, or a list of those
    val: [images/val, extra.txt]
    test:                       # optional
    nc: 80                      # optional when `names` is given
    names: [person, bicycle]    # or {0: person, 1: bicycle}
    download: https://...       # kept as text, NEVER fetched or executed
    instructions: "..."         # ours, optional: how to get the data, shown when it is missing

Labels live beside the images: the last `/images/` of an image path becomes `/labels/` and the
extension becomes `.txt` (`img2label_path`). Nothing here imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from yolo.safe_yaml import YamlLimitError, load_file

IMG_EXTS = (".bmp", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".mpo", ".dng", ".pfm")
BUNDLED_DIR = Path(__file__).resolve().parent
SPLITS = ("train", "val", "test")


class DataError(Exception):
    """Bad or missing dataset: the message is complete and meant for the user (no traceback)."""


@dataclass(frozen=True)
class DataConfig:
    """A parsed data YAML. Split entries are absolute paths (folders or .txt lists), unchecked."""

    yaml_path: Path | None
    root: Path
    names: tuple[str, ...]
    splits: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    download: str | None = None
    instructions: str | None = None

    @property
    def nc(self) -> int:
        return len(self.names)


def img2label_path(img: str | Path) -> Path:
    """`.../images/x/y.jpg` -> `.../labels/x/y.txt` (the LAST `/images/` is replaced)."""
    s = Path(img).as_posix()
    k = s.rfind("/images/")
    if k >= 0:
        s = s[:k] + "/labels/" + s[k + len("/images/"):]
    elif s.startswith("images/"):  # a relative path starting at the images folder
        s = "labels/" + s[len("images/"):]
    return Path(s).with_suffix(".txt")


MAX_CLASSES = 10_000  # COCO has 80, Objects365 365, ImageNet 1000; nc sizes the Detect head


def _name(v, where: str, i: int) -> str:
    """A class name: a non-empty string (an integer is kept as its text, as ultralytics does)."""
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, str) and v.strip():
        return v
    hint = " (YAML reads yes/no/on/off/true/false as booleans: quote the name)" if isinstance(v, bool) else ""
    raise DataError(f"{where}: names[{i}] must be a non-empty string, got {_short(v)}{hint}")


def _short(v) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _nc(nc_raw, where: str) -> int:
    if isinstance(nc_raw, bool) or not isinstance(nc_raw, int) or nc_raw < 1:
        raise DataError(f"{where}: nc must be an integer >= 1, got {_short(nc_raw)}")
    if nc_raw > MAX_CLASSES:
        raise DataError(f"{where}: nc={nc_raw} is more than {MAX_CLASSES} classes")
    return nc_raw


def _parse_names(raw, nc_raw, where: str) -> tuple[str, ...]:
    nc = None if nc_raw is None else _nc(nc_raw, where)
    if raw is None:
        if nc is None:
            raise DataError(f"{where}: neither `names` nor `nc` is given")
        return tuple(f"class{i}" for i in range(nc))
    if isinstance(raw, dict):
        if not all((isinstance(k, int) and not isinstance(k, bool)) or (isinstance(k, str) and k.strip().isdigit())
                   for k in raw):
            raise DataError(f"{where}: `names` keys must be integers 0..nc-1")
        keys = sorted(int(k) for k in raw)
        if keys != list(range(len(keys))):
            raise DataError(f"{where}: `names` keys must be 0..{len(keys) - 1} without gaps, got {_short(keys)}")
        by_int = {int(k): v for k, v in raw.items()}
        items = [by_int[i] for i in range(len(keys))]
    elif isinstance(raw, (list, tuple)):
        items = list(raw)
    else:
        raise DataError(f"{where}: `names` must be a list or a mapping, got {type(raw).__name__}")
    if len(items) > MAX_CLASSES:
        raise DataError(f"{where}: {len(items)} names are more than {MAX_CLASSES} classes")
    names = tuple(_name(v, where, i) for i, v in enumerate(items))
    if nc is not None and nc != len(names):
        raise DataError(f"{where}: nc={nc} but {len(names)} names are given")
    return names


def load_data_yaml(path: str | Path) -> DataConfig:
    """Read a data YAML. A name that is not a file but matches a bundled YAML (`VOC.yaml`) uses it.

    Raises DataError (clear message) on unreadable or malformed files. Split paths are resolved
    but not checked here: `list_images` checks them and explains what is missing.
    """
    p = Path(path)
    bundled = False
    if not p.is_file():
        cand = BUNDLED_DIR / p.name
        if p.parent == Path(".") and cand.is_file():
            p, bundled = cand, True
        else:
            raise DataError(f"data YAML not found: {path}")
    try:
        d = load_file(p)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, YamlLimitError) as e:
        raise DataError(f"cannot read data YAML {p}: {e}") from None
    if not isinstance(d, dict):
        raise DataError(f"{p}: a data YAML must be a mapping")
    names = _parse_names(d.get("names"), d.get("nc"), str(p))
    # The bundled YAMLs live inside the installed package: their relative `path` means the cwd.
    base = Path.cwd() if bundled else p.resolve().parent
    root_raw = d.get("path")
    root = base if root_raw in (None, "") else Path(str(root_raw)).expanduser()
    if not root.is_absolute():
        root = (base / root).resolve()
    splits: dict[str, tuple[Path, ...]] = {}
    for s in SPLITS:
        v = d.get(s)
        if v in (None, ""):
            continue
        items = v if isinstance(v, (list, tuple)) else [v]
        out = []
        for it in items:
            if not isinstance(it, str):
                raise DataError(f"{p}: `{s}` entries must be paths (strings), got {_short(it)}")
            q = Path(str(it)).expanduser()
            out.append(q if q.is_absolute() else (root / q).resolve())
        splits[s] = tuple(out)
    dl = d.get("download")
    instr = d.get("instructions")
    return DataConfig(
        yaml_path=p,
        root=root,
        names=names,
        splits=splits,
        download=None if dl is None else str(dl),
        instructions=None if instr is None else str(instr),
    )


def _read_list_file(txt: Path) -> list[Path]:
    out = []
    for line in txt.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        q = Path(line).expanduser()
        # Relative entries ("./images/a.jpg" or "images/a.jpg") are relative to the list file.
        out.append(q if q.is_absolute() else (txt.parent / q))
    return out


def _how_to_get(cfg: DataConfig) -> str:
    lines = []
    if cfg.instructions:
        lines.append(cfg.instructions.strip())
    if cfg.download:
        dl = cfg.download.strip()
        if "\n" in dl or not dl.startswith(("http://", "https://")):
            lines.append("its `download:` key holds a script, which recipec never runs; get the data "
                         "yourself and place it there (or edit `path:`)")
        else:
            lines.append(f"it names this download (recipec never downloads): {dl} ; unpack it so that "
                         f"the split folders above exist (or edit `path:`)")
    if not lines:
        lines.append("put the images (and labels/ beside images/) there, or edit `path:` in the YAML")
    return "\n  ".join(lines)


def list_images(cfg: DataConfig, split: str) -> list[Path]:
    """All image files of a split, sorted, without duplicates. DataError if the split is missing."""
    if split not in cfg.splits:
        raise DataError(f"{cfg.yaml_path}: no `{split}:` split is defined")
    files: list[Path] = []
    missing: list[Path] = []
    for entry in cfg.splits[split]:
        if entry.is_dir():
            files += [f for f in entry.rglob("*") if f.suffix.lower() in IMG_EXTS and f.is_file()]
        elif entry.is_file() and entry.suffix.lower() == ".txt":
            files += [f for f in _read_list_file(entry) if f.suffix.lower() in IMG_EXTS]
        elif entry.is_file() and entry.suffix.lower() in IMG_EXTS:
            files.append(entry)
        else:
            missing.append(entry)
    if missing:
        where = "\n  ".join(str(m) for m in missing)
        raise DataError(
            f"dataset for `{split}` not found (data YAML {cfg.yaml_path}, root {cfg.root}); looked for:\n  "
            f"{where}\nhow to get it:\n  {_how_to_get(cfg)}"
        )
    uniq = sorted({str(f): f for f in files}.values(), key=str)
    if not uniq:
        raise DataError(f"no images found for `{split}` in: " + ", ".join(str(e) for e in cfg.splits[split]))
    return uniq
