"""RC404: the recipe has no EpochRangeModifier, so the run length is the largest epoch any modifier
names (SparseML's max_epochs) — easy to get wrong when a window ends early.

Passes: a recipe with `- !EpochRangeModifier {start_epoch: 0, end_epoch: 50}`   Fails: one without (note)
"""

from recipec.diagnostics import note

CODES = ("RC404",)


def check(recipe, model):
    if recipe.modifiers and not recipe.by_kind("EpochRangeModifier"):
        first = recipe.modifiers[0]
        yield note("RC404", f"no EpochRangeModifier: the run lasts until epoch {recipe.max_epochs:g}, the last "
                   "epoch any modifier names", first.tag_span,
                   "add `- !EpochRangeModifier {start_epoch: 0.0, end_epoch: ...}` to state the run length")
