"""RC320: `cyclic_linear` needs `cycle_epochs > 0` (SparseML's own check is dead code: a modulo by zero).

Passes: `{lr_func: cyclic_linear, cycle_epochs: 1.0}`   Fails: `{lr_func: cyclic_linear, cycle_epochs: 0}`
"""

from recipec.diagnostics import error

CODES = ("RC320",)


def check(recipe, model):
    for m in recipe.by_kind("LearningRateFunctionModifier"):
        if m.lr_func == "cyclic_linear" and isinstance(m.cycle_epochs, float) and m.cycle_epochs <= 0:
            yield error("RC320", f"cycle_epochs of {m.cycle_epochs:g} must be > 0 for cyclic_linear",
                        m.span_of("cycle_epochs"))
