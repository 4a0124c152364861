"""Which YOLOv5 the model-aware rules check against, and its names (from `yolo.names`, no torch).

The names come from `yolo_names.json`, a snapshot of `yolo.names` for every candidate below
(regenerate with `python -m recipec.check.write_names`; a test holds it equal to `yolo.names`).

`--model yolov5n|s|m|l|x` (optionally `-v5` for the 2021 v5.0 layout) picks one; `none` skips
the model checks; `auto` (the default) checks against yolov5s, or against the bundled variant
whose names fit the recipe best (2021 recipes name v5.0-layout or yolov5l parameters), and skips
with one note when the recipe names parameters of which none could be YOLOv5's (a BERT recipe).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from recipec.diagnostics import Diagnostic, note

SCALES = ("s", "n", "m", "l", "x")
# `auto` tries these in order and stops at the first that every name fits (s first, then s-v5, the
# layout of the 2021 recipes, then the other scales).
CANDIDATES = tuple(f"yolov5{s}{v}" for s in SCALES for v in ("", "-v5"))
NAME_FIELDS = ("params", "layers", "submodules", "student_layer_names", "teacher_layer_names")
AUTO_MIN_FIT = 0.8  # `auto`: the share of names a YOLOv5 must match for the recipe to count as one's
AUTO_SMALL = 4  # ... except for a few `model.*` names, where a miss is more likely a typo
MODULE_FIELDS = ("layers", "submodules", "student_layer_names", "teacher_layer_names")


class Names(tuple):
    """A tuple of names with O(1) membership (exact names are looked up, `re:` patterns scanned)."""

    def __new__(cls, items):
        self = super().__new__(cls, items)
        self._set = frozenset(self)
        return self

    def __contains__(self, name) -> bool:
        return name in self._set


@dataclass(frozen=True)
class ModelNames:
    cfg: str
    params: Names
    modules: Names
    prunable: Names
    num_groups: int = 3


TABLE = Path(__file__).with_name("yolo_names.json")


def build_table() -> dict:
    """Names of every candidate model from `yolo.names` (the source of truth), as plain data."""
    import yolo.names as yn

    return {c: {"params": yn.param_names(c), "modules": yn.module_names(c),
                "prunable": yn.prunable_param_names(c)} for c in CANDIDATES}


def write_table() -> None:
    TABLE.write_text(json.dumps(build_table(), separators=(",", ":")) + "\n", encoding="utf-8")


@lru_cache(maxsize=1)
def _table() -> dict:
    """`yolo_names.json`: a snapshot of `yolo.names` (a test keeps it equal), read in well under a
    millisecond where importing and running `yolo.names` costs ~20 ms of every lint."""
    try:
        return json.loads(TABLE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@lru_cache(maxsize=None)
def names_for(cfg: str) -> ModelNames:
    row = _table().get(cfg)
    if row is None:
        import yolo.names as yn

        row = {"params": yn.param_names(cfg), "modules": yn.module_names(cfg),
               "prunable": yn.prunable_param_names(cfg)}
    return ModelNames(cfg, Names(row["params"]), Names(row["modules"]), Names(row["prunable"]))



def strip_wrapper(name: str) -> str:
    """QuantWrapper children match their unwrapped names (`a.module.weight` ~ `a.weight`)."""
    return name.replace(".module.", ".")


@lru_cache(maxsize=4096)
def compiled(pattern: str):
    try:
        return re.compile(pattern)
    except re.error:
        return None


def matches(entry: str, names: tuple[str, ...]) -> bool:
    """SparseML's rule: `re:` patterns with re.match (prefix-anchored), else exact equality."""
    if entry.startswith("re:"):
        rx = compiled(entry[3:])
        return rx is not None and any(rx.match(n) for n in names)
    return entry in names or strip_wrapper(entry) in names


def recipe_names(recipe) -> list[tuple[object, str, str, object]]:
    """(modifier, field, entry, span) for every named parameter/module in the recipe."""
    out = []
    for m in recipe.modifiers:
        for f in NAME_FIELDS:
            if f not in m.field_names() or f not in m.given:
                continue
            v = getattr(m, f)
            if isinstance(v, list):
                out.extend((m, f, e, m.item_span(f, i)) for i, e in enumerate(v) if isinstance(e, str))
        fs = getattr(m, "final_sparsity", None)
        if isinstance(fs, dict):
            for names in fs.values():
                out.extend((m, "final_sparsity", e, m.span_of("final_sparsity")) for e in names if isinstance(e, str))
    return out


def _hits(cfg: str, entries) -> int:
    mn = names_for(cfg)
    return sum(matches(e, mn.modules if f in MODULE_FIELDS else mn.params) for _, f, e, _ in entries)


def _could_be_yolo(entry: str) -> bool:
    """Names under `model.` (or patterns anchored there) could be YOLOv5's; `re:.*x` says nothing."""
    body = entry[3:] if entry.startswith("re:") else entry
    return body.lstrip("^").startswith(("model", "module.model"))


def select(recipe, model: str | None) -> tuple[ModelNames | None, list[Diagnostic]]:
    """The model to check against, or None (with a note when auto skipped)."""
    if model is None or model == "none":
        return None, []
    entries = recipe_names(recipe)
    if model != "auto":
        return names_for(model), []
    if not entries:
        return names_for(CANDIDATES[0]), []
    _, _, e0, sp0 = entries[0]
    skip = note("RC604", f"`{e0}` and the recipe's other names do not fit a YOLOv5; model checks skipped",
                sp0, "pass `--model yolov5s` (or another) to check anyway")
    plausible = sum(_could_be_yolo(e) for _, _, e, _ in entries)
    if not plausible:
        return None, [skip]
    n = len(entries)
    hits = _hits(CANDIDATES[0], entries)
    if hits == n:
        return names_for(CANDIDATES[0]), []
    small = n <= AUTO_SMALL and plausible == n  # a short YOLOv5-looking list: a miss is a typo
    if hits < AUTO_MIN_FIT / 2 * n and not small:
        return None, [skip]
    best_hits, best = hits, CANDIDATES[0]
    for c in CANDIDATES[1:]:
        h = _hits(c, entries)
        if h > best_hits:
            best_hits, best = h, c
        if h == n:
            break
    if best_hits < AUTO_MIN_FIT * n and not small:
        return None, [skip]
    return names_for(best), []
