"""RC109 fixes: a modifier tag SparseML never registered, where what was meant is certain.

* an obsolete or misspelled name from real recipes (`recipec.modifiers.RENAMED`:
  `!GradualKSModifier` -> `!GMPruningModifier`, `!ConstantKSModifier` ->
  `!ConstantPruningModifier`, `!MagnutidePruningModifier` -> `!MagnitudePruningModifier`);
* `- !Tag:` with a trailing colon, where `Tag` is a known modifier.

Other unknown names (a guess by similarity) are left to the author.
"""

from __future__ import annotations

from recipec.fix.edits import Edit, Fix, text_at


def fix(diag, text: str, starts, recipe):
    from recipec.modifiers import REGISTRY, RENAMED

    old = text_at(text, diag.span, starts)
    if not old or not old.startswith("!") or diag.span.line != diag.span.end_line:
        return None
    name = old[1:]
    if name in RENAMED and RENAMED[name] in REGISTRY:
        new = RENAMED[name]
        title = f"rename `!{name}` to `!{new}`"
    elif name.endswith(":") and name[:-1] in REGISTRY:
        new = name[:-1]
        title = f"remove the `:` after `!{new}`"
    else:
        return None
    return Fix("RC109", title, (Edit.at(diag.span, old, "!" + new),))
