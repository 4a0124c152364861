"""RC326: PerLayerDistillationModifier's student and teacher layer lists must have equal lengths.

Passes: `student_layer_names: [a, b], teacher_layer_names: [a, b]`   Fails: `[a, b]` vs `[a]`
"""

from recipec.diagnostics import error

CODES = ("RC326",)


def check(recipe, model):
    for m in recipe.by_kind("PerLayerDistillationModifier"):
        s, t = m.student_layer_names, m.teacher_layer_names
        if isinstance(s, list) and isinstance(t, list) and len(s) != len(t):
            yield error("RC326", f"student and teacher layer names must have the same number of elements "
                        f"({len(s)} vs {len(t)})", m.span_of("teacher_layer_names"))
