"""The checkpoint `--resume` means (run folders themselves are made by ``engine.run_dir.create_run_dir``)."""

from __future__ import annotations

from pathlib import Path


def find_resume(arg: str, project: str) -> Path | None:
    """``--resume PATH`` (last.pt or its run folder) or, with no path, the most recent ``last.pt`` under the
    project folder; None when there is none."""
    if arg:
        p = Path(arg)
        return p / "weights" / "last.pt" if p.is_dir() else p
    found = sorted(Path(project).glob("*/weights/last.pt"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None
