"""Run folders from arguments: the next free `runs/<task>/expN` name, and the checkpoint `--resume` means."""

from __future__ import annotations

from pathlib import Path


def increment_dir(project: str | Path, name: str) -> Path:
    """runs/train/exp, exp2, exp3, ... (the first that does not exist), as YOLOv5 numbers runs. Only a name:
    nothing is reserved (training creates its folder atomically: ``engine.run_dir.create_run_dir``)."""
    base = Path(project) / name
    if not base.exists():
        return base
    n = 2
    while (Path(project) / f"{name}{n}").exists():
        n += 1
    return Path(project) / f"{name}{n}"


def find_resume(arg: str, project: str) -> Path | None:
    """``--resume PATH`` (last.pt or its run folder) or, with no path, the most recent ``last.pt`` under the
    project folder; None when there is none."""
    if arg:
        p = Path(arg)
        return p / "weights" / "last.pt" if p.is_dir() else p
    found = sorted(Path(project).glob("*/weights/last.pt"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None
