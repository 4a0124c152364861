"""Class names and strides in ONNX metadata, in the layout YOLOv5's own loader reads, and back.

YOLOv5 writes `stride` as one int (the largest) and `names` as the text of a Python dict
(`{0: 'person', 1: 'bicycle'}`). recipec writes the same, plus `strides` (JSON list, every level). Exports made
before that hold `names` as a JSON list and `stride` as a JSON list; both are read. The dict text is parsed by
`ast.literal_eval` (literals only: nothing is evaluated). No onnx / onnxruntime import here.
"""

from __future__ import annotations

import ast
import json

__all__ = ["names_literal", "parse_names", "parse_strides"]


def names_literal(names) -> str:
    """`['a', 'b']` -> `"{0: 'a', 1: 'b'}"` (YOLOv5's metadata text)."""
    return str({i: str(n) for i, n in enumerate(names)})


def _literal(text: str):
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def parse_names(text: str | None) -> list[str] | None:
    """Class names from a `names` value: a dict literal `{0: 'a', ...}` (ids 0..n-1) or a JSON list."""
    if not text:
        return None
    v = _literal(text)
    if isinstance(v, dict):
        if sorted(v) != list(range(len(v))) or not all(isinstance(n, str) for n in v.values()):
            return None
        return [v[i] for i in range(len(v))]
    if isinstance(v, list) and all(isinstance(n, str) for n in v):
        return v
    return None


def parse_strides(meta: dict[str, str]) -> list[int] | None:
    """The strides of every level: `strides` (JSON list), else `stride` (an int, or an old JSON list)."""
    for key in ("strides", "stride"):
        v = _literal(meta.get(key) or "")
        if isinstance(v, bool):
            continue
        if isinstance(v, (int, float)) and v > 0:
            return [int(v)]
        if isinstance(v, list) and v and all(isinstance(s, (int, float)) and not isinstance(s, bool) and s > 0
                                             for s in v):
            return [int(s) for s in v]
    return None
