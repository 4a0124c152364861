"""Writing a conversion's output folder all at once: files go to a temporary folder beside `out`, which replaces
`out` at the end, so a failed conversion leaves nothing half-written. An existing `out` is replaced only when it is
empty or holds an earlier conversion (its data.yaml starts with `MARKER`); anything else is refused."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from yolo.data.voc_layout import VocError

MARKER = "# written by `recipec data voc`"
LINKS = ("copy", "hardlink", "symlink", "auto")


def check_out(src: Path, out: Path) -> None:
    """Raise VocError when `out` cannot be (re)placed without losing data."""
    s, o = src.resolve(), out.resolve()
    if o == s or o in s.parents:
        raise VocError(f"--out {out} holds the source folder {src}; choose an output folder outside it")
    if out.exists() and not out.is_dir():
        raise VocError(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        y = out / "data.yaml"
        try:
            ours = y.is_file() and y.read_text(encoding="utf-8", errors="replace").startswith(MARKER)
        except OSError:
            ours = False
        if not ours:
            raise VocError(f"--out {out} exists and holds files that `recipec data voc` did not write; "
                           "give a new or empty folder")


@contextmanager
def staged(out: Path):
    """Yield a temporary folder beside `out`; on success it becomes `out` (replacing an earlier one), on any error
    it is removed. OSErrors become VocError."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    except OSError as e:
        raise VocError(f"cannot write {out}: {e.strerror or e}") from None
    try:
        yield tmp
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / "d")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except OSError as e:
        raise VocError(f"cannot write {out}: {e.strerror or e}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def place(src: Path, dst: Path, link: str) -> None:
    """Put image `src` at `dst`: a copy, a hard link, a symbolic link, or `auto` (hard link, else copy)."""
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
