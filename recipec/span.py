"""Source positions. Every value the front end reads keeps one, from the YAML node to the IR.

Lines and columns are 1-based (what editors and compilers print); `end_col` is exclusive, so a
one-character token at column 5 has `col=5, end_col=6`. PyYAML marks are 0-based: `Span.from_marks`
is the one place that converts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file: 1-based line and column, end column exclusive."""

    path: str
    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def from_marks(cls, path: str, start, end) -> "Span":
        """Build from two PyYAML `Mark`s (0-based line/column)."""
        return cls(path, start.line + 1, start.column + 1, end.line + 1, end.column + 1)

    @classmethod
    def point(cls, path: str, line: int, col: int, width: int = 1) -> "Span":
        return cls(path, line, col, line, col + max(width, 1))

    def sub(self, offset: int, length: int) -> "Span":
        """A span `length` characters long, `offset` characters into this span's first line.

        Used for positions inside a scalar (an `eval(...)` expression); only exact for plain
        scalars on one line, which is where expressions live.
        """
        col = self.col + offset
        return Span(self.path, self.line, col, self.line, col + max(length, 1))

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"
