"""Helpers for the front-end tests: compile a snippet, and assert diagnostics as (code, line, col)."""

from __future__ import annotations

import textwrap

from recipec.frontend import compile_recipe

HEADER = "m_modifiers:\n"


def compile_text(src: str, path: str = "t.yaml", **kw):
    return compile_recipe(path, text=textwrap.dedent(src).lstrip("\n"), **kw)


def diags(src: str, **kw) -> list[tuple[str, int, int]]:
    res = compile_text(src, **kw)
    return [(d.code, d.span.line, d.span.col) for d in res.diagnostics]


def assert_diags(src: str, *expected: tuple, only: bool = False, **kw) -> None:
    """Each expected (code, line, col) must be present; with only=True nothing else may be."""
    got = diags(src, **kw)
    for e in expected:
        assert e in got, f"expected {e}, got {got}"
    if only:
        assert sorted(got) == sorted(expected), f"expected exactly {expected}, got {got}"


def codes(src: str, **kw) -> set[str]:
    return {c for c, _, _ in diags(src, **kw)}
