"""Which runtime carries out which modifier kind: ``RUNTIMES`` (a literal table; tests iterate over it) and
``build_runtimes``, one runtime per runnable modifier of a compiled recipe.

The runtime classes live beside their concept (``engine.runtime`` for LR, weight decay and the epoch range,
``engine.runtime_pruning``, ``engine.runtime_qat``); this module imports them all, and none of them imports it.
"""

from __future__ import annotations

from engine.runtime import (Context, LearningRateRuntime, ModifierError, ModifierRuntime, NoopRuntime,
                            WeightDecayRuntime)
from engine.runtime_pruning import PruningRuntime
from engine.runtime_qat import QuantizationRuntime
from recipec.ir.recipe import Recipe

RUNTIMES: dict[str, type[ModifierRuntime]] = {
    kind: cls
    for cls in (NoopRuntime, LearningRateRuntime, WeightDecayRuntime, PruningRuntime, QuantizationRuntime)
    for kind in cls.kinds
}
# Kinds that change nothing in training: skipped with a note instead of refused.
IGNORED: dict[str, str] = {"SparsificationLoggingModifier": "recipec logs LR, losses and sparsity itself"}


def build_runtimes(recipe: Recipe, ctx: Context) -> list[ModifierRuntime]:
    """One runtime per runnable modifier, in recipe order; a single LR writer; unknown kinds refused."""
    out: list[ModifierRuntime] = []
    lr_done = False
    for i, spec in enumerate(recipe.modifiers):
        cls = RUNTIMES.get(spec.kind)
        if spec.kind in IGNORED:
            ctx.log(f"{spec.kind} ignored: {IGNORED[spec.kind]}")
            continue
        if cls is None:
            raise ModifierError(f"{spec.kind} is not run by recipec train (supported: {', '.join(sorted(RUNTIMES))})")
        if cls is LearningRateRuntime:
            if lr_done:
                continue
            lr_done = True
        out.append(cls(spec, ctx, i))
    if not lr_done:  # no LR modifier: the plan's base LR still drives every step
        out.insert(0, LearningRateRuntime(None, ctx, -1))
    return out
