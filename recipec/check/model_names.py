"""RC602/RC603/RC604: `params` names and `re:` patterns, and module names (`submodules`, `layers`,
distillation layer names), that match nothing in the model; with the nearest real names.

SparseML matches `re:` patterns with `re.match` (anchored at the start only) and other entries
exactly; a pruning modifier whose entry matches nothing fails at its start, hours into a run.

Passes: `params: ["re:model.*.conv.weight"]`   Fails: `params: [model.0.conv.weights]`
"""

from __future__ import annotations

from recipec.check.model import MODULE_FIELDS, compiled, matches, recipe_names, select
from recipec.diagnostics import error

CODES = ("RC602", "RC603", "RC604")


def _nearest(entry: str, pool) -> str | None:
    import difflib

    body = entry[3:] if entry.startswith("re:") else entry
    close = difflib.get_close_matches(body, list(pool), n=2, cutoff=0.6)
    if not close:
        return None
    return "nearest: " + ", ".join(f"`{c}`" for c in close)


def check(recipe, model):
    mn, notes = select(recipe, model)
    yield from notes
    if mn is None:
        return
    for m, f, e, sp in recipe_names(recipe):
        is_module = f in MODULE_FIELDS
        pool = mn.modules if is_module else mn.params
        if e.startswith("re:") and compiled(e[3:]) is None:
            yield error("RC602", f"`{e}` is not a valid regular expression", sp)
            continue
        if matches(e, pool):
            continue
        code = "RC603" if is_module else "RC602"
        what = "module" if is_module else "parameter"
        yield error(code, f"`{e}` matches no {what} of {mn.cfg}", sp, _nearest(e, pool))
