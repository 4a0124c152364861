"""Manager order: the order in which SparseML runs the modifiers' updates before each step.

SparseML sorts (BaseModifier.comparator) by `end_epoch` ascending with `-1` (never ends) after
every other value, then by `start_epoch` ascending, then by an identifier
`"<Class>-<md5 of its sorted properties>"`. That last key is effectively arbitrary, so recipec
breaks remaining ties by **file order** (deterministic, and what a reader expects). Where two
modifiers write the same param group on the same step, the later one in this order wins.

Staged recipes: modifiers are sorted within each stage, and the stages run one after another in
SparseML's `comparator_lists` order: by the numerically largest `end_epoch` of the stage (a -1
counts only when every modifier of the stage never ends, then it sorts last), then by the
smallest `start_epoch`; ties by file order here too.

`PlanItem` is the primitive, IR-free view of one modifier that the planner works on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PlanItem:
    """One modifier as the planner sees it: kind, window, file position and its SparseML fields."""

    kind: str
    start_epoch: float
    end_epoch: float
    index: int  # position in the file (0-based, stages flattened)
    fields: Mapping[str, Any] = field(default_factory=dict)
    stage: str | None = None
    span: Any = None
    field_spans: Mapping[str, Any] = field(default_factory=dict)
    runnable: bool = True  # whether `recipec train` executes this kind

    def get(self, name: str, default=None):
        return self.fields.get(name, default)

    @property
    def label(self) -> str:
        """Short display name, e.g. `GMPruningModifier#4` (file position, 1-based)."""
        return f"{self.kind}#{self.index + 1}"


def _end_key(end: float) -> tuple[int, float]:
    return (1, 0.0) if end == -1 else (0, float(end))


def modifier_sort_key(item: PlanItem) -> tuple:
    """SparseML's comparator with file order instead of the md5 identifier."""
    return (_end_key(item.end_epoch), float(item.start_epoch), item.index)


def manager_order(items: Sequence[PlanItem]) -> list[PlanItem]:
    """All modifiers in the order their updates run within one step."""
    stages: dict[str | None, list[PlanItem]] = {}
    for it in items:
        stages.setdefault(it.stage, []).append(it)
    if len(stages) <= 1:
        return sorted(items, key=modifier_sort_key)

    def stage_key(name):
        # SparseML's comparator_lists: the numerically largest end (so -1 only when every
        # modifier of the stage never ends), compared with -1 last; then the smallest start.
        mods = stages[name]
        return (_end_key(max(m.end_epoch for m in mods)), min(m.start_epoch for m in mods),
                min(m.index for m in mods))

    out: list[PlanItem] = []
    for name in sorted(stages, key=stage_key):
        out.extend(sorted(stages[name], key=modifier_sort_key))
    return out
