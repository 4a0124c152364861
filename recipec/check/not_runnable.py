"""RC113: the modifier is known and checked, but `recipec train` does not execute it.

Passes: `- !GMPruningModifier {...}`   Fails: `- !OBSPruningModifier {...}` (warning)
"""

from recipec.diagnostics import warning

CODES = ("RC113",)


def check(recipe, model):
    for m in recipe.modifiers:
        if not m.runnable:
            yield warning("RC113", f"{m.kind} is checked, but `recipec train` will not execute it",
                          m.tag_span, "the other modifiers still run; remove it to silence this")
