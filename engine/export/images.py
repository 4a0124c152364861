"""Which images `recipec export` verifies an export on, in order:

1. `--images` as given (all of them);
2. the val split of `--data` (a data YAML; an unreadable one is an error);
3. the val split of the data YAML recorded in the checkpoint (`args.data` of a recipec run), when it and its
   images are found from the current folder;
4. the sample images shipped in this package (`samples/`, three BCCD photos, MIT; see samples/PROVENANCE.md),
   read with importlib.resources.

A split's images are thinned to `MAX_IMAGES`, evenly spaced over the sorted list, so that verification stays
quick on a large val set. `Chosen.describe` says which images were used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

MAX_IMAGES = 16
SAMPLES = "samples"


class ImagesError(Exception):
    """Bad `--images` / `--data`: the message is meant for the user."""


@dataclass(frozen=True)
class Chosen:
    paths: list[Path]
    source: str     # "images" | "data" | "checkpoint data" | "bundled"
    where: str      # the data YAML or folder they came from
    total: int      # images available there (before thinning)
    note: str = ""  # why an earlier source was passed over

    def describe(self) -> str:
        n = len(self.paths)
        if self.source == "images":
            what = f"{n} image(s) given with --images"
        elif self.source == "bundled":
            what = f"the {n} sample images shipped with recipec ({self.where})"
        else:
            label = "--data" if self.source == "data" else "the checkpoint's data YAML"
            part = f"{n} of {self.total}" if n < self.total else f"all {n}"
            what = f"{part} val images of {label} {self.where}"
        return what + (f" ({self.note})" if self.note else "")

    def to_json(self) -> dict:
        return {"source": self.source, "where": self.where, "used": len(self.paths), "available": self.total,
                "paths": [str(p) for p in self.paths]}


def bundled_images() -> list[Path]:
    """The sample images shipped in `engine/export/samples/`, sorted."""
    from importlib import resources

    d = Path(str(resources.files("engine.export") / SAMPLES))
    return sorted(p for p in d.glob("*.jpg") if p.is_file())


def spread(files: Sequence[Path], n: int = MAX_IMAGES) -> list[Path]:
    """At most `n` of `files`, evenly spaced (first and last included), in order."""
    files = list(files)
    if len(files) <= n:
        return files
    if n == 1:
        return files[:1]
    return [files[round(i * (len(files) - 1) / (n - 1))] for i in range(n)]


def _val_images(data: str) -> tuple[list[Path], str]:
    """(val images, the YAML's path); yolo's DataError on a missing/unreadable YAML or split."""
    from yolo.data.yaml import list_images, load_data_yaml

    cfg = load_data_yaml(data)
    return list_images(cfg, "val"), str(cfg.yaml_path)


def pick_images(images: Sequence[Path] | None = None, data: str | None = None,
                checkpoint_data: str | None = None) -> Chosen:
    """The images to verify on (module docstring). ImagesError for missing `--images` or a bad `--data`."""
    from yolo.data.yaml import DataError
    from yolo.errtext import first_line

    if images:
        missing = [str(p) for p in images if not Path(p).is_file()]
        if missing:
            raise ImagesError(f"--images not found: {', '.join(missing)}")
        return Chosen([Path(p) for p in images], "images", "--images", len(images))
    if data:
        try:
            files, where = _val_images(data)
        except DataError as e:
            raise ImagesError(f"--data: {e}") from None
        return Chosen(spread(files), "data", where, len(files))
    note = ""
    if checkpoint_data:
        try:
            files, where = _val_images(checkpoint_data)
            return Chosen(spread(files), "checkpoint data", where, len(files))
        except DataError as e:
            note = f"the checkpoint's data {checkpoint_data}: {first_line(e)}"
    samples = bundled_images()
    if not samples:
        raise ImagesError("no images to verify on: the sample images are missing from this install (reinstall "
                          "recipec), and no --data or --images was given")
    return Chosen(samples, "bundled", str(samples[0].parent), len(samples), note)
