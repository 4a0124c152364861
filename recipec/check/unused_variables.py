"""RC210: a variable that no `eval()` and no alias uses.

Passes: `num_epochs: 30` used by `end_epoch: eval(num_epochs)`   Fails: `spare: 3` used nowhere
"""

from recipec.diagnostics import warning

CODES = ("RC210",)


def check(recipe, model):
    for key, v in recipe.variables.items():
        if v.uses == 0 and not v.name.startswith("_"):
            yield warning("RC210", f"variable `{v.name}` is never used", v.key_span,
                          "remove it, or use it as `eval(" + v.name + ")`")
