"""`recipec plan --format json`: one entry per optimizer step, streamed.

Shape (version 1):
`{"version": 1, "steps_per_epoch": S, "epochs": E, "total_steps": T, "pruning": [{"modifier": "GMPruningModifier#6", "runs": true, "groups": [0.9, 0.95]}],
"steps": [{"step": i, "epoch": i/S, "lr": [lr_g0, lr_g1, lr_g2], "sparsity": [one per modifier whose
kind ends in PruningModifier, file order (the `pruning` header names them; `runs` false: `recipec
train` does not run it); null before it applies and for modifiers without a step-wise target; a
list of per-group targets, in the mapping's order, for a mapping or list `final_sparsity`
(`groups`: their finals)], "qat": "off|observing|bn_frozen|frozen"}, ...]}`. One step per line, so golden files
diff well. Floats are Python's shortest repr, as `json` writes them.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterator

from recipec.plan.model import Plan

CHUNK = 4096  # steps rendered per block


def _num(v) -> str:
    return "null" if v is None else json.dumps(v)


def _pruning_header(plan: Plan) -> str:
    """One entry per `sparsity` column: the modifier, whether `recipec train` runs it, its groups."""
    out = []
    for p in plan.pruning:
        entry = {"modifier": p.label, "runs": p.runs}
        if p.group_finals:
            entry["groups"] = list(p.group_finals)
        out.append(entry)
    return json.dumps(out)


def _held(steps: list[int], text_at: Callable[[int], str], a: int, b: int, before: str) -> list[str]:
    """The texts of steps a..b-1 of a value set at `steps` (sorted) and held in between; `before`
    until the first. Only the steps inside [a, b) are visited: no list as long as the run."""
    k = bisect.bisect_right(steps, a) - 1
    out = [before if k < 0 else text_at(steps[k])] * (b - a)
    for k in range(k + 1, len(steps)):
        s = steps[k]
        if s >= b:
            break
        nxt = min(steps[k + 1], b) if k + 1 < len(steps) else b
        out[s - a:nxt - a] = [text_at(s)] * (nxt - s)
    return out


def _sparsity_texts(p) -> tuple[list[int], Callable[[int], str]]:
    """Update steps of one pruning column and the `sparsity` text of each."""
    if not p.stepwise:
        return [], str
    groups = p.group_targets()
    if groups is None:
        return sorted(p.update_steps), lambda s: _num(p.update_steps[s])
    return sorted(p.update_steps), lambda s: json.dumps([g[s] for g in groups])


def iter_json(plan: Plan) -> Iterator[str]:
    """The JSON document in chunks: the header, then `CHUNK` steps at a time (one line each), the footer.

    Memory stays O(CHUNK) beyond the plan itself, whatever the run length: rows are rendered from the
    plan's LR array and the run-length form of the sparsity and QAT columns, block by block."""
    S, T = plan.steps_per_epoch, plan.total_steps
    yield (f'{{"version": 1, "steps_per_epoch": {S}, "epochs": {plan.epochs}, '
           f'"total_steps": {T}, "pruning": {_pruning_header(plan)}, "steps": [')
    columns = [_sparsity_texts(p) for p in plan.pruning]
    q = plan.qat
    marks = [] if q is None else sorted({q.start_step, *(x for x in (q.freeze_bn_step, q.disable_observer_step)
                                                          if x is not None)})
    for a in range(0, T, CHUNK):
        b = min(a + CHUNK, T)
        lr_rows = plan.lr[a:b].tolist()
        sp_cols = [_held(steps, text_at, a, b, "null") for steps, text_at in columns]
        states = _held(marks, q.state_at, a, b, "off") if q is not None else ["off"] * (b - a)
        lines = []
        for j, row in enumerate(lr_rows):
            i = a + j
            v0 = row[0]
            r0 = repr(v0)
            lr = ", ".join(r0 if v == v0 else repr(v) for v in row)
            sp = ", ".join(c[j] for c in sp_cols)
            sep = "," if i < T - 1 else ""
            lines.append(f'\n{{"step": {i}, "epoch": {i / S!r}, "lr": [{lr}], '
                         f'"sparsity": [{sp}], "qat": "{states[j]}"}}{sep}')
        yield "".join(lines)
    yield "\n]}\n"


def plan_to_json(plan: Plan) -> str:
    """The whole JSON document as one string."""
    return "".join(iter_json(plan))


def plan_to_dict(plan: Plan) -> dict:
    """The JSON document as Python data (for tests and small plans)."""
    return json.loads(plan_to_json(plan))
