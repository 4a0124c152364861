"""RC401: a SetLearningRateModifier that an active LR schedule overwrites on the next step.

An LR function (or torch scheduler) writes its group's LR every step of its window, so a SetLR
that fires inside that window on a shared group holds for one step at most — as in the seed's
transfer recipe, whose SetLR at the QAT start sits inside the cosine schedule.

Passes: SetLR at epoch 50 after a schedule that ended at 50   Fails: SetLR at 50 inside a schedule to 52
"""

from recipec.check._util import fmt, groups, window
from recipec.diagnostics import warning

CODES = ("RC401",)


def overwrites(recipe):
    """(SetLR, schedule, SetLR epoch, schedule end) for every SetLR a running schedule overwrites."""
    sets = recipe.by_kind("SetLearningRateModifier")
    scheds = recipe.by_kind("LearningRateFunctionModifier", "LearningRateModifier")
    for s in sets:
        at = max(s.start, 0.0)
        for f in scheds:
            lo, hi = window(f)
            if lo <= at < hi and groups(s) & groups(f):
                yield s, f, at, hi
                break


def check(recipe, model):
    for s, f, at, hi in overwrites(recipe):
        line = f.span.line if f.span else "?"
        yield warning("RC401", f"SetLearningRateModifier at epoch {fmt(at)} is overwritten by the "
                      f"{f.kind} (line {line}) running until epoch {fmt(hi)}", s.tag_span,
                      f"end that schedule at {fmt(at)}, or start the SetLR at {fmt(hi)} or later")
