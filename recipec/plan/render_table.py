"""`recipec plan` default output: a table (one row per epoch) and a timeline per modifier.

Each row shows the values in effect for the epoch's first optimizer step: LR per param group,
target sparsity per pruning modifier (`-` before it applies or when it has no step-wise
target), the QAT state, and the modifiers acting during that epoch.

The table is drawn here in rich's box style rather than by rich: rich lays out every cell as a renderable
(0.14-0.19 s CPU for a 300-epoch plan on the build machine, the largest part of `recipec plan`'s time after
start-up); these plain lines take a few ms. The last column wraps at ", " to fit the terminal.
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
         "EpochRangeModifier": "EpochRange", "SetWeightDecayModifier": "SetWD",
         "ACDCPruningModifier": "ACDC", "OBSPruningModifier": "OBS", "MFACPruningModifier": "MFAC",
         "RigLPruningModifier": "RigL", "TopKASTPruningModifier": "TopKAST", "MovementPruningModifier": "Movement",
         "StructuredPruningModifier": "Structured", "LayerPruningModifier": "LayerPruning"}


def short_label(kind: str, index: int) -> str:
    """Compact display name: `GMP#6` for the 6th modifier of the file, a GMPruningModifier."""
    name = SHORT.get(kind, kind[:-len("Modifier")] if kind.endswith("Modifier") else kind)
    return f"{name}#{index + 1}"


def _g(v) -> str:
    return "-" if v is None else f"{v:.4g}"


def _sparsity_cell(p, step: int) -> str:
    """A modifier's target for `step`; the range of its per-group targets for a mapping final_sparsity."""
    groups = p.targets_at(step)
    if not groups:
        return _g(p.sparsity_at(step))
    lo, hi = min(groups), max(groups)
    return _g(lo) if lo == hi else f"{_g(lo)}-{_g(hi)}"


def pruning_header(p) -> str:
    """Column title of one pruning modifier; `(not run)` where `recipec train` does not run it."""
    return f"sparsity {short_label(p.kind, p.index)}" + ("" if p.runs else " (not run)")


def epoch_rows(plan: Plan) -> list[list[str]]:
    """Table rows as strings: epoch, LR per group, sparsity per pruning modifier, QAT, active."""
    S = plan.steps_per_epoch
    rows = []
    for ep in range(plan.epochs):
        a, b = ep * S, ep * S + S - 1
        lr = plan.lr_at(a)
        sp = [_sparsity_cell(p, a) for p in plan.pruning]
        active = [short_label(m.kind, m.index) for m in plan.modifiers if m.start_step is not None
                  and m.start_step <= b and (m.last_step is None or m.last_step >= a)
                  and not m.kind == "EpochRangeModifier"]
        rows.append([str(ep), *(_g(v) for v in lr), *sp,
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


def box_table(header: list[str], rows: list[list[str]], right: list[bool], width: int | None = None) -> str:
    """A table in rich's heavy-head box style; the last column wraps at ", " to keep lines within `width`."""
    cols = len(header)
    w = [max(len(header[c]), *(len(r[c]) for r in rows)) if rows else len(header[c]) for c in range(cols)]
    if width is not None:  # 3 characters of frame per column, plus the closing one
        longest = max((len(x) + 1 for r in rows for x in r[-1].split(", ")), default=0)
        w[-1] = max(len(header[-1]), longest, min(w[-1], width - sum(w[:-1]) - 3 * cols - 1))

    def line(cells: list[str], bar: str) -> str:
        return bar + bar.join(f" {t:>{w[c]}} " if right[c] else f" {t:<{w[c]}} "
                              for c, t in enumerate(cells)) + bar

    def rule(left: str, mid: str, end: str, fill: str) -> str:
        return left + mid.join(fill * (n + 2) for n in w) + end

    out = [rule("┏", "┳", "┓", "━"), line(header, "┃"), rule("┡", "╇", "┩", "━")]
    for r in rows:
        parts, cur = [], ""
        items = r[-1].split(", ")
        for k, item in enumerate(items):
            nxt = f"{cur}, {item}" if cur else item
            if cur and len(nxt) + (k < len(items) - 1) > w[-1]:  # room for the comma that ends a line
                parts.append(cur + ",")
                cur = item
            else:
                cur = nxt
        parts.append(cur)
        out.append(line([*r[:-1], parts[0]], "│"))
        out.extend(line([""] * (cols - 1) + [p], "│") for p in parts[1:])
    out.append(rule("└", "┴", "┘", "─"))
    return "\n".join(out)


def render_table(plan: Plan, out, *, title: str = "", width: int | None = None) -> None:
    """Write the per-epoch table and the timelines to the text stream `out` (`width`: wrap the last column
    to fit; default $COLUMNS, else the terminal's width, else none: a pipe gets one line per epoch)."""
    if width is None:
        import os

        cols = os.environ.get("COLUMNS", "")
        if cols.isdigit():
            width = int(cols)
        elif out.isatty():
            width = os.get_terminal_size(out.fileno()).columns
    names = [GROUP_NAMES[g] if g < len(GROUP_NAMES) else str(g) for g in range(plan.num_groups)]
    header = ["epoch", *(f"lr[{g}] {n}" for g, n in enumerate(names)),
              *(pruning_header(p) for p in plan.pruning), "QAT", "active modifiers"]
    right = [True] * (len(header) - 2) + [False, False]
    table = box_table(header, epoch_rows(plan), right, width)
    lines = [title.center(len(table.split("\n", 1)[0])).rstrip()] if title else []
    lines += [table, f"{plan.total_steps} steps = {plan.epochs} epochs x {plan.steps_per_epoch} "
                     "steps per epoch; values at each epoch's first step"]
    bars = timeline_bars(plan)
    w = max((len(lbl) for lbl, _ in bars), default=0)
    lines.append(f"{'timeline':<{w}}  0{'epoch':^58}{plan.epochs}")
    lines += [f"{label:<{w}}  {bar}" for label, bar in bars]
    idle = [short_label(p.kind, p.index) for p in plan.pruning if not p.runs]
    if idle:
        lines.append(f"not run by recipec train (SparseML's schedule shown): {', '.join(idle)}")
    out.write("\n".join(lines) + "\n")
