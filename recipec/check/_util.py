"""Small helpers shared by rules: windows in epochs, param-group sets, value spans."""

from __future__ import annotations

import math

INF = math.inf
GRADUAL_PRUNING = ("GMPruningModifier", "MagnitudePruningModifier", "GlobalMagnitudePruningModifier",
                   "MovementPruningModifier", "MFACPruningModifier", "OBSPruningModifier",
                   "StructuredPruningModifier")


def window(m) -> tuple[float, float]:
    """[start, end) of a modifier in epochs; start -1 -> 0, end -1 -> infinity."""
    s = m.start
    e = m.end
    return (max(s, 0.0), INF if e < 0 else e)


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return max(a[0], b[0]) < min(a[1], b[1])


def groups(m, num_groups: int = 3) -> set[int]:
    """Param groups an LR modifier drives (None = all; LearningRateModifier always all)."""
    pg = getattr(m, "param_groups", None)
    if pg is None or m.kind == "LearningRateModifier":
        return set(range(num_groups))
    return {g for g in pg if isinstance(g, int)}


def fmt(x: float) -> str:
    return f"{x:g}"
