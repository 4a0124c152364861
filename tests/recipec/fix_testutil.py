"""The round trip of `recipec lint --fix` on one file (shared by the fast and the slow corpus tests).

A fixed file must lint clean of every fixable finding, and compile to the same IR except where a
fix was meant to change it: a renamed tag (RC109) adds the modifier that was unknown before, an
RC401 fix changes the `end_epoch` of the LR schedule it ends; RC213 changes nothing.
"""

from __future__ import annotations

from recipec.fix import find_fixes
from recipec.fix.run import fix_text
from recipec.frontend import compile_recipe
from recipec.ir.canonical import to_data


def _modifiers(recipe, drop_lines=(), no_end_lines=()):
    out = []
    for m, data in zip(recipe.modifiers, to_data(recipe)["modifiers"]):
        if m.span is not None and m.span.line in drop_lines:
            continue
        sp = m.field_spans.get("end_epoch")
        if sp is not None and sp.line in no_end_lines:
            data = {**data, "fields": {k: v for k, v in data["fields"].items() if k != "end_epoch"}}
        out.append(data)
    return out


def round_trip(path) -> tuple[int, str]:
    """Fix `path` (safe and unsafe fixes, in memory); assert the round trip; return (fixes, new text)."""
    path = str(path)
    before = compile_recipe(path)
    if before.recipe is None:
        return 0, ""
    text = before.recipe.text
    new, applied, _skipped = fix_text(path, text, unsafe=True)
    if not applied:
        assert new == text
        return 0, new
    after = compile_recipe(path, text=new)
    assert after.recipe is not None
    left = find_fixes(after.recipe, new, after.diagnostics)
    assert not left, f"{path}: still fixable after --fix: {[(d.code, d.message) for d in left]}"
    assert len(new.splitlines()) == len(text.splitlines())
    renamed = {e.line for f in applied if f.code == "RC109" for e in f.edits}
    ended = {e.line for f in applied if f.code == "RC401" for e in f.edits}
    old_lines, new_lines = text.splitlines(), new.splitlines()
    changed = {i + 1 for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b}
    assert changed == {e.line for f in applied for e in f.edits}, f"{path}: lines changed outside the fixes"
    assert _modifiers(after.recipe, renamed, ended) == _modifiers(before.recipe, (), ended), path
    return len(applied), new
