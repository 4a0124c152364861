"""Which model the model-aware rules check against: its facts (`ModelFacts`), never the model itself.

The front end knows a model only through `ModelFacts` (parameter and module names, prunable
parameters, optimizer groups): plain data, no torch, no `yolo`. The bundled YOLOv5 facts are
`yolo_names.json`, which the CLI layer writes from `yolo.names` for every candidate below
(`python -m recipec.cli.model_facts`; a test holds it equal to `yolo.names`). A caller with
another model passes its own `ModelFacts` as `model`.

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
class ModelFacts:
    """What the model-aware checks know of a model: its name, parameter and module names (as the
    state dict names them), the prunable parameters, and the number of optimizer param groups."""

    cfg: str
    params: Names
    modules: Names
    prunable: Names
    num_groups: int = 3

    @classmethod
    def from_lists(cls, cfg: str, params, modules, prunable, num_groups: int = 3) -> ModelFacts:
        return cls(cfg, Names(params), Names(modules), Names(prunable), num_groups)


TABLE = Path(__file__).with_name("yolo_names.json")


@lru_cache(maxsize=1)
def _table() -> dict:
    """`yolo_names.json`: the bundled YOLOv5s' facts, read in well under a millisecond where
    importing and running `yolo.names` costs ~20 ms of every lint."""
    try:
        return json.loads(TABLE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@lru_cache(maxsize=None)
def names_for(cfg: str) -> ModelFacts | None:
    """The bundled facts of `cfg` (one of `CANDIDATES`), None when there are none."""
    row = _table().get(cfg)
    if row is None:
        return None
    return ModelFacts.from_lists(cfg, row["params"], row["modules"], row["prunable"])



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


def matched(entry: str, names: tuple[str, ...]) -> list[str]:
    """The names `entry` selects, by the rule of `matches`."""
    if entry.startswith("re:"):
        rx = compiled(entry[3:])
        return [n for n in names if rx is not None and rx.match(n)]
    for e in (entry, strip_wrapper(entry)):
        if e in names:
            return [e]
    return []


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
    if mn is None:
        return -1
    return sum(matches(e, mn.modules if f in MODULE_FIELDS else mn.params) for _, f, e, _ in entries)


def _could_be_yolo(entry: str) -> bool:
    """Names under `model.` (or patterns anchored there) could be YOLOv5's; `re:.*x` says nothing."""
    body = entry[3:] if entry.startswith("re:") else entry
    return body.lstrip("^").startswith(("model", "module.model"))


def select(recipe, model: str | ModelFacts | None) -> tuple[ModelFacts | None, list[Diagnostic]]:
    """The model to check against, or None (with a note when auto skipped). `model`: the facts of
    the model itself, or the name of a bundled one, `auto`, or `none`."""
    if isinstance(model, ModelFacts):
        return model, []
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
