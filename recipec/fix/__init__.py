"""`recipec lint --fix`: span-based rewrites of the source text for fixable diagnostics.

A fixer looks at one diagnostic (its code, span and the source text there) and the compiled
recipe, and returns a `Fix`: a few `Edit`s at exact source spans, never a re-dump of the YAML,
so comments, key order, anchors and formatting elsewhere stay byte-identical. `unsafe` fixes
change the schedule (the plan); `recipec lint --fix` applies them only with `--unsafe-fixes`.

    fixes = find_fixes(recipe, text, diagnostics)   # {diagnostic: Fix}
    new_text, applied = apply_fixes(text, fixes.values())

Which codes have a fixer, and what it does, is `recipec.diagnostics.codes.FIXES` (shown by
`recipec explain` and in docs/diagnostics.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from recipec.fix.edits import Edit, Fix, apply_edits, line_starts


def _fixers() -> Mapping:
    from recipec.fix import numbers, set_lr, tags

    return {"RC109": tags.fix, "RC213": numbers.fix, "RC401": set_lr.fix}


def find_fixes(recipe, text: str, diagnostics: Iterable) -> dict:
    """{diagnostic: Fix} for every diagnostic a fixer can resolve in `text`."""
    fixers = _fixers()
    starts = line_starts(text)
    out = {}
    for d in diagnostics:
        fixer = fixers.get(d.code)
        if fixer is None or d.span is None:
            continue
        fix = fixer(d, text, starts, recipe)
        if fix is not None:
            out[d] = fix
    return out


def apply_fixes(text: str, fixes: Iterable[Fix]) -> tuple[str, list[Fix]]:
    """Apply whole fixes (all of a fix's edits or none); returns the new text and the fixes applied."""
    applied: list[Fix] = []
    edits: list[Edit] = []
    for f in fixes:
        trial = edits + list(f.edits)
        _new, done = apply_edits(text, trial)
        if len(done) == len(trial):
            edits = trial
            applied.append(f)
    new, _done = apply_edits(text, edits)
    return new, applied


__all__ = ["Edit", "Fix", "find_fixes", "apply_fixes"]
