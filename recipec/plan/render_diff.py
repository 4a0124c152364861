"""`recipec diff` output: a plain-text report (default) or JSON (`--format json`).

Text: a header (both files, steps per epoch, run lengths, same / different), then one row per
schedule series that differs (first step, its epoch, A's and B's values there, every epoch where
they differ), then the modifiers added, removed and changed, field by field with
`line:col` in both files. JSON (version 1) holds the same data; see docs/plan.md.
"""

from __future__ import annotations

import json

from recipec.plan.diff import ENDED, PlanDiff


def ranges(epochs) -> list[list[int]]:
    """(0, 1, 2, 5, 7, 8) -> [[0, 2], [5, 5], [7, 8]]."""
    out: list[list[int]] = []
    for e in epochs:
        if out and e == out[-1][1] + 1:
            out[-1][1] = e
        else:
            out.append([e, e])
    return out


def epoch_ranges(epochs) -> str:
    """(0, 1, 2, 5, 7, 8) -> '0-2, 5, 7-8'."""
    return ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in ranges(epochs))


def _pair(a, b) -> tuple[str, str]:
    """Both values with enough digits to tell them apart."""
    for digits in (6, 8, 10, 12, 17):
        x, y = _num(a, digits), _num(b, digits)
        if x != y:
            break
    return x, y


def _num(v, digits: int = 6) -> str:
    if v is None:
        return "-"
    if v == ENDED:
        return "(run over)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    if isinstance(v, dict) and "target" in v:
        t = v["target"]
        if t is None:
            return "masks on" if v["enforced"] else "-"
        t = _num(t, digits) if not isinstance(t, list) else "[" + ", ".join(_num(x, digits) for x in t) + "]"
        return t + ("" if v["enforced"] else " (masks off)")
    if isinstance(v, list):
        return "[" + ", ".join(_num(x, digits) for x in v) + "]"
    return str(v)


def _field(v) -> str:
    from recipec.ir.canonical import scalar

    try:
        return scalar(v)
    except TypeError:
        return str(v)


def _at(sp) -> str:
    return f"{sp.line}:{sp.col}" if sp is not None else "?"


def render_diff_text(d: PlanDiff) -> str:
    S = d.steps_per_epoch
    ea, eb = d.epochs
    lines = [f"A: {d.a_path}", f"B: {d.b_path}",
             f"{S} steps per epoch; A runs {ea} epochs ({ea * S} steps), B runs {eb} epochs ({eb * S} steps)"]
    if d.same_schedule:
        lines.append("schedule: the same on every step")
    else:
        lines.append("schedule: different")
        rows = [("series", "first step", "epoch", "A", "B", "epochs that differ")]
        for s in d.series:
            rows.append((s.what, str(s.first_step), f"{s.first_step / S:g}", *_pair(s.a, s.b),
                         epoch_ranges(s.epochs)))
        widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
        for r in rows:
            lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    if d.modifiers:
        lines.append("modifiers:")
    for m in d.modifiers:
        if m.change == "added":
            lines.append(f"  + {m.b_label} (B {_at(m.b_span)})")
        elif m.change == "removed":
            lines.append(f"  - {m.a_label} (A {_at(m.a_span)})")
        else:
            lab = m.a_label if m.a_label == m.b_label else f"{m.a_label} -> {m.b_label}"
            lines.append(f"  ~ {lab} (A {_at(m.a_span)}, B {_at(m.b_span)})")
            for f in m.fields:
                lines.append(f"      {f.name}: {_field(f.a)} (A {_at(f.a_span)}) -> {_field(f.b)} "
                             f"(B {_at(f.b_span)})")
    if not d.modifiers:
        lines.append("modifiers: the same")
    return "\n".join(lines) + "\n"


def _span(sp):
    return None if sp is None else {"line": sp.line, "col": sp.col, "end_line": sp.end_line,
                                    "end_col": sp.end_col}


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def diff_to_dict(d: PlanDiff) -> dict:
    S = d.steps_per_epoch
    return {
        "version": 1, "a": d.a_path, "b": d.b_path, "steps_per_epoch": S,
        "epochs": list(d.epochs), "total_steps": [e * S for e in d.epochs],
        "same_schedule": d.same_schedule,
        "schedule": [{"kind": s.kind, "what": s.what, "first_step": s.first_step,
                      "first_epoch": s.first_step / S, "a": _jsonable(s.a), "b": _jsonable(s.b),
                      "epochs": ranges(s.epochs)} for s in d.series],
        "modifiers": [{"change": m.change, "kind": m.kind, "a": m.a_label, "b": m.b_label,
                       "a_span": _span(m.a_span), "b_span": _span(m.b_span),
                       "fields": [{"name": f.name, "a": _jsonable(f.a), "b": _jsonable(f.b),
                                   "a_span": _span(f.a_span), "b_span": _span(f.b_span)} for f in m.fields]}
                      for m in d.modifiers],
    }


def render_diff_json(d: PlanDiff) -> str:
    return json.dumps(diff_to_dict(d), indent=1) + "\n"
