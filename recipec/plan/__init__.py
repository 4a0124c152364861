"""recipec.plan: pure schedule functions of the optimizer step (no torch).

`simulate(items, steps_per_epoch)` plans primitive `PlanItem`s; `build_plan(recipe, S)` (in
`build.py`) plans a compiled `Recipe`. The engine queries the returned `Plan` per step:
`lr_at(step)`, `pruning[k].sparsity_at(step)` / `update_steps`, `qat.state_at(step)`,
`weight_decay_at(step)`.
"""

from recipec.plan.clock import epoch_array, epoch_at, first_step_at_or_after
from recipec.plan.manager import PlanItem, manager_order
from recipec.plan.model import PLAN_VERSION, ModifierSpan, Plan, PruningSchedule, WeightDecayWrite
from recipec.plan.qat import QAT_STATES, QatSchedule
from recipec.plan.simulate import simulate

__all__ = [
    "Plan", "PLAN_VERSION", "PruningSchedule", "QatSchedule", "WeightDecayWrite", "ModifierSpan", "PlanItem",
    "QAT_STATES", "simulate", "manager_order", "epoch_at", "epoch_array",
    "first_step_at_or_after",
]


def build_plan(recipe, steps_per_epoch: int, *, base_lr: float = 0.01, num_groups: int = 3,
               **kw) -> Plan:
    """Plan a compiled `Recipe` (see `recipec.plan.build.build_plan`)."""
    from recipec.plan.build import build_plan as _build

    return _build(recipe, steps_per_epoch, base_lr=base_lr, num_groups=num_groups, **kw)


__all__.append("build_plan")
