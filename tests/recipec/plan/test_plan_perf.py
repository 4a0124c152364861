"""A 300-epoch recipe at 1000 steps per epoch (300k steps x 3 groups) plans well under a second."""

import time

from recipec.plan.manager import PlanItem as P
from recipec.plan.simulate import simulate


def test_300_epochs_at_1000_steps_plans_fast():
    items = [
        P("EpochRangeModifier", 0, 300, 0),
        P("LearningRateFunctionModifier", 3, 300, 1, dict(lr_func="cosine", init_lr=0.01, final_lr=0.002)),
        P("LearningRateFunctionModifier", 0, 3, 2, dict(lr_func="linear", init_lr=0.0, final_lr=0.01,
                                                          param_groups=[0, 1])),
        P("LearningRateFunctionModifier", 0, 3, 3, dict(lr_func="linear", init_lr=0.1, final_lr=0.01,
                                                          param_groups=[2])),
        P("SetLearningRateModifier", 298, -1, 4, dict(learning_rate=2e-6)),
        P("GMPruningModifier", 4, 100, 5, dict(init_sparsity=0.05, final_sparsity=0.8,
                                               update_frequency=0.2)),
        P("LearningRateModifier", 290, -1, 6, dict(lr_class="StepLR", init_lr=0.001,
                                                   lr_kwargs=dict(gamma=0.9, step_size=0.01))),
        P("QuantizationModifier", 298, -1, 7),
    ]
    t = time.perf_counter()
    plan = simulate(items, 1000)
    dt = time.perf_counter() - t
    assert plan.total_steps == 300_000 and plan.lr.shape == (300_000, 3)
    assert dt < 1.0, f"planning took {dt:.2f}s"
