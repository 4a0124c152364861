"""Text edits at source spans: the only way `recipec lint --fix` changes a file.

An `Edit` replaces the text between two 1-based (line, column) positions, and carries the text it
expects to find there; `apply_edits` refuses (drops) an edit whose text no longer matches or that
overlaps another, so a fix never touches anything but its own span. Lines are counted as the
YAML reader counts them (`\\n`, `\\r\\n`, `\\r`, NEL, LS, PS), so spans map to the same characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace `old` at line:col .. end_line:end_col (1-based, end exclusive) with `new`."""

    line: int
    col: int
    end_line: int
    end_col: int
    old: str
    new: str

    @classmethod
    def at(cls, span, old: str, new: str) -> "Edit":
        return cls(span.line, span.col, span.end_line, span.end_col, old, new)


@dataclass(frozen=True)
class Fix:
    """The edits that resolve one diagnostic, a one-line description, and whether it is unsafe."""

    code: str
    title: str
    edits: tuple[Edit, ...]
    unsafe: bool = False

    @property
    def applicability(self) -> str:
        return "unsafe" if self.unsafe else "safe"


def line_starts(text: str) -> list[int]:
    """Offset of the first character of every line (index 0 = line 1)."""
    return [0] + [m.end() for m in _BREAK.finditer(text)]


def offset(starts: list[int], text: str, line: int, col: int) -> int | None:
    """Character offset of 1-based (line, col), or None outside the text."""
    if not 0 < line <= len(starts) or col < 1:
        return None
    off = starts[line - 1] + col - 1
    return off if off <= len(text) else None


def text_at(text: str, span, starts: list[int] | None = None) -> str | None:
    """The source text a span covers (None when it lies outside `text`)."""
    starts = starts or line_starts(text)
    a = offset(starts, text, span.line, span.col)
    b = offset(starts, text, span.end_line, span.end_col)
    return None if a is None or b is None or b < a else text[a:b]


def apply_edits(text: str, edits: Iterable[Edit]) -> tuple[str, list[Edit]]:
    """Apply every edit whose `old` text matches and that overlaps no earlier one.

    Returns the new text and the edits applied. Edits are placed by their positions in the
    original `text`, so their order does not matter.
    """
    starts = line_starts(text)
    placed: list[tuple[int, int, Edit]] = []
    for e in edits:
        a = offset(starts, text, e.line, e.col)
        b = offset(starts, text, e.end_line, e.end_col)
        if a is None or b is None or b < a or text[a:b] != e.old:
            continue
        if any(a < y and x < b or (a == b == x) for x, y, _ in placed):
            continue
        placed.append((a, b, e))
    out, pos = [], 0
    for a, b, e in sorted(placed, key=lambda t: t[0]):
        out += [text[pos:a], e.new]
        pos = b
    out.append(text[pos:])
    return "".join(out), [e for _a, _b, e in sorted(placed, key=lambda t: t[0])]
