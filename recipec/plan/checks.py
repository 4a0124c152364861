"""Plan-level checks: findings that depend on steps_per_epoch and the run length (RC5xx).

`plan_checks(plan, items, fixed_from_epochs=...)` yields `Diagnostic` values; codes and their
documentation are in the one catalog, `recipec/diagnostics/codes.py` (RC5xx). They explain what
the plan shows where SparseML's behaviour surprises (a SetLearningRate that lasts one step, an LR
that overshoots after an off-grid end) and what never happens (a start after the end of the run,
a final sparsity never applied).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from recipec.diagnostics import Diagnostic, error, note, warning
from recipec.plan.clock import epoch_at, is_on_grid
from recipec.plan.manager import PlanItem
from recipec.plan.model import Plan
from recipec.plan.simulate import LR_FUNCTION, LR_KINDS, QAT_KINDS, SET_LR, is_stepwise_pruning
from recipec.plan.windows import end_step, start_step


def _span(item: PlanItem, name: str | None = None):
    if name and name in item.field_spans:
        return item.field_spans[name]
    return item.span


def _fmt(x: float) -> str:
    return f"{x:g}"


def plan_checks(plan: Plan, items: Sequence[PlanItem], *,
                fixed_from_epochs: set[int] | None = None,
                epochs_override: float | None = None,
                prior: Iterable[Diagnostic] = ()) -> list[Diagnostic]:
    """All plan-level findings. `fixed_from_epochs`: file indices of modifiers whose start does
    not depend on `num_epochs` while `--epochs` (= `epochs_override`) changed it. `prior`: the
    front end's diagnostics; a SetLR already reported by lint (RC401) gets no RC506 repeat."""
    out: list[Diagnostic] = []
    S, T, E = plan.steps_per_epoch, plan.total_steps, plan.epochs
    if E <= 0:
        out.append(error("RC512", "no modifier sets an epoch: the run length (max_epochs) is "
                         "undefined", items[0].span if items else None,
                         "add an EpochRangeModifier with start_epoch 0 and end_epoch num_epochs"))
        return out
    out += _starts_after_end(plan, items, fixed_from_epochs or set(), epochs_override)
    out += _zero_step_windows(plan, items)
    linted = {(d.span.path, d.span.line) for d in prior if d.code == "RC401" and d.span}
    out += [d for d in _lr_checks(plan, items)
            if not (d.code == "RC506" and _modifier_at(d, items, linted))]
    out += _problems(plan, items)
    out += _pruning_checks(plan, items)
    qats = [it for it in items if it.kind in QAT_KINDS]
    if len(qats) > 1:
        out.append(warning("RC510", f"{len(qats)} QuantizationModifiers: the plan follows the "
                           "earliest", _span(qats[1])))
    return out


def _modifier_at(d: Diagnostic, items, linted) -> bool:
    """Whether `d` is about a modifier whose own span line is in `linted`."""
    for it in items:
        if it.span is not None and d.message.startswith(it.label + ":"):
            return (it.span.path, it.span.line) in linted
    return False


def _starts_after_end(plan, items, fixed, override) -> Iterable[Diagnostic]:
    for it in items:
        if it.start_epoch >= 0 and it.start_epoch >= plan.epochs:
            msg = (f"{it.label} starts at epoch {_fmt(it.start_epoch)}, at or after the end of the "
                   f"run (epoch {plan.epochs}): it never acts")
            hlp = None
            if it.index in fixed and override is not None:
                hlp = (f"start_epoch {_fmt(it.start_epoch)} does not depend on num_epochs; "
                       f"--epochs {_fmt(override)} moved the end of the run before it")
            yield warning("RC505", msg, _span(it, "start_epoch"), hlp)


def _zero_step_windows(plan, items) -> Iterable[Diagnostic]:
    S = plan.steps_per_epoch
    for it in items:
        if it.end_epoch < 0 or it.end_epoch <= it.start_epoch or it.kind in (SET_LR,):
            continue
        if it.kind == "EpochRangeModifier":
            continue
        a = start_step(it.start_epoch, S)
        b = end_step(it.start_epoch, it.end_epoch, S)
        if a == b and a < plan.total_steps:
            yield warning("RC501", f"{it.label}: window {_fmt(it.start_epoch)}..{_fmt(it.end_epoch)} "
                          f"rounds to zero steps at {S} steps per epoch (starts and ends at step {a})",
                          _span(it, "end_epoch"))


