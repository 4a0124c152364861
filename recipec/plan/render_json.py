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

import json
from collections.abc import Iterator

from recipec.plan.model import Plan


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


def iter_json(plan: Plan) -> Iterator[str]:
    """The JSON document in chunks (header, one line per step, footer)."""
    S, T = plan.steps_per_epoch, plan.total_steps
    yield (f'{{"version": 1, "steps_per_epoch": {S}, "epochs": {plan.epochs}, '
           f'"total_steps": {T}, "pruning": {_pruning_header(plan)}, "steps": [')
    lr_rows = plan.lr.tolist()
    # sparsity strings change only at update steps: walk the run-length form per modifier
    sp_cols = []
    for p in plan.pruning:
        col = ["null"] * T
        if p.stepwise:
            steps = sorted(p.update_steps)
            groups = p.group_targets()
            for n, s in enumerate(steps):
                if s >= T:
                    break
                nxt = steps[n + 1] if n + 1 < len(steps) else T
                txt = _num(p.update_steps[s]) if groups is None else json.dumps([g[s] for g in groups])
                col[s:nxt] = [txt] * (min(nxt, T) - s)
        sp_cols.append(col)
    q = plan.qat
    states = ["off"] * T
    if q is not None:
        marks = sorted({q.start_step, *(x for x in (q.freeze_bn_step, q.disable_observer_step)
                                        if x is not None)})
        for a, b in zip(marks, marks[1:] + [T]):
            if a < T:
                states[a:b] = [q.state_at(a)] * (min(b, T) - a)
    for i in range(T):
        row = lr_rows[i]
        v0 = row[0]
        r0 = repr(v0)
        lr = ", ".join(r0 if v == v0 else repr(v) for v in row)
        sp = ", ".join(c[i] for c in sp_cols)
        sep = "," if i < T - 1 else ""
        yield (f'\n{{"step": {i}, "epoch": {i / S!r}, "lr": [{lr}], '
               f'"sparsity": [{sp}], "qat": "{states[i]}"}}{sep}')
    yield "\n]}\n"


def plan_to_json(plan: Plan) -> str:
    """The whole JSON document as one string."""
    return "".join(iter_json(plan))


def plan_to_dict(plan: Plan) -> dict:
    """The JSON document as Python data (for tests and small plans)."""
    return json.loads(plan_to_json(plan))
