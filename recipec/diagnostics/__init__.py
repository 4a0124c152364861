"""Diagnostics are values: a code from the catalog, a severity, a message, a span and a hint.

Stages yield them; only `recipec/cli/app.py` (through `recipec/cli/commands/lint.py`) turns them into text
and exit codes. The codes and their documentation live in `recipec.diagnostics.codes.CATALOG`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from recipec.span import Span

Severity = Literal["error", "warning", "note"]
SEVERITY_RANK = {"error": 0, "warning": 1, "note": 2}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding. `span` is None only for whole-file findings with no position."""

    code: str
    severity: Severity
    message: str
    span: Span | None = None
    help: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def sort_key(self):
        s = self.span
        return (s.path if s else "", s.line if s else 0, s.col if s else 0, self.code, self.message)


def error(code: str, message: str, span: Span | None, help: str | None = None) -> Diagnostic:
    return Diagnostic(code, "error", message, span, help)


def warning(code: str, message: str, span: Span | None, help: str | None = None) -> Diagnostic:
    return Diagnostic(code, "warning", message, span, help)


def note(code: str, message: str, span: Span | None, help: str | None = None) -> Diagnostic:
    return Diagnostic(code, "note", message, span, help)


def did_you_mean(name: str, candidates, n: int = 1) -> str | None:
    """A `did you mean X?` hint for `name` among `candidates`, or None when nothing is close."""
    import difflib

    cands = list(candidates)
    close = difflib.get_close_matches(name, cands, n=n, cutoff=0.6)
    if not close:
        low = {c.lower(): c for c in cands}
        close = [low[c] for c in difflib.get_close_matches(name.lower(), list(low), n=n, cutoff=0.6)]
    if not close:
        return None
    return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"


__all__ = ["Diagnostic", "Severity", "SEVERITY_RANK", "error", "warning", "note", "did_you_mean", "Span"]
