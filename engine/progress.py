"""Progress bars (rich, with ETA) for the long loops: validation batches, export calibration and verification,
`bench` runs. Shown only when asked (`enabled`, i.e. no `--no-progress`) and stdout is a terminal, so logs,
pipes and tests stay clean; a bar disappears once its loop is done (transient)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


def wanted(enabled: bool = True) -> bool:
    """Bars are drawn when `enabled` and stdout is a terminal."""
    try:
        return bool(enabled) and sys.stdout.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stdout
        return False


def _progress():
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("eta"), TimeRemainingColumn(), transient=True)


@contextmanager
def progress_callback(description: str, enabled: bool = True) -> Iterator[Callable[[int, int], None] | None]:
    """A `callback(i, n)` ("item i of n done", as `yolo.val.validate`'s `progress`) that drives a bar, or None
    when no bar is wanted."""
    if not wanted(enabled):
        yield None
        return
    p = _progress()
    task: list[Any] = []

    def update(i: int, n: int) -> None:
        if not task:
            task.append(p.add_task(description, total=n or None))
        p.update(task[0], completed=i + 1, total=n or None)

    with p:
        yield update


def track(items: Iterable[T], description: str, total: int | None = None, enabled: bool = True) -> Iterator[T]:
    """`items`, with a bar while they are consumed (none when not wanted)."""
    if not wanted(enabled):
        yield from items
        return
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    p = _progress()
    with p:
        t = p.add_task(description, total=total)
        for x in items:
            yield x
            p.advance(t)
