"""`build_plan(recipe, steps_per_epoch)`: the compiled IR -> a `Plan` with its RC5xx checks.

The one entry point the engine and `recipec plan` use. It adapts each modifier spec to a
primitive `PlanItem` (kind, start/end epoch, SparseML field values, spans, file position), runs
the manager simulation (`simulate.py`) and the plan-level checks (`checks.py`).
"""

from __future__ import annotations

from dataclasses import replace

from recipec.plan.checks import plan_checks
from recipec.plan.manager import PlanItem
from recipec.plan.model import Plan
from recipec.plan.simulate import simulate


def _epoch(v, default: float = -1.0) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return default
    return float(v)


def item_from_spec(spec, index: int) -> PlanItem:
    """The planner's view of one modifier spec (SparseML forces `end_epoch = -1` where its
    schedule rule has no end comparator: SetLearningRate, SetWeightDecay, ...)."""
    values = spec.values() if hasattr(spec, "values") else dict(vars(spec))
    start = _epoch(values.get("start_epoch"))
    end = _epoch(values.get("end_epoch"))
    if getattr(spec, "end_comparator", -1) is None:
        end = -1.0
    return PlanItem(
        kind=spec.kind, start_epoch=start, end_epoch=end, index=index, fields=values,
        stage=getattr(spec, "stage", None), span=getattr(spec, "span", None),
        field_spans=dict(getattr(spec, "field_spans", {}) or {}),
        runnable=bool(getattr(spec, "runnable", True)),
    )


def items_from_recipe(recipe) -> list[PlanItem]:
    """One `PlanItem` per modifier, in file order (stages flattened)."""
    return [item_from_spec(m, i) for i, m in enumerate(recipe.modifiers)]


def build_plan(recipe, steps_per_epoch: int, *, base_lr: float = 0.01, num_groups: int = 3,
               epochs: int | None = None, checks: bool = True,
               fixed_from_epochs: set[int] | None = None,
               epochs_override: float | None = None, prior=()) -> Plan:
    """Plan `recipe` at `steps_per_epoch` batches per epoch.

    * `base_lr`: the LR of steps and groups that no modifier has written (YOLOv5's lr0);
    * `num_groups`: optimizer param groups (0 = BN weights, 1 = weights, 2 = biases);
    * `epochs`: run length; default the manager's max_epochs (what SparseML/YOLOv5 use);
    * `fixed_from_epochs` / `epochs_override`: from `--epochs`, the file indices of modifiers
      whose start does not follow `num_epochs`, and the value given (for RC505's help);
    * `prior`: the front end's diagnostics, so a finding lint already made is not repeated.
    Raises ValueError only for `steps_per_epoch < 1`.
    """
    items = items_from_recipe(recipe)
    plan = simulate(items, steps_per_epoch, base_lr=base_lr, num_groups=num_groups, epochs=epochs)
    if not checks:
        return plan
    diags = plan_checks(plan, items, fixed_from_epochs=fixed_from_epochs,
                        epochs_override=epochs_override, prior=prior)
    return replace(plan, diagnostics=tuple(diags))
