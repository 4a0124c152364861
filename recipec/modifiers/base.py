"""The base of every modifier spec, and `F`, the field declaration helper.

A spec is a frozen dataclass whose field names are SparseML's (plus a few recipec extensions,
declared `extension=True`). Values are resolved (every `eval()` evaluated, epochs as floats) and
defaults are filled in. Each field declares its value kind for the lowering (`epoch`, `float`, `int`,
`bool`, `str`, `enum`, `params`, `param_groups`, `names`, `dict`, `sparsity`, `mask_type`, `any`),
whether it is required, and its allowed values.
Position info (`span`, `field_spans`) and provenance (`field_deps`: which recipe variables a
value was computed from) never take part in equality, so a round trip compares values only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from recipec.span import Span

# Value kinds a field may declare (the lowering converts and checks against these).
KINDS = frozenset({"epoch", "float", "int", "bool", "str", "enum", "params", "param_groups", "names",
                   "dict", "sparsity", "mask_type", "any"})

# Field names that every spec has and that are not SparseML fields.
META_FIELDS = frozenset({"span", "field_spans", "field_deps", "item_spans", "stage", "group", "given"})


def F(default: Any = None, *, kind: str = "any", required: bool = False, choices: tuple | None = None,
      ignored: bool = False, extension: bool = False, doc: str = ""):
    """Declare a SparseML field. `required` fields have no default upstream (ours is None).

    `ignored`: accepted upstream but forced to its default (e.g. `end_epoch` of SetLR).
    `extension`: a recipec extension, not a SparseML field: SparseML refuses it (unknown keyword argument),
    so the lowering warns (RC114) wherever a recipe gives it; the docs and the schema mark it. An extension
    must have a default that keeps SparseML's behaviour, and cannot be required.
    """
    assert kind in KINDS, kind
    assert not (extension and required), "an extension field cannot be required"
    meta = {"kind": kind, "required": required, "choices": choices, "ignored": ignored, "extension": extension,
            "doc": doc}
    if isinstance(default, (list, dict)):
        value = default
        return field(default_factory=lambda: type(value)(value), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True, kw_only=True)
class ModifierSpec:
    """Common part of all specs. Subclasses set `kind`, `category`, `runnable` and declare fields."""

    kind: ClassVar[str] = ""
    category: ClassVar[str] = "general"  # epoch|learning_rate|pruning|quantization|distillation|regularization|general
    runnable: ClassVar[bool] = False  # whether `recipec train` executes it
    end_comparator: ClassVar[int | None] = -1  # SparseML's schedule rule: -1, 0, 1, or None (end forced to -1)
    min_end: ClassVar[float] = -1.0

    span: Span | None = field(default=None, compare=False, repr=False)
    field_spans: dict[str, Span] = field(default_factory=dict, compare=False, repr=False)
    field_deps: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)
    item_spans: dict[str, tuple[Span, ...]] = field(default_factory=dict, compare=False, repr=False)
    stage: str | None = None
    group: str = ""
    given: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    @classmethod
    def spec_fields(cls) -> list[dataclasses.Field]:
        """The SparseML fields of this kind, in declaration order."""
        return [f for f in dataclasses.fields(cls) if f.name not in META_FIELDS]

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in cls.spec_fields()]

    @classmethod
    def required_fields(cls) -> list[str]:
        return [f.name for f in cls.spec_fields() if f.metadata.get("required")]

    @classmethod
    def extension_fields(cls) -> list[str]:
        """The recipec extension fields of this kind (declared with `F(..., extension=True)`)."""
        return [f.name for f in cls.spec_fields() if f.metadata.get("extension")]

    def values(self) -> dict[str, Any]:
        """The SparseML field values (resolved, defaults filled), in declaration order."""
        return {f.name: getattr(self, f.name) for f in self.spec_fields()}

    def span_of(self, name: str) -> Span | None:
        """Where field `name` was written, else the modifier's own span."""
        return self.field_spans.get(name, self.span)

    def item_span(self, name: str, index: int) -> Span | None:
        """Where entry `index` of list field `name` was written (else the field's span)."""
        spans = self.item_spans.get(name, ())
        return spans[index] if 0 <= index < len(spans) else self.span_of(name)

    @property
    def tag_span(self) -> Span | None:
        """The `!Kind` tag of this modifier (where whole-modifier findings point)."""
        sp = self.span
        if sp is None:
            return None
        return Span(sp.path, sp.line, sp.col, sp.line, sp.col + len(self.kind) + 1)

    @property
    def start(self) -> float:
        """`start_epoch` or -1 for kinds without one."""
        v = getattr(self, "start_epoch", -1.0)
        return -1.0 if v is None else float(v)

    @property
    def end(self) -> float:
        v = getattr(self, "end_epoch", -1.0)
        return -1.0 if v is None else float(v)


def common_pruning_fields():
    """Doc helper: the GM-style field names shared by the magnitude family."""
    return ("init_sparsity", "final_sparsity", "start_epoch", "end_epoch", "update_frequency", "params",
            "leave_enabled", "inter_func", "mask_type")


INTER_FUNCS = ("linear", "cubic", "inverse_cubic")
LR_FUNCS = ("linear", "cosine", "cyclic_linear")
LR_CLASSES = ("StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingWarmRestarts")
