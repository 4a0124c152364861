"""The canonical form of a compiled recipe (`recipec compile`): every variable and `eval()`
resolved, modifiers as written fields only (in declaration order), groups and stages kept.

`to_yaml(recipe)` is valid legacy-dialect YAML that SparseML can read too (floats always carry a
dot, so YAML 1.1 reads them as floats). `to_json(recipe)` is the same as data, and `json_to_yaml`
turns that data back into YAML, so both forms round-trip through `compile_recipe` to equal specs.
"""

from __future__ import annotations

import json
from typing import Any

FORMAT_VERSION = 1


def _float(x: float) -> str:
    r = repr(float(x))
    if "e" in r or "E" in r:
        mant, exp = r.lower().split("e")
        if "." not in mant:
            mant += ".0"
        return f"{mant}e{exp}"
    return r


def scalar(v: Any) -> str:
    """A YAML (1.1) flow rendering of a plain value that PyYAML reads back to the same value."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _float(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{scalar(k)}: {scalar(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot render {type(v).__name__}")


def _fields(spec) -> list[tuple[str, Any]]:
    return [(f.name, getattr(spec, f.name)) for f in spec.spec_fields() if f.name in spec.given]


def to_data(recipe) -> dict:
    """The canonical recipe as plain data (the JSON form)."""
    return {
        "format": FORMAT_VERSION,
        "version": recipe.version,
        "modifiers": [
            {"kind": m.kind, "stage": m.stage, "group": m.group, "fields": dict(_fields(m))}
            for m in recipe.modifiers
        ],
    }


def to_json(recipe) -> str:
    return json.dumps(to_data(recipe), indent=2)


def data_to_yaml(data: dict) -> str:
    """YAML text for canonical data (from `to_data` or a JSON file)."""
    lines = []
    if data.get("version") is not None:
        lines.append(f"version: {scalar(str(data['version']))}")
        lines.append("")
    order: list[tuple[str | None, str]] = []
    by_key: dict[tuple[str | None, str], list[dict]] = {}
    for m in data.get("modifiers", []):
        key = (m.get("stage"), m.get("group") or "modifiers")
        if key not in by_key:
            order.append(key)
            by_key[key] = []
        by_key[key].append(m)
    stages_done: set[str] = set()
    for stage, group in order:
        indent = ""
        if stage is not None:
            if stage in stages_done:
                continue
            stages_done.add(stage)
            lines.append(f"{stage}:")
            indent = "  "
            groups = [g for s, g in order if s == stage]
        else:
            groups = [group]
        for g in groups:
            lines.append(f"{indent}{g}:")
            for m in by_key[(stage, g)]:
                lines.append(f"{indent}  - !{m['kind']}")
                for name, value in m.get("fields", {}).items():
                    lines.append(f"{indent}    {name}: {scalar(value)}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def to_yaml(recipe) -> str:
    return data_to_yaml(to_data(recipe))


def json_to_yaml(text: str) -> str:
    return data_to_yaml(json.loads(text))
