"""RC302/RC303/RC304/RC305/RC322: start and end epochs of every modifier.

start_epoch must be >= 0 or exactly -1 (first step); end_epoch must come after start_epoch
(strictly for LR functions, or -1 where the kind allows "never ends"); `end_epoch` of
SetLR/SetWeightDecay/SetParam is ignored; QuantizationModifier allows only -1; and every window
should end inside the run's EpochRangeModifier.

Passes: `{start_epoch: 0, end_epoch: 10}`   Fails: `{start_epoch: 5, end_epoch: 3}`
"""

from recipec.check._util import fmt
from recipec.diagnostics import error, warning

CODES = ("RC302", "RC303", "RC304", "RC305", "RC322")


def check(recipe, model):
    for m in recipe.modifiers:
        s = getattr(m, "start_epoch", None)
        e = getattr(m, "end_epoch", None)
        if isinstance(s, float):
            if s < -1:
                yield error("RC302", f"start_epoch of {fmt(s)} must be >= 0 (or -1 for the first step)",
                            m.span_of("start_epoch"))
            elif -1 < s < 0:
                yield warning("RC302", f"start_epoch of {fmt(s)} is negative; use 0, or -1 for the first step",
                              m.span_of("start_epoch"))
        if not isinstance(e, float):
            continue
        if m.kind == "QuantizationModifier":
            if e != -1:
                yield error("RC305", f"end_epoch of QuantizationModifier can only be -1, given {fmt(e)}",
                            m.span_of("end_epoch"), "QAT stays on until the end of training; remove end_epoch")
            continue
        if m.end_comparator is None:
            if "end_epoch" in m.given and e != -1:
                yield warning("RC304", f"end_epoch is ignored by {m.kind} (it sets its value once)",
                              m.span_of("end_epoch"), "remove end_epoch")
            continue
        if not isinstance(s, float):
            continue
        if e < m.min_end:
            yield error("RC303", f"end_epoch of {fmt(e)} must be >= {fmt(m.min_end)} for {m.kind}",
                        m.span_of("end_epoch"))
        elif m.end_comparator == 1:
            if e <= s:
                yield error("RC303", f"end_epoch of {fmt(e)} must be greater than start_epoch of {fmt(s)} "
                            f"for {m.kind}", m.span_of("end_epoch"),
                            "LR functions need a window; -1 is not allowed as their end" if e == -1 else None)
        elif e != -1 and e < s:
            yield error("RC303", f"end_epoch of {fmt(e)} must be >= start_epoch of {fmt(s)} for {m.kind}, or -1",
                        m.span_of("end_epoch"))
        elif e != -1 and e == s and m.kind != "EpochRangeModifier" and "end_epoch" in m.given:
            yield warning("RC303", f"end_epoch equals start_epoch ({fmt(s)}): {m.kind} acts in a single step",
                          m.span_of("end_epoch"))
    rng = recipe.epoch_range
    if rng is None:
        return
    run_end = rng[1]
    if run_end <= 0:
        return
    for m in recipe.modifiers:
        if m.kind == "EpochRangeModifier":
            continue
        e = getattr(m, "end_epoch", None)
        if isinstance(e, float) and e > run_end and m.end_comparator is not None:
            yield warning("RC322", f"{m.kind} ends at epoch {fmt(e)}, after the run's EpochRangeModifier end "
                          f"({fmt(run_end)})", m.span_of("end_epoch"),
                          "the run then lasts until the latest epoch of any modifier")
