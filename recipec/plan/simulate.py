"""Turn modifiers (`PlanItem`s) into a `Plan`: the SparseML manager, simulated without torch.

Horizon: `epochs` = the manager's `max_epochs` (every modifier's ceil(start) and ceil(end)
count, EpochRangeModifier included) unless given; `total_steps = epochs * S`. LR: every LR
modifier becomes ops (`lr_ops.py`) keyed by its manager rank, and `combine_lr` plays them in
step and manager order (last writer wins; groups nobody wrote use `base_lr`). Pruning, QAT and
weight decay have their own clocks and do not interact.
"""

from __future__ import annotations

from collections.abc import Sequence

from recipec.modifiers import LR_KINDS
from recipec.plan.clock import epoch_array
from recipec.plan.lr_modifiers import lr_function_ops, lr_function_window, set_lr_ops, set_lr_step
from recipec.plan.lr_ops import combine_lr
from recipec.plan.lr_scheduler import simulate_lr_modifier
from recipec.plan.manager import PlanItem, manager_order
from recipec.plan.model import ModifierSpan, Plan, PruningSchedule, WeightDecayWrite
from recipec.plan.pruning import EPS, interpolate_sparsity, update_steps
from recipec.plan.pruning_kinds import CONSTANT_TARGET, acdc_updates, constant_updates, group_finals
from recipec.plan.qat import qat_schedule
from recipec.plan.clock import epoch_at
from recipec.plan.windows import end_step, max_epochs, start_step

LR_FUNCTION = "LearningRateFunctionModifier"
SET_LR = "SetLearningRateModifier"
LR_SCHEDULER = "LearningRateModifier"
SET_WD = "SetWeightDecayModifier"
QAT_KINDS = ("QuantizationModifier", "LegacyQuantizationModifier")
POINT_KINDS = (SET_LR, SET_WD, "SetParamModifier")


def is_pruning(kind: str) -> bool:
    """Kinds reported in the plan's `sparsity` column."""
    return kind.endswith("PruningModifier")


def is_stepwise_pruning(item: PlanItem) -> bool:
    """GMP-style modifiers: a scalar-able target interpolated on an update clock."""
    return (is_pruning(item.kind) and item.kind != "ConstantPruningModifier"
            and all(item.get(f) is not None
                    for f in ("init_sparsity", "final_sparsity", "update_frequency")))


def _num(v, default=None):
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else default


def scalar_final(final) -> float | None:
    """The final sparsity the plan reports: the value, or the max of a list / dict's keys."""
    if isinstance(final, dict):
        vals = [_num(k) for k in final]
    elif isinstance(final, (list, tuple)):
        vals = [_num(v) for v in final]
    else:
        vals = [_num(final)]
    vals = [v for v in vals if v is not None]
    return max(vals) if vals else None


def _progress(e: float, start: float, end: float, inter_func: str) -> float:
    """SparseML's y for one update (0 -> init, 1 -> final), via interpolate on (0, 1)."""
    return interpolate_sparsity(e, start, end, 0.0, 1.0, inter_func)


def pruning_schedule(item: PlanItem, S: int, T: int) -> PruningSchedule:
    """The schedule of one modifier whose kind ends in PruningModifier."""
    st = start_step(item.start_epoch, S)
    st = st if st < T else None
    en = end_step(item.start_epoch, item.end_epoch, S)
    en = en if (en is not None and en < T) else None
    leave = bool(item.get("leave_enabled", True))
    if item.kind == "ConstantPruningModifier":
        leave = False
    runs = item.runnable
    if item.kind == "ACDCPruningModifier" or item.kind in CONSTANT_TARGET:
        ups = (acdc_updates if item.kind == "ACDCPruningModifier" else constant_updates)(item, S, T)
        if ups is not None:
            return PruningSchedule(item.label, item.kind, item.index, st, en, leave, ups, runs=runs)
    if not is_stepwise_pruning(item):
        return PruningSchedule(item.label, item.kind, item.index, st, en, leave, stepwise=False, runs=runs)
    init = _num(item.get("init_sparsity"))
    final = scalar_final(item.get("final_sparsity"))
    freq = _num(item.get("update_frequency"), -1.0)
    func = str(item.get("inter_func", "cubic"))
    ups, prog = {}, {}
    for u in update_steps(item.start_epoch, item.end_epoch, freq, S, T):
        y = _progress(epoch_at(u, S), item.start_epoch, item.end_epoch, func)
        prog[u] = y
        i0 = 0.0 if init is None else init
        if final is None:
            continue
        ups[u] = i0 if y <= EPS else final if y >= 1.0 - EPS else y * (final - i0) + i0
    return PruningSchedule(item.label, item.kind, item.index, st, en, leave, ups, prog,
                           init_sparsity=init, stepwise=True,
                           group_finals=group_finals(item.get("final_sparsity")), runs=runs)


