"""Recognise recipe formats that are not SparseML's legacy dialect, to answer them with one
diagnostic instead of a cascade: the sparseml.core / llm-compressor stage dialect (modifier
*mappings* `ModifierName: {...}` under `*_modifiers`, no `!` tags) and Distiller schedules.
"""

from __future__ import annotations

from recipec.diagnostics import Diagnostic, error
from recipec.syntax.tree import YMap, YNode, YScalar, YSeq, is_custom_tag

_DISTILLER_KEYS = {"pruners", "lr_schedulers", "quantizers", "regularizers", "extensions", "policies"}


def detect(root: YNode) -> Diagnostic | None:
    if not isinstance(root, YMap):
        return None
    keys = set(root.keys())
    if "policies" in keys and keys & (_DISTILLER_KEYS - {"policies"}) or (
            keys & _DISTILLER_KEYS and not any("modifiers" in k for k in keys)
            and _has_distiller_shape(root)):
        k = next(k for k, _ in root.items if k.value in _DISTILLER_KEYS)
        return error("RC107", "this is an Intel Distiller compression schedule, not a SparseML recipe", k.span,
                     "recipec reads SparseML's legacy recipe format (`- !ModifierName` items under "
                     "`*_modifiers:` keys); translate pruners/policies into GMPruningModifier etc.")
    if "stages" in keys and isinstance(root.get("stages"), YMap):
        k = next(k for k, _ in root.items if k.value == "stages")
        return _core(k)
    for key, value in root.items:
        hit = _core_group(key, value)
        if hit is not None:
            return _core(hit)
        if isinstance(value, YMap):
            for k2, v2 in value.items:
                hit = _core_group(k2, v2)
                if hit is not None:
                    return _core(hit)
    return None


def _has_distiller_shape(root: YMap) -> bool:
    for key in ("pruners", "lr_schedulers", "quantizers", "policies"):
        v = root.get(key)
        if isinstance(v, (YMap, YSeq)):
            return True
    return False


def _core_group(key: YScalar, value: YNode) -> YScalar | None:
    """The group key when `key: value` is a core-dialect modifier mapping."""
    if not isinstance(key.value, str) or "modifiers" not in key.value:
        return None
    if isinstance(value, YMap) and not is_custom_tag(value.tag) and value.items:
        return key
    return None


def _core(key: YScalar) -> Diagnostic:
    return error("RC106", "this recipe is in the sparseml.core / llm-compressor stage dialect "
                 "(`ModifierName: {...}` mappings), which recipec does not run", key.span,
                 "recipec reads SparseML's legacy dialect: `- !ModifierName` list items under "
                 "`*_modifiers:` keys, with `start_epoch`/`end_epoch`/`params` fields")
