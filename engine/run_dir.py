"""The run folder: created atomically, and what went wrong when it (or a file in it) cannot be written.

``create_run_dir`` makes ``<project>/<name>``, else ``<name>2``, ``<name>3``, ... with ``os.mkdir`` (no
``exist_ok``): the mkdir itself decides which run gets a name, so two trainings started together with the same
``--project/--name`` never share a folder (checking first and creating after lets both pick the same one).
``write_error`` turns an ``OSError`` -- or the ``RuntimeError`` torch raises when a write fails inside
``torch.save`` -- into one line: ``cannot write PATH: no space left on device``.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

MAX_RUNS = 100_000  # exp .. exp100000: a bound on the search, far above any real project


class RunDirError(Exception):
    """The run folder cannot be created; the message is complete and meant for the user."""


def create_run_dir(project: str | Path, name: str, exist_ok: bool = False) -> Path:
    """Create and return ``project/name`` (reused as it is with ``exist_ok``), else the first free ``name2``,
    ``name3``, ... Raises RunDirError naming the project and the reason."""
    project = Path(project)
    try:
        project.mkdir(parents=True, exist_ok=True)
        if exist_ok:
            (project / name).mkdir(exist_ok=True)
            return project / name
        for n in range(1, MAX_RUNS + 1):
            path = project / (name if n == 1 else f"{name}{n}")
            try:
                os.mkdir(path)
                return path
            except FileExistsError:
                continue
    except OSError as exc:
        raise RunDirError(f"cannot create the run folder under {project}: {reason(exc)}") from None
    raise RunDirError(f"cannot create the run folder under {project}: {name} .. {name}{MAX_RUNS} all exist")


def reason(exc: BaseException, folder: str | Path | None = None) -> str:
    """Why a write failed, in lower case (`no space left on device`, `permission denied`, ...)."""
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno is not None:
            if e.errno == errno.EEXIST:  # mkdir over a file: "file exists" says less than this
                return "a file is in the way (not a directory)"
            return _lower(e.strerror or os.strerror(e.errno))
    if folder is not None:  # torch's writer reports a failed write as RuntimeError without the errno
        try:
            if shutil.disk_usage(folder).free == 0:
                return "no space left on device"
        except OSError:
            pass
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return _lower(first)


def write_error(exc: BaseException, path: str | Path) -> str:
    """``cannot write PATH: REASON`` for an OSError / RuntimeError raised while writing ``path``."""
    return f"cannot write {path}: {reason(exc, Path(path).parent)}"


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def check_project(project: str | Path) -> None:
    """Fail early (before a long set-up) when ``project`` cannot hold a run folder: its nearest existing
    folder is a file, or is not writable. ``create_run_dir`` still decides; this only saves the wait."""
    p = Path(project).absolute()
    while not os.path.lexists(p) and p != p.parent:
        p = p.parent
    if not p.is_dir():
        raise RunDirError(f"cannot create the run folder under {project}: {p} is a file (not a directory)")
    if not os.access(p, os.W_OK | os.X_OK):
        why = "read-only file system" if os.statvfs(p).f_flag & os.ST_RDONLY else "permission denied"
        raise RunDirError(f"cannot create the run folder under {project}: {why} ({p})")
