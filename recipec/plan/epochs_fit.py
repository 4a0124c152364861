"""`--epochs N` shorter than a recipe's fixed phases: say which variables to lower, with a `--set` that works.

A recipe such as the seed's (`warmup_epochs: 2`, `qat_epochs: 2`) compiles as written but not with
`num_epochs: 2`: the warm-up ends where the cosine decay must start (RC303). `recipec lint` of the file shows
nothing, so "run recipec lint" is no help. `epochs_fit_hint` finds the literal epoch variables (those the
epoch fields depend on and that do not follow `num_epochs`), searches smaller values for them, nearest first,
compiling each candidate until one has no errors, and names it. No torch.
"""

from __future__ import annotations

import itertools
from typing import Any

MAX_TRIES = 200  # compiles of ~10 ms each, at most


def free_epoch_variables(recipe: Any) -> dict[str, float]:
    """{name: value} of the number variables, written as literals, that epoch fields depend on; num_epochs
    excluded."""
    used: set[str] = set()
    for m in recipe.modifiers:
        for f in m.spec_fields():
            if f.metadata.get("kind") == "epoch":
                used.update(m.field_deps.get(f.name, ()))
    out = {}
    for name, v in recipe.variables.items():
        if name in used and name != "num_epochs" and v.stage is None and v.expr is None and v.is_number:
            out[name] = v.value
    return out


def _candidates(value: float, epochs: int) -> list[float]:
    vals = {value, epochs / 2, epochs / 4} | set(range(0, int(min(value, epochs)) + 1))
    return sorted(v for v in vals if 0 <= v <= value)


def _cost(orig: dict[str, float], new: dict[str, float], epochs: int) -> float:
    """Change from the recipe's values, plus a penalty per phase that would take the whole run."""
    return sum(abs(orig[k] - new[k]) for k in orig) + sum(10.0 * epochs for k in new if new[k] >= epochs)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def epochs_fit_hint(path: str, text: str, epochs: int, overrides: dict[str, float] | None = None) -> str | None:
    """When `text` compiles without errors as written (with `overrides`) but not with `num_epochs = epochs`: one
    line naming the variables that do not fit and the `--set` options that make it compile (or, when no
    smaller values compile, that --epochs must be larger). None when the recipe has errors as written (lint shows
    them) or compiles with `epochs`."""
    from recipec.frontend import compile_recipe

    overrides = dict(overrides or {})
    base = compile_recipe(path, text=text, overrides=overrides or None)
    if base.recipe is None or any(d.severity == "error" for d in base.diagnostics):
        return None
    free = {k: v for k, v in free_epoch_variables(base.recipe).items() if k not in overrides}
    if _compiles(path, text, {**overrides, "num_epochs": float(epochs)}):
        return None
    names = list(free)  # file order
    run = f"{epochs} epoch{'s' if epochs != 1 else ''}"
    combos = sorted((dict(zip(names, vals)) for vals in itertools.product(*(_candidates(free[n], epochs)
                                                                            for n in names))),
                    key=lambda c: _cost(free, c, epochs))
    for combo in combos[:MAX_TRIES]:
        if combo == free:
            continue
        if _compiles(path, text, {**overrides, **combo, "num_epochs": float(epochs)}):
            changed = [n for n in names if combo[n] != free[n]]
            told = " + ".join(f"{n} ({_fmt(free[n])})" for n in names)
            verb, them = ("does", "it") if len(names) == 1 else ("do", "them")
            sets = " ".join(f"--set {n}={_fmt(combo[n])}" for n in changed)
            return f"{told} {verb} not fit in {run}: lower {them}, e.g. {sets}"
    told = " (" + ", ".join(f"{n} = {_fmt(free[n])}" for n in names) + ")" if names else ""
    return f"the recipe's epoch values{told} do not fit in {run}; give --epochs a larger value"


def _compiles(path: str, text: str, overrides: dict[str, float]) -> bool:
    from recipec.frontend import compile_recipe

    res = compile_recipe(path, text=text, overrides=overrides)
    return res.recipe is not None and not any(d.severity == "error" for d in res.diagnostics)
