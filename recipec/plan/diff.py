"""Two recipes' plans compared step by step (`recipec diff A B`), and their modifiers field by field.

Schedule series compared on every optimizer step (both plans at the same steps_per_epoch):
the LR of each param group, each pruning modifier's target sparsity (its per-group targets for a
mapping `final_sparsity`) and whether its masks are enforced, and the QAT state. Pruning
modifiers are paired by kind and occurrence (the 2nd GMPruningModifier of A with the 2nd of B).
Past the end of the shorter run a value counts as absent, so a longer run differs there.
Floats are compared exactly: the same schedule means the same numbers on every step.

Modifiers are paired the same way (kind, occurrence) and compared on their resolved SparseML
field values (defaults filled, `eval()` evaluated), each change with its span in both files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from recipec.plan.clock import epoch_at


ENDED = "run over"  # a value past the end of the shorter run


class PlanDiffError(Exception):
    """A recipe that cannot be compiled or planned; the message is one line for the user."""


@dataclass(frozen=True)
class SeriesDiff:
    """One schedule series that differs: where first, its values there, and every epoch it differs."""

    kind: str  # "lr" | "sparsity" | "qat" | "run"
    what: str  # "lr[0] bn", "sparsity GMP#6", "QAT"
    first_step: int
    a: Any
    b: Any
    epochs: tuple[int, ...]


@dataclass(frozen=True)
class FieldChange:
    name: str
    a: Any
    b: Any
    a_span: Any
    b_span: Any


@dataclass(frozen=True)
class ModifierChange:
    change: str  # "added" | "removed" | "changed"
    kind: str
    a_label: str | None
    b_label: str | None
    a_span: Any
    b_span: Any
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class PlanDiff:
    a_path: str
    b_path: str
    steps_per_epoch: int
    epochs: tuple[int, int]
    series: tuple[SeriesDiff, ...]
    modifiers: tuple[ModifierChange, ...]

    @property
    def same_schedule(self) -> bool:
        return self.epochs[0] == self.epochs[1] and not self.series


# -- schedule series ---------------------------------------------------------------------------------

GROUP_NAMES = ("bn", "weights", "biases")


def _pairs(xs, ys, kind_of):
    """Pair items of two lists by (kind, occurrence of that kind); unpaired get None."""
    def keyed(items):
        seen: dict[str, int] = {}
        out = {}
        for it in items:
            k = kind_of(it)
            out[(k, seen.get(k, 0))] = it
            seen[k] = seen.get(k, 0) + 1
        return out

    ka, kb = keyed(xs), keyed(ys)
    keys = list(ka) + [k for k in kb if k not in ka]
    return [(ka.get(k), kb.get(k)) for k in keys]


def _pad(arr: np.ndarray, T: int) -> np.ndarray:
    """Rows past the run's end are NaN (absent)."""
    if arr.shape[0] >= T:
        return arr[:T]
    pad = np.full((T - arr.shape[0],) + arr.shape[1:], np.nan)
    return np.concatenate([arr, pad])


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per step: any column differs (NaN equals NaN)."""
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return ~same.reshape(same.shape[0], -1).all(axis=1)


def pruning_columns(p, T: int) -> np.ndarray:
    """(T, k + 1) per step: the targets (one per group; NaN before the first update or without a
    step-wise target) and 1.0 / 0.0 for whether the masks are enforced."""
    groups = p.group_targets() if hasattr(p, "group_targets") else None
    k = len(groups) if groups else 1
    out = np.full((T, k + 1), np.nan)
    steps = sorted(p.update_steps) if p.stepwise else []
    for n, s in enumerate(steps):
        if s >= T:
            break
        nxt = min(steps[n + 1] if n + 1 < len(steps) else T, T)
        out[s:nxt, :k] = [p.update_steps[s]] if not groups else [g[s] for g in groups]
    en = np.zeros(T)
    if p.start_step is not None and p.start_step < T:
        last = T if p.end_step is None or p.leave_enabled else min(p.end_step + 1, T)
        en[p.start_step:last] = 1.0
    out[:, k] = en
    return out


def _absent(T: int) -> np.ndarray:
    """The pruning columns of a modifier a recipe does not have: no target, masks never enforced."""
    out = np.full((T, 2), np.nan)
    out[:, 1] = 0.0
    return out


def _value(arr: np.ndarray, i: int):
    if i >= arr.shape[0]:
        return ENDED
    row = arr[i]
    vals = [None if np.isnan(v) else float(v) for v in np.atleast_1d(row)]
    return vals[0] if len(vals) == 1 else vals


def _series(kind, what, a: np.ndarray, b: np.ndarray, S: int, show=lambda arr, i: _value(arr, i)):
    T = max(a.shape[0], b.shape[0])
    pa, pb = _pad(a, T), _pad(b, T)
    d = _differs(pa, pb)
    if not d.any():
        return None
    idx = np.flatnonzero(d)
    first = int(idx[0])
    epochs = tuple(int(e) for e in np.unique(idx // S))
    return SeriesDiff(kind, what, first, show(a, first), show(b, first), epochs)


def _qat_codes(plan) -> np.ndarray:
    from recipec.plan.qat import QAT_STATES

    T = plan.total_steps
    out = np.zeros((T, 1))
    q = plan.qat
    if q is not None:
        for i in range(q.start_step, T):
            out[i, 0] = QAT_STATES.index(plan.qat_state_at(i))
    return out


def diff_plans(pa, pb, a_path: str = "A", b_path: str = "B", recipes=None) -> PlanDiff:
    """Compare two plans built at the same steps_per_epoch (and optionally their recipes)."""
    from recipec.plan.qat import QAT_STATES
    from recipec.plan.render_table import short_label

    S = pa.steps_per_epoch
    if pb.steps_per_epoch != S:
        raise ValueError("plans at different steps_per_epoch cannot be compared step by step")
    out: list[SeriesDiff] = []
    for g in range(max(pa.num_groups, pb.num_groups)):
        name = GROUP_NAMES[g] if g < len(GROUP_NAMES) else str(g)
        col = lambda p: p.lr[:, g:g + 1].astype(float) if g < p.num_groups else np.full((p.total_steps, 1), np.nan)
        s = _series("lr", f"lr[{g}] {name}", col(pa), col(pb), S)
        if s:
            out.append(s)
    for x, y in _pairs(pa.pruning, pb.pruning, lambda p: p.kind):
        what = " / ".join(dict.fromkeys(short_label(p.kind, p.index) for p in (x, y) if p is not None))
        ax = pruning_columns(x, pa.total_steps) if x is not None else _absent(pa.total_steps)
        by = pruning_columns(y, pb.total_steps) if y is not None else _absent(pb.total_steps)
        if ax.shape[1] != by.shape[1]:  # a scalar target against per-group targets
            w = max(ax.shape[1], by.shape[1])
            ax = np.concatenate([ax, np.full((ax.shape[0], w - ax.shape[1]), np.nan)], axis=1)
            by = np.concatenate([by, np.full((by.shape[0], w - by.shape[1]), np.nan)], axis=1)

        def show(arr, i):
            v = _value(arr, i)
            if v is None or v == ENDED:
                return v
            *t, on = v
            t = t[0] if len(t) == 1 else t
            return {"target": t, "enforced": bool(on)}

        s = _series("sparsity", f"sparsity {what}", ax, by, S, show)
        if s:
            out.append(s)
    s = _series("qat", "QAT", _qat_codes(pa), _qat_codes(pb), S,
                lambda arr, i: ENDED if i >= arr.shape[0] else QAT_STATES[int(arr[i, 0])])
    if s:
        out.append(s)
    mods = tuple(diff_modifiers(*recipes)) if recipes else ()
    return PlanDiff(a_path, b_path, S, (pa.epochs, pb.epochs), tuple(out), mods)


# -- modifiers, field by field -----------------------------------------------------------------------


def _same(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float) and np.isnan(x) and np.isnan(y):
        return True
    return type(x) is type(y) and x == y or (isinstance(x, (int, float)) and isinstance(y, (int, float))
                                             and not isinstance(x, bool) and not isinstance(y, bool) and x == y)


def diff_modifiers(ra, rb):
    """Added / removed / changed modifiers of recipe B against recipe A."""
    ia = {id(m): i for i, m in enumerate(ra.modifiers)}
    ib = {id(m): i for i, m in enumerate(rb.modifiers)}
    label = lambda m, idx: f"{m.kind}#{idx[id(m)] + 1}"
    for x, y in _pairs(ra.modifiers, rb.modifiers, lambda m: m.kind):
        if y is None:
            yield ModifierChange("removed", x.kind, label(x, ia), None, x.span, None)
        elif x is None:
            yield ModifierChange("added", y.kind, None, label(y, ib), None, y.span)
        else:
            va, vb = x.values(), y.values()
            fields = tuple(FieldChange(n, va.get(n), vb.get(n), x.span_of(n), y.span_of(n))
                           for n in dict.fromkeys([*va, *vb]) if not _same(va.get(n), vb.get(n)))
            if fields:
                yield ModifierChange("changed", x.kind, label(x, ia), label(y, ib), x.span, y.span, fields)


# -- from files ----------------------------------------------------------------------------------------


def _compile(path: str, text: str | None, overrides, epochs, model: str):
    from recipec.frontend import compile_recipe

    res = compile_recipe(path, text=text, overrides=overrides or None, model=model)
    if any(d.code == "RC001" for d in res.diagnostics) or res.recipe is None:
        first = next((d.message for d in res.diagnostics if d.is_error), "no recipe")
        raise PlanDiffError(f"{path}: {first}")
    if epochs is not None:
        if "num_epochs" not in res.recipe.variables:
            raise PlanDiffError(f"{path}: --epochs sets the recipe variable `num_epochs`, which this recipe "
                                "does not define")
        res = compile_recipe(path, text=text, overrides={**(overrides or {}), "num_epochs": float(epochs)},
                             model=model)
    if not res.ok:
        d = res.errors[0]
        where = f"{d.span.line}:{d.span.col}: " if d.span else ""
        raise PlanDiffError(f"{path}:{where}{d.code} {d.message} (run `recipec lint {path}`)")
    return res.recipe


def diff_texts(a_path: str, a_text: str | None, b_path: str, b_text: str | None, *, steps_per_epoch: int,
               epochs: int | None = None, overrides=None, base_lr: float = 0.01,
               model: str = "none", max_steps: int | None = None) -> PlanDiff:
    """Compile and plan both recipes (text None: read the file), then compare them."""
    from recipec.plan.build import build_plan

    ra = _compile(a_path, a_text, overrides, epochs, model)
    rb = _compile(b_path, b_text, overrides, epochs, model)
    for path, r in ((a_path, ra), (b_path, rb)):
        total = max(r.max_epochs, 0) * steps_per_epoch
        if max_steps is not None and total > max_steps:
            raise PlanDiffError(f"{path}: {int(r.max_epochs)} epochs x {steps_per_epoch} steps = {int(total)} "
                                f"steps; recipec diff handles at most {max_steps} per recipe")
    pa = build_plan(ra, steps_per_epoch, base_lr=base_lr, checks=False)
    pb = build_plan(rb, steps_per_epoch, base_lr=base_lr, checks=False)
    return diff_plans(pa, pb, a_path, b_path, recipes=(ra, rb))


__all__ = ["PlanDiff", "PlanDiffError", "SeriesDiff", "ModifierChange", "FieldChange", "diff_plans",
           "diff_modifiers", "diff_texts", "pruning_columns", "epoch_at"]
