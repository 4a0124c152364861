"""The vectorised planner equals a literal step-by-step manager on random LR recipes."""

from hypothesis import HealthCheck, given, settings, strategies as st

from plan_refsim import reference_lrs
from recipec.plan.manager import PlanItem, manager_order
from recipec.plan.simulate import simulate

EPOCHS = st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.3, 1.36, 2.0, 2.5, 3.0, 3.7, 4.0])
GROUPS = st.sampled_from([None, [0, 1], [2], [1]])


@st.composite
def lr_item(draw, index):
    kind = draw(st.sampled_from(["f", "f", "set", "sched"]))
    a = draw(EPOCHS)
    if kind == "f":
        b = draw(EPOCHS.filter(lambda x: x > a))
        return PlanItem("LearningRateFunctionModifier", a, b, index, dict(
            lr_func=draw(st.sampled_from(["linear", "cosine"])),
            init_lr=draw(st.sampled_from([0.0, 0.1, 0.01])),
            final_lr=draw(st.sampled_from([0.002, 0.05, 0.1])), param_groups=draw(GROUPS)))
    if kind == "set":
        return PlanItem("SetLearningRateModifier", draw(st.sampled_from([-1.0, 0.0, 1.3, 2.0])), -1,
                        index, dict(learning_rate=0.003, param_groups=draw(GROUPS)))
    cls = draw(st.sampled_from(["StepLR", "ExponentialLR", "MultiStepLR", "CosineAnnealingWarmRestarts"]))
    end = draw(st.sampled_from([-1.0, a + 1.0, a + 1.9, a + 2.55, a + 3.0]))
    kw = {"StepLR": dict(gamma=0.5, step_size=draw(st.sampled_from([1.0, 1.5]))), "ExponentialLR": dict(gamma=0.9),
          "MultiStepLR": dict(gamma=0.5, milestones=[a + 0.5, a + 0.75, a + 0.75]),
          "CosineAnnealingWarmRestarts": dict(lr_min=0.001, cycle_epochs=1)}[cls]
    return PlanItem("LearningRateModifier", a, end, index,
                    dict(lr_class=cls, lr_kwargs=kw, init_lr=draw(st.sampled_from([0.1, 0.02]))))


@st.composite
def recipes(draw):
    n = draw(st.integers(1, 4))
    items = [PlanItem("EpochRangeModifier", 0, 6, 0)]
    items += [draw(lr_item(i + 1)) for i in range(n)]
    return items


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=recipes(), s=st.sampled_from([1, 2, 3, 4, 7, 10, 100]))
def test_plan_matches_reference(items, s):
    plan = simulate(items, s)
    ref = reference_lrs(manager_order(items), s, plan.total_steps)
    for i in range(plan.total_steps):
        assert plan.lr_at(i) == ref[i], (i, plan.lr_at(i), ref[i])
