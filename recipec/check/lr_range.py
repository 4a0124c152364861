"""RC307/RC327: learning rates and weight decay.

SetLearningRateModifier: 0 < learning_rate <= 1. LearningRateFunctionModifier: init_lr and
final_lr in [0, 1]. LearningRateModifier: 0 < init_lr <= 1. weight_decay >= 0.

Passes: `learning_rate: 2.e-6`   Fails: `learning_rate: 0`
"""

from recipec.diagnostics import error

CODES = ("RC307", "RC327")


def check(recipe, model):
    for m in recipe.modifiers:
        if m.kind == "SetLearningRateModifier":
            v = m.learning_rate
            if isinstance(v, float) and not 0 < v <= 1:
                yield error("RC307", f"learning_rate of {v:g} must be in (0, 1]", m.span_of("learning_rate"))
        elif m.kind == "LearningRateFunctionModifier":
            for name in ("init_lr", "final_lr"):
                v = getattr(m, name)
                if isinstance(v, float) and not 0 <= v <= 1:
                    yield error("RC307", f"{name} of {v:g} must be within [0, 1]", m.span_of(name))
        elif m.kind == "LearningRateModifier":
            v = m.init_lr
            if isinstance(v, float) and not 0 < v <= 1:
                yield error("RC307", f"init_lr of {v:g} must be in (0, 1]", m.span_of("init_lr"))
        elif m.kind == "SetWeightDecayModifier":
            v = m.weight_decay
            if isinstance(v, float) and v < 0:
                yield error("RC327", f"weight_decay of {v:g} must be >= 0", m.span_of("weight_decay"))
