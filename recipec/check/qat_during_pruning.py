"""RC403: QAT starts while a pruning modifier is still changing sparsity.

Passes: pruning to epoch 40, QAT from 50   Fails: pruning to epoch 40, QAT from 30
"""

from recipec.check._util import GRADUAL_PRUNING, fmt
from recipec.diagnostics import warning

CODES = ("RC403",)


def check(recipe, model):
    for q in recipe.by_kind("QuantizationModifier"):
        qs = max(q.start, 0.0)
        for p in recipe.modifiers:
            if p.kind not in GRADUAL_PRUNING and p.kind not in ("ACDCPruningModifier", "RigLPruningModifier"):
                continue
            s, e = p.start, p.end
            if e < 0:
                continue
            if max(s, 0.0) <= qs < e:
                yield warning("RC403", f"QAT starts at epoch {fmt(qs)} while {p.kind} (line "
                              f"{p.span.line if p.span else '?'}) is still pruning until epoch {fmt(e)}",
                              q.span_of("start_epoch"), "start QAT after pruning has reached final_sparsity")
                break
