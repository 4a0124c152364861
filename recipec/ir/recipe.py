"""The recipe IR: a frozen `Recipe` of resolved `Variable`s and modifier specs, in file order.

Built by `recipec.ir.lower` (via `recipec.frontend.compile_recipe`). Everything here is config:
values are resolved (every `eval()` evaluated), spans point back into the source text, and
provenance says which variables each value was computed from, so `recipec plan --epochs` can
tell which values follow `num_epochs` and which are fixed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from recipec.modifiers.base import ModifierSpec
from recipec.span import Span


@dataclass(frozen=True)
class Variable:
    """A recipe variable: a top-level (or stage-level) key that is not a modifier group.

    `expr` is the text inside `eval(...)` when the value was computed; `depends_on` lists every
    variable the value was computed from (transitively). `anchor` is set when the value carries a
    YAML anchor (`num_epochs: &num_epochs 52`); `alias_sites` are the places that reuse it by
    alias, which SparseML freezes at parse time (overrides never reach them).
    """

    name: str
    value: Any
    span: Span | None = field(default=None, compare=False)
    key_span: Span | None = field(default=None, compare=False)
    expr: str | None = None
    depends_on: tuple[str, ...] = ()
    anchor: str | None = field(default=None, compare=False)
    alias_sites: tuple[Span, ...] = field(default=(), compare=False)
    stage: str | None = None
    overridden: bool = False
    uses: int = field(default=0, compare=False)  # eval() references + alias uses

    @property
    def is_number(self) -> bool:
        return isinstance(self.value, (int, float)) and not isinstance(self.value, bool)


@dataclass(frozen=True)
class Recipe:
    """A compiled recipe (SparseML legacy dialect)."""

    path: str
    text: str = field(compare=False, repr=False)
    sha256: str = field(compare=False)
    variables: dict[str, Variable]
    modifiers: tuple[ModifierSpec, ...]
    version: str | None = None
    stages: tuple[str, ...] = ()
    metadata: Any = None

    # -- queries ---------------------------------------------------------------------------------

    def by_kind(self, *kinds: str) -> list[ModifierSpec]:
        return [m for m in self.modifiers if m.kind in kinds]

    def by_category(self, category: str) -> list[ModifierSpec]:
        return [m for m in self.modifiers if m.category == category]

    def dependents(self, name: str) -> list[tuple[int, str]]:
        """(modifier index, field) of every modifier value computed from variable `name`."""
        out = []
        for i, m in enumerate(self.modifiers):
            for f, deps in m.field_deps.items():
                if name in deps:
                    out.append((i, f))
        return out

    def fixed_values(self, name: str) -> list[tuple[int, str]]:
        """(modifier index, field) of epoch-valued fields that do NOT follow variable `name`.

        Used by `recipec plan --epochs` to say which values stay put when `name` is overridden.
        """
        out = []
        for i, m in enumerate(self.modifiers):
            for f in m.spec_fields():
                if f.metadata.get("kind") != "epoch" or f.name not in m.given:
                    continue
                if name not in m.field_deps.get(f.name, ()):
                    out.append((i, f.name))
        return out

    @property
    def max_epochs(self) -> float:
        """SparseML's `max_epochs`: max of ceil(start) and ceil(end) over values > -1, else -1."""
        vals = []
        for m in self.modifiers:
            for v in (getattr(m, "start_epoch", None), getattr(m, "end_epoch", None)):
                if isinstance(v, (int, float)) and v > -1:
                    vals.append(math.ceil(v))
        return float(max(vals)) if vals else -1.0

    @property
    def min_epochs(self) -> float:
        vals = [math.floor(m.start) for m in self.modifiers if m.start > -1]
        return float(min(vals)) if vals else -1.0

    @property
    def epoch_range(self) -> tuple[float, float] | None:
        """(start, end) of the EpochRangeModifier(s), or None when the recipe has none."""
        ers = self.by_kind("EpochRangeModifier")
        if not ers:
            return None
        return (min(m.start for m in ers), max(m.end for m in ers))