def _lr_checks(plan: Plan, items) -> Iterable[Diagnostic]:
    S, T = plan.steps_per_epoch, plan.total_steps
    lr_items = [it for it in items if it.kind in LR_KINDS]
    last_driven = -1
    for it in lr_items:
        a = start_step(it.start_epoch, S)
        if a >= T:
            continue
        if it.kind == SET_LR:  # a set value is meant to hold: it covers the rest of the run
            last_driven = T - 1
            continue
        b = end_step(it.start_epoch, it.end_epoch, S)
        last_driven = max(last_driven, T - 1 if b is None else min(b, T - 1))
        if it.kind == LR_FUNCTION and b is not None and b < T and not is_on_grid(it.end_epoch, S):
            final = it.get("final_lr")
            groups = it.get("param_groups")
            g = 0 if not groups else int(groups[0])
            if 0 <= g < plan.num_groups:
                held = plan.lr[b, g]
                yield note("RC507", f"{it.label}: end_epoch {_fmt(it.end_epoch)} falls between steps "
                           f"at {S} steps per epoch; the LR at its end step {b} is {held:.6g}, "
                           f"not final_lr {_fmt(float(final))}, and holds", _span(it, "end_epoch"))
    if lr_items and 0 <= last_driven < T - 1:
        g_vals = ", ".join(f"{v:.6g}" for v in plan.lr[T - 1])
        yield warning("RC502", f"no LR modifier acts after step {last_driven} (epoch "
                      f"{epoch_at(last_driven, S):.4g}); the last {T - 1 - last_driven} steps hold "
                      f"the LR at [{g_vals}]", _span(lr_items[-1], "end_epoch"),
                      "extend an LR modifier's end_epoch to the end of the run")
    for it in lr_items:
        if it.kind != SET_LR:
            continue
        a = start_step(it.start_epoch, S)
        if a >= T - 1:
            continue
        groups = it.get("param_groups")
        gs = range(plan.num_groups) if not groups else [g for g in groups if 0 <= g < plan.num_groups]
        val = float(it.get("learning_rate"))
        for g in gs:
            col = plan.lr[a:, g]
            diff = (col != val).nonzero()[0]
            if diff.size and plan.lr[a, g] == val:
                n = int(diff[0])
                yield warning("RC506", f"{it.label}: learning_rate {_fmt(val)} is used for {n} "
                              f"step{'s' if n != 1 else ''} (step {a}); another LR modifier "
                              f"overwrites group {g} from step {a + n}",
                              _span(it, "learning_rate"),
                              "end the other LR modifier at this start_epoch, or drop the Set")
                break


def _problems(plan: Plan, items) -> Iterable[Diagnostic]:
    by_index = {it.index: it for it in items}
    for index, why in plan.problems:
        it = by_index.get(index)
        if it is None:
            continue
        yield error("RC511", f"{it.label}: SparseML would fail here at {plan.steps_per_epoch} "
                    f"steps per epoch ({why}); the plan leaves it out", it.span)


def _final_target(it: PlanItem) -> float | None:
    from recipec.plan.simulate import scalar_final

    return scalar_final(it.get("final_sparsity"))


def _pruning_checks(plan: Plan, items) -> Iterable[Diagnostic]:
    S, T = plan.steps_per_epoch, plan.total_steps
    by_index = {p.index: p for p in plan.pruning}
    for it in items:
        if not is_stepwise_pruning(it):
            continue
        sched = by_index.get(it.index)
        if it.end_epoch == it.start_epoch and it.end_epoch >= 0:
            yield error("RC509", f"{it.label}: start_epoch == end_epoch ({_fmt(it.start_epoch)}); "
                        "SparseML divides by zero at its first update", _span(it, "end_epoch"))
            continue
        if it.start_epoch >= plan.epochs or sched is None or sched.start_step is None:
            continue
        last = sched.sparsity_at(T - 1)
        target = _final_target(it)
        if it.end_epoch >= 0 and sched.end_step is None:
            if last is not None and target is not None and last >= target - 1e-3:
                continue  # the last regular update already (all but) reached final_sparsity
            yield warning("RC503", f"{it.label}: end_epoch {_fmt(it.end_epoch)} is at or after the "
                          f"end of the run (epoch {plan.epochs}); final_sparsity is never applied "
                          f"(last target {last if last is None else round(last, 6)})",
                          _span(it, "end_epoch"))
            continue
        if (it.get("inter_func", "cubic") == "inverse_cubic" and it.end_epoch >= 0
                and not is_on_grid(it.end_epoch, S)):
            yield warning("RC508", f"{it.label}: inverse_cubic with end_epoch "
                          f"{_fmt(it.end_epoch)} between steps crashes SparseML 1.8 at step "
                          f"{sched.end_step}; recipec applies final_sparsity there",
                          _span(it, "inter_func"))
        ups = sorted(sched.update_steps.items())
        if len(ups) >= 2 and sched.end_step is not None:
            init, final = ups[0][1], ups[-1][1]
            jump = ups[-1][1] - ups[-2][1]
            if final > init and jump > 0.5 * (final - init):
                freq = it.get("update_frequency")
                yield warning("RC504", f"{it.label}: with update_frequency {_fmt(float(freq))} the "
                              f"last regular update reaches {ups[-2][1]:.4g}; the end update at step "
                              f"{ups[-1][0]} jumps to {final:.4g}", _span(it, "update_frequency"),
                              "lower update_frequency so the ramp has several steps")
