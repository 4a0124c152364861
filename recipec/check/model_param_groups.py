"""RC601: `param_groups` indices outside the model's optimizer groups.

recipec's YOLOv5 has 3 groups in the order of the YOLOv5 fork SparseML's recipes were written
for: 0 = BatchNorm weights, 1 = other weights (with decay), 2 = biases (names: bn, weights,
biases). A PerLayerDistillationModifier with `project_features` adds a fourth group.

Passes: `param_groups: [0, 1]`   Fails: `param_groups: [3]`
"""

from recipec.check.model import select
from recipec.diagnostics import error

CODES = ("RC601",)


def check(recipe, model):
    if model in (None, "none"):
        return
    mn, _ = select(recipe, model)
    if mn is None:
        return
    n = mn.num_groups + any(m.project_features for m in recipe.by_kind("PerLayerDistillationModifier"))
    for m in recipe.modifiers:
        pg = getattr(m, "param_groups", None) if "param_groups" in m.given else None
        if not isinstance(pg, list):
            continue
        bad = [g for g in pg if isinstance(g, int) and not 0 <= g < n]
        if bad:
            yield error("RC601", f"param_groups {bad} outside the model's {n} optimizer groups (0..{n - 1})",
                        m.span_of("param_groups"), "YOLOv5 groups: 0 = bn, 1 = weights, 2 = biases")