def _span(item: PlanItem, rank: int, S: int, T: int) -> ModifierSpan:
    st = start_step(item.start_epoch, S)
    if st >= T:
        return ModifierSpan(item.label, item.kind, item.index, rank, None, None)
    if item.kind in POINT_KINDS:
        return ModifierSpan(item.label, item.kind, item.index, rank, st, st, point=True)
    en = end_step(item.start_epoch, item.end_epoch, S)
    last = None if en is None or en >= T else en
    return ModifierSpan(item.label, item.kind, item.index, rank, st, last)


def horizon(items: Sequence[PlanItem]) -> int:
    """SparseML's `max_epochs` over the recipe's modifiers (-1 when none sets an epoch)."""
    return max_epochs((it.start_epoch, it.end_epoch) for it in items)


def simulate(items: Sequence[PlanItem], steps_per_epoch: int, *, base_lr: float = 0.01,
             num_groups: int = 3, epochs: int | None = None) -> Plan:
    """Plan the modifiers at `steps_per_epoch`. Raises ValueError on S < 1 or a bad LR scheduler."""
    S = int(steps_per_epoch)
    if S < 1:
        raise ValueError("steps_per_epoch must be >= 1")
    E = horizon(items) if epochs is None else int(epochs)
    E = max(E, 0)
    T = E * S
    order = manager_order(items)
    rank = {it.index: r for r, it in enumerate(order)}
    e_all = epoch_array(T, S)

    ops: list = []
    problems: list[tuple[int, str]] = []
    lrm = [it for it in order if it.kind == LR_SCHEDULER]
    # torch `initial_lr`: set by the first LearningRateModifier scheduler built on the optimizer.
    initial = None
    created = []
    for it in lrm:
        try:
            _o, c = _lrm(it, S, T, rank[it.index], None)
        except (ValueError, KeyError, TypeError, ZeroDivisionError) as exc:
            problems.append((it.index, f"{type(exc).__name__}: {exc}"))
            continue
        if c is not None:
            created.append((c, rank[it.index], float(it.get("init_lr"))))
    if created:
        initial = min(created)[2]
    bad = {i for i, _m in problems}
    for it in order:
        r = rank[it.index]
        try:
            if it.kind == LR_FUNCTION:
                ops += lr_function_ops(
                    str(it.get("lr_func")), float(it.get("init_lr")), float(it.get("final_lr")),
                    it.start_epoch, it.end_epoch, S, T, param_groups=it.get("param_groups"),
                    cycle_epochs=float(it.get("cycle_epochs", 1.0)), rank=r, epochs=e_all)
            elif it.kind == SET_LR:
                ops += set_lr_ops(float(it.get("learning_rate")), it.start_epoch, S, T,
                                  param_groups=it.get("param_groups"), rank=r)
            elif it.kind == LR_SCHEDULER and it.index not in bad:
                ops += _lrm(it, S, T, r, initial)[0]
        except (ValueError, KeyError, TypeError, ZeroDivisionError) as exc:
            problems.append((it.index, f"{type(exc).__name__}: {exc}"))
    lr = combine_lr(ops, T, num_groups, float(base_lr))
    lr.setflags(write=False)

    pruning = tuple(pruning_schedule(it, S, T) for it in sorted(items, key=lambda x: x.index)
                    if is_pruning(it.kind))
    qat = None
    for it in sorted((i for i in items if i.kind in QAT_KINDS), key=lambda i: (i.start_epoch, i.index)):
        qat = qat_schedule(it.start_epoch, _num(it.get("freeze_bn_stats_epoch")),
                           _num(it.get("disable_quantization_observer_epoch")), S, T)
        break
    wd = []
    for it in order:
        if it.kind == SET_WD:
            st = start_step(it.start_epoch, S)
            if st < T:
                g = it.get("param_groups")
                wd.append((st, rank[it.index], WeightDecayWrite(
                    st, None if not g else tuple(int(x) for x in g),
                    float(it.get("weight_decay")), it.label)))
    wd.sort(key=lambda t: (t[0], t[1]))
    spans = tuple(_span(it, rank[it.index], S, T) for it in sorted(items, key=lambda x: x.index))
    for it in order:
        if it.kind == SET_WD:
            groups = it.get("param_groups") or []
            out = [g for g in groups if not 0 <= int(g) < num_groups]
            if out:
                problems.append((it.index, f"IndexError: param_groups {out} out of range for an "
                                           f"optimizer with {num_groups} groups"))
    return Plan(S, E, T, int(num_groups), float(base_lr), lr, pruning, qat,
                tuple(w for _s, _r, w in wd), spans, problems=tuple(problems))


def _lrm(it: PlanItem, S: int, T: int, r: int, initial):
    return simulate_lr_modifier(it.get("lr_class"), dict(it.get("lr_kwargs") or {}),
                                float(it.get("init_lr")), it.start_epoch, it.end_epoch,
                                S, T, rank=r, initial_lr=initial)


__all__ = ["simulate", "horizon", "is_pruning", "is_stepwise_pruning", "pruning_schedule",
           "set_lr_step", "lr_function_window", "LR_KINDS"]
