"""`--epochs N` of `recipec plan` and `recipec train`: the recipe compiled once, with N as the override of its
`num_epochs` variable (as SparseML's recipe args), never by rewriting its text. No torch."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recipec.frontend import CompileResult


def compile_with_epochs(source: str | Path, *, text: str | None = None, epochs: int | None = None,
                        overrides: dict[str, float] | None = None, model: Any = "auto") -> tuple[CompileResult, bool,
                                                                                               set[int]]:
    """(result, has_num_epochs, fixed): the compiled recipe; whether it defines `num_epochs` (always True without
    `epochs`: then nothing is overridden); with `epochs`, the file indices of the modifiers whose `start_epoch`
    does not follow `num_epochs` (what `build_plan`'s `fixed_from_epochs` reports, RC505)."""
    from recipec.frontend import compile_recipe  # looked up at the call (tests and the crash guard replace it)

    given = {**(overrides or {}), "num_epochs": float(epochs)} if epochs is not None else dict(overrides or {})
    res = compile_recipe(source, text=text, overrides=given or None, model=model)
    if epochs is None or res.recipe is None:
        return res, True, set()
    if "num_epochs" not in res.recipe.variables:
        return res, False, set()
    return res, True, {i for i, name in res.recipe.fixed_values("num_epochs") if name == "start_epoch"}
