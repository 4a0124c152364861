"""Check rules: each one a module with `CODES` and `check(recipe, ctx) -> Iterable[Diagnostic]`.

`RULES` is the explicit registry (tests iterate over it). `run_checks` runs every rule and
returns their diagnostics.
"""

from __future__ import annotations

from recipec.diagnostics import Diagnostic

RULES: list = []


def run_checks(recipe, model: str | None = "auto") -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for rule in RULES:
        out.extend(rule.check(recipe, model))
    return out
