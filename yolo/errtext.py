"""`first_line`: an exception as one line for an error message, whatever its text (empty, blank, multi-line)."""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first non-blank line of `str(exc)`, else the exception's type name (e.g. an `EOFError()`)."""
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
