"""RC317/RC318/RC321: LearningRateModifier's `lr_class` and `lr_kwargs`.

StepLR needs gamma and step_size; MultiStepLR gamma and milestones (each after start_epoch and,
when end_epoch >= 0, before it); CosineAnnealingWarmRestarts lr_min and cycle_epochs.
ExponentialLR applies gamma once per epoch in SparseML.

Passes: `{lr_class: StepLR, lr_kwargs: {gamma: 0.1, step_size: 30}}`   Fails: `{lr_class: StepLR, lr_kwargs: {gamma: 0.1}}`
"""

from recipec.diagnostics import error, note

CODES = ("RC317", "RC318", "RC321")
NEEDS = {"StepLR": ("gamma", "step_size"), "MultiStepLR": ("gamma", "milestones"),
         "ExponentialLR": ("gamma",), "CosineAnnealingWarmRestarts": ("lr_min", "cycle_epochs")}


def check(recipe, model):
    for m in recipe.by_kind("LearningRateModifier"):
        kw = m.lr_kwargs if isinstance(m.lr_kwargs, dict) else None
        if kw is None or m.lr_class not in NEEDS:
            continue
        for k in NEEDS[m.lr_class]:
            if k not in kw:
                yield error("RC317", f"{k} must be in lr_kwargs for {m.lr_class}", m.span_of("lr_kwargs"))
        if m.lr_class == "ExponentialLR":
            yield note("RC321", "SparseML applies ExponentialLR's gamma once per epoch (as StepLR, step_size 1)",
                       m.span_of("lr_class"))
        ms = kw.get("milestones")
        if m.lr_class == "MultiStepLR" and isinstance(ms, list):
            s, e = m.start_epoch, m.end_epoch
            nums = [x for x in ms if isinstance(x, (int, float))]
            if isinstance(s, float) and any(x <= s for x in nums):
                yield error("RC318", f"milestones {ms} all must be greater than start_epoch {s:g}",
                            m.span_of("lr_kwargs"))
            if isinstance(e, float) and e >= 0 and any(x >= e for x in nums):
                yield error("RC318", f"milestones {ms} all must be less than end_epoch {e:g}", m.span_of("lr_kwargs"))
