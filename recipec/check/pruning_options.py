"""RC315/RC316/RC319/RC327: options of the pruning modifiers that SparseML refuses or that surprise.

`__ALL__` selects biases and BatchNorm too (warning); a `{sparsity: [params]}` final_sparsity
needs `params: []`; `phased: true` and `score_type` other than magnitude are refused;
RigL refuses `global_sparsity: true` and `__FROM_PARAM__`; AC/DC epochs must be integers.

Passes: `params: __ALL_PRUNABLE__`   Fails: `phased: true`
"""

from recipec.check._util import GRADUAL_PRUNING
from recipec.diagnostics import error, warning

CODES = ("RC315", "RC316", "RC319", "RC327")


def check(recipe, model):
    for m in recipe.modifiers:
        if m.category == "pruning" and getattr(m, "params", None) == "__ALL__" and m.kind != "LayerPruningModifier":
            yield warning("RC315", "`__ALL__` also prunes biases and BatchNorm parameters", m.span_of("params"),
                          "use `__ALL_PRUNABLE__` (every Conv/Linear weight)")
        if m.kind in GRADUAL_PRUNING or m.kind == "RigLPruningModifier":
            fs = getattr(m, "final_sparsity", None)
            if isinstance(fs, dict) and getattr(m, "params", None) not in ([], None):
                yield error("RC316", "when final_sparsity is a mapping, params must be []", m.span_of("params"))
        if m.kind == "GMPruningModifier":
            if m.phased:
                yield error("RC319", "phased=True is no longer supported; use ACDCPruningModifier",
                            m.span_of("phased"))
            if m.score_type != "magnitude":
                yield error("RC319", f"score_type={m.score_type} is no longer supported; use the matching "
                            "modifier (e.g. MovementPruningModifier)", m.span_of("score_type"))
        if m.kind == "RigLPruningModifier":
            if m.global_sparsity:
                yield error("RC327", "RigLPruningModifier does not support global_sparsity=True",
                            m.span_of("global_sparsity"))
        if m.kind == "ACDCPruningModifier":
            for name in ("start_epoch", "end_epoch", "update_frequency"):
                v = getattr(m, name)
                if isinstance(v, float) and v != -1 and not v.is_integer():
                    yield error("RC327", f"ACDCPruningModifier needs an integer {name}, given {v:g}",
                                m.span_of(name))
        if m.kind == "LayerThinningModifier" and isinstance(m.update_epochs, list):
            ue = m.update_epochs
            if len(set(map(str, ue))) != len(ue):
                yield error("RC327", "update_epochs values may not repeat", m.span_of("update_epochs"))
            elif all(isinstance(x, (int, float)) for x in ue) and ue != sorted(ue):
                yield error("RC327", "update_epochs must be sorted", m.span_of("update_epochs"))
