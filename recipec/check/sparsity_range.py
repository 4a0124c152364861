"""RC306: sparsities. `init_sparsity` in [0, 1]; `final_sparsity` (float, list or mapping keys) in (0, 1).

Passes: `final_sparsity: 0.8`   Fails: `final_sparsity: 1.0`
"""

from recipec.diagnostics import error

CODES = ("RC306",)
_OPEN = ("final_sparsity", "compression_sparsity", "forward_sparsity", "backward_sparsity")


def check(recipe, model):
    for m in recipe.modifiers:
        v = getattr(m, "init_sparsity", None)
        if isinstance(v, float) and not 0.0 <= v <= 1.0:
            yield error("RC306", f"init_sparsity of {v:g} must lie in [0, 1]", m.span_of("init_sparsity"))
        for name in _OPEN:
            v = getattr(m, name, None)
            vals = list(v) if isinstance(v, (list, dict)) else [v]
            for x in vals:
                if isinstance(x, float) and not 0.0 < x < 1.0:
                    yield error("RC306", f"{name} of {x:g} must lie in (0, 1)", m.span_of(name),
                                "a sparsity is the fraction of weights set to zero" if x > 1 else None)
                    break
