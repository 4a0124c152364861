"""RC308/RC323: `update_frequency` (epochs between updates) of scheduled modifiers.

It must be > 0, or -1 for every step, and should not exceed the window (end - start).
LearningRateModifier's must stay -1.

Passes: `{start_epoch: 0, end_epoch: 10, update_frequency: 0.5}`   Fails: `update_frequency: 0`
"""

from recipec.check._util import fmt
from recipec.diagnostics import error, warning

CODES = ("RC308", "RC323")


def check(recipe, model):
    for m in recipe.modifiers:
        f = getattr(m, "update_frequency", None)
        if not isinstance(f, float) or "update_frequency" not in m.given:
            continue
        if m.kind == "LearningRateModifier":
            if f != -1:
                yield error("RC323", f"update_frequency must be kept at -1 for LearningRateModifier, given {fmt(f)}",
                            m.span_of("update_frequency"))
            continue
        spec_field = next(x for x in m.spec_fields() if x.name == "update_frequency")
        if spec_field.metadata.get("ignored"):
            continue
        if f == -1:
            continue
        if f <= 0:
            yield error("RC308", f"update_frequency of {fmt(f)} must be > 0 (or -1 for every step)",
                        m.span_of("update_frequency"))
            continue
        s, e = getattr(m, "start_epoch", None), getattr(m, "end_epoch", None)
        if isinstance(s, float) and isinstance(e, float) and e > max(s, 0) and f > e - max(s, 0):
            yield warning("RC308", f"update_frequency of {fmt(f)} epochs is longer than the window "
                          f"[{fmt(s)}, {fmt(e)}): only the start and end updates happen",
                          m.span_of("update_frequency"))
