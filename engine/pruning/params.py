"""Resolve a recipe's `params` (or module) selection against a live model.

What: `resolve_params(model, params, kind)` turns the recipe's `params` value into an ordered tuple of
names that exist in `model`, and reports every entry that matched nothing (the engine turns that into
a clear error; see `Resolution.error_message`).

Selection language (SparseML's):
- `__ALL__`: every parameter (kind="param") or every leaf module (kind="module").
- `__ALL_PRUNABLE__`: the weight of every `nn.Conv2d` / `nn.Linear` (any Conv*d / Linear subclass),
  **including the Detect head's 1x1 convs** (`model.24.m.*.weight`): that is the ultralytics
  convention the zoo recipes were written for. Biases, BatchNorm and anchors are never prunable.
- an exact name (`model.0.conv.weight`);
- `re:<pattern>`: `re.match` semantics, i.e. anchored at the start of the name but not at the end
  (`re:model.2` also selects `model.24...`; write `re:model\\.2\\.` to be strict).

Order: the model's own `named_parameters()` / `named_modules()` order, duplicates removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from torch import nn

ALL = "__ALL__"
ALL_PRUNABLE = "__ALL_PRUNABLE__"
# Module types whose `.weight` is prunable (the ultralytics/SparseML convention: convs and linears).
PRUNABLE_TYPES: tuple[type[nn.Module], ...] = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


@dataclass(frozen=True)
class Resolution:
    """Names selected (model order) and the selection entries that matched nothing."""

    names: tuple[str, ...]
    unmatched: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.unmatched and bool(self.names)

    def error_message(self, what: str = "params") -> str | None:
        """A one-paragraph message for the engine to raise/print, or None when all entries matched."""
        if self.unmatched:
            return (f"{what}: {len(self.unmatched)} entr{'y' if len(self.unmatched) == 1 else 'ies'} "
                    f"matched nothing in the model: {', '.join(self.unmatched)}. Names look like "
                    f"'model.0.conv.weight'; use 're:<pattern>' for a prefix-anchored regex.")
        if not self.names:
            return f"{what}: the selection is empty."
        return None


def prunable_param_names(model: nn.Module) -> list[str]:
    """Weights of every Conv/Linear module, in model order (see module docstring)."""
    return [f"{m}.weight" if m else "weight" for m, mod in model.named_modules()
            if isinstance(mod, PRUNABLE_TYPES) and getattr(mod, "weight", None) is not None]


def _universe(model: nn.Module, kind: str) -> tuple[list[str], list[str]]:
    """(all names, prunable names) for the requested kind."""
    if kind == "param":
        return [n for n, _ in model.named_parameters()], prunable_param_names(model)
    if kind == "module":
        names = [n for n, _ in model.named_modules() if n]
        prunable = [n for n, m in model.named_modules() if n and isinstance(m, PRUNABLE_TYPES)]
        return names, prunable
    raise ValueError(f"kind must be 'param' or 'module', got {kind!r}")


def resolve_params(model: nn.Module, params: str | Iterable[str] | None, kind: str = "param") -> Resolution:
    """Resolve `params` (a string or a list of strings, as written in the recipe) against `model`.

    `kind="param"` selects parameter names, `kind="module"` module names (for `submodules`/`layers`).
    `None` or an empty list means `__ALL_PRUNABLE__` (SparseML's default for a float final_sparsity).
    Never raises for unmatched entries: they come back in `Resolution.unmatched`.
    """
    everything, prunable = _universe(model, kind)
    if params is None or (not isinstance(params, str) and len(list(params)) == 0):
        params = [ALL_PRUNABLE]
    entries = [params] if isinstance(params, str) else list(params)
    known = set(everything)
    chosen: set[str] = set()
    unmatched: list[str] = []
    for entry in entries:
        entry = str(entry)
        if entry == ALL:
            hits = everything
        elif entry == ALL_PRUNABLE:
            hits = prunable
        elif entry.startswith("re:"):
            try:
                rx = re.compile(entry[3:])
            except re.error as exc:
                unmatched.append(f"{entry} (bad regex: {exc})")
                continue
            hits = [n for n in everything if rx.match(n)]
        else:
            hits = [entry] if entry in known else []
        if not hits:
            unmatched.append(entry)
        chosen.update(hits)
    names = tuple(n for n in everything if n in chosen)
    return Resolution(names=names, unmatched=tuple(unmatched))


def resolve_modules(model: nn.Module, names: str | Iterable[str] | None) -> Resolution:
    """Module-name selection (same language); `None` selects every module."""
    return resolve_params(model, ALL if names is None else names, kind="module")


def in_scope(name: str, prefixes: Iterable[str] | None) -> bool:
    """Dot-aware prefix match used for QAT `submodules`: `model.2` covers `model.2.cv1` but not `model.24`.

    `None` means the whole model. A leading `module.` (DDP wrapper) is ignored on both sides.
    """
    if prefixes is None:
        return True
    name = name[7:] if name.startswith("module.") else name
    for p in prefixes:
        p = p[7:] if p.startswith("module.") else p
        if p == "" or name == p or name.startswith(p + "."):
            return True
    return False
