"""`recipec plan` default output: a rich table (one row per epoch) and a timeline per modifier.

Each row shows the values in effect for the epoch's first optimizer step: LR per param group,
target sparsity per pruning modifier (`-` before it applies or when it has no step-wise
target), the QAT state, and the modifiers acting during that epoch.
"""

from __future__ import annotations

from recipec.plan.model import Plan

GROUP_NAMES = ("bn", "weights", "biases")
QAT_LABELS = {"off": "off", "observing": "observing", "bn_frozen": "BN frozen",
              "frozen": "observers frozen"}


SHORT = {"GMPruningModifier": "GMP", "MagnitudePruningModifier": "Magnitude",
         "GlobalMagnitudePruningModifier": "GlobalMag", "ConstantPruningModifier": "Constant",
         "LearningRateFunctionModifier": "LRFunction", "SetLearningRateModifier": "SetLR",
         "LearningRateModifier": "LRScheduler", "QuantizationModifier": "QAT",
         "EpochRangeModifier": "EpochRange", "SetWeightDecayModifier": "SetWD"}


def short_label(kind: str, index: int) -> str:
    """Compact display name: `GMP#6` for the 6th modifier of the file, a GMPruningModifier."""
    name = SHORT.get(kind, kind[:-len("Modifier")] if kind.endswith("Modifier") else kind)
    return f"{name}#{index + 1}"


def _g(v) -> str:
    return "-" if v is None else f"{v:.4g}"


def epoch_rows(plan: Plan) -> list[list[str]]:
    """Table rows as strings: epoch, LR per group, sparsity per pruning modifier, QAT, active."""
    S = plan.steps_per_epoch
    rows = []
    for ep in range(plan.epochs):
        a, b = ep * S, ep * S + S - 1
        lr = plan.lr_at(a)
        sp = plan.sparsity_at(a)
        active = [short_label(m.kind, m.index) for m in plan.modifiers if m.start_step is not None
                  and m.start_step <= b and (m.last_step is None or m.last_step >= a)
                  and not m.kind == "EpochRangeModifier"]
        rows.append([str(ep), *(_g(v) for v in lr), *(_g(v) for v in sp),
                     QAT_LABELS[plan.qat_state_at(a)], ", ".join(active)])
    return rows


def timeline_bars(plan: Plan, width: int = 60) -> list[tuple[str, str]]:
    """(label, bar) per modifier: `█` where it acts, `│` for a one-step write, `·` elsewhere."""
    T = max(plan.total_steps, 1)
    out = []
    for m in plan.modifiers:
        cells = ["·"] * width
        if m.start_step is not None:
            a = m.start_step * width // T
            if m.point:
                cells[min(a, width - 1)] = "│"
            else:
                last = T - 1 if m.last_step is None else m.last_step
                b = ((last + 1) * width - 1) // T
                for k in range(a, min(b, width - 1) + 1):
                    cells[k] = "█"
        out.append((short_label(m.kind, m.index), "".join(cells)))
    return out


def render_table(plan: Plan, console, *, title: str = "") -> None:
    """Print the per-epoch table and the timelines on a rich Console."""
    from rich.table import Table

    names = [GROUP_NAMES[g] if g < len(GROUP_NAMES) else str(g) for g in range(plan.num_groups)]
    t = Table(title=title or None, show_lines=False)
    t.add_column("epoch", justify="right")
    for g, n in enumerate(names):
        t.add_column(f"lr[{g}] {n}", justify="right")
    for p in plan.pruning:
        t.add_column(f"sparsity {short_label(p.kind, p.index)}", justify="right")
    t.add_column("QAT")
    t.add_column("active modifiers")
    for row in epoch_rows(plan):
        t.add_row(*row)
    console.print(t)
    console.print(f"{plan.total_steps} steps = {plan.epochs} epochs x {plan.steps_per_epoch} "
                  "steps per epoch; values at each epoch's first step")
    w = max((len(lbl) for lbl, _ in timeline_bars(plan)), default=0)
    console.print(f"{'timeline':<{w}}  0{'epoch':^58}{plan.epochs}", highlight=False)
    for label, bar in timeline_bars(plan):
        console.print(f"{label:<{w}}  {bar}", highlight=False)
