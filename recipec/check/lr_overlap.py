"""RC402: two LR schedules drive the same param group at the same time (the later one in SparseML's
sort order wins every step, silently).

Passes: warm-up [0, 2) on groups [0, 1] and cosine [2, 52) on all   Fails: two schedules over [0, 10) on all groups
"""

from recipec.check._util import fmt, groups, overlap, window
from recipec.diagnostics import warning

CODES = ("RC402",)


def check(recipe, model):
    scheds = recipe.by_kind("LearningRateFunctionModifier", "LearningRateModifier")
    for i, a in enumerate(scheds):
        for b in scheds[i + 1:]:
            wa, wb = window(a), window(b)
            shared = groups(a) & groups(b)
            if overlap(wa, wb) and shared:
                lo, hi = max(wa[0], wb[0]), min(wa[1], wb[1])
                yield warning("RC402", f"{b.kind} and the {a.kind} on line {a.span.line if a.span else '?'} both "
                              f"drive param group(s) {sorted(shared)} during epochs [{fmt(lo)}, {fmt(hi)})",
                              b.tag_span, "split their windows or their param_groups")
