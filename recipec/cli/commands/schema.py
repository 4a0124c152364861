"""`recipec schema`: a JSON Schema of recipe files, generated from the modifier registry.

For editor completion and hover help through yaml-language-server (VS Code's YAML extension, Neovim's
yamlls, ...). A recipe is a mapping: variables (numbers, strings, lists), `version`, groups of modifiers
(any key containing `modifiers`, each a list of `!Kind` mappings) and stages (a mapping holding such
groups). YAML tags are invisible to JSON Schema, so a modifier item is `anyOf` the mappings of every
registered kind; yaml-language-server also has to be told the tags exist (`yaml.customTags`), which
`recipec schema --custom-tags` prints. Every field accepts its declared type or an `eval(...)` string.

No torch; only the registry (`recipec.modifiers.REGISTRY`) and the field declarations (`base.F`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

SCHEMA_ID = "https://recipec.invalid/schema/recipe.json"  # a stable identifier, never fetched
EVAL = {"type": "string", "pattern": r"^\s*eval\(.*\)\s*$", "description": "an eval() expression over the "
        "recipe's variables"}
VERSION = {"type": ["string", "number"], "description": "recipe version, e.g. 1.1.0"}
# YAML 1.1 reads `2e-6` (no dot) as text; SparseML converts it, recipec lints it (RC214).
NUMERIC_TEXT = {"type": "string", "pattern": r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"}
NUMBER_OR_EVAL = {"anyOf": [{"type": "number"}, EVAL]}

# Field value kind (recipec.modifiers.base.KINDS) -> JSON Schema of the written value (before eval()).
KIND_SCHEMAS: dict[str, dict[str, Any]] = {
    "epoch": {"anyOf": [{"type": "number"}, NUMERIC_TEXT], "description": "epoch (float; -1 = no end / not set)"},
    "float": {"anyOf": [{"type": "number"}, NUMERIC_TEXT]},
    "int": {"type": "integer"},
    "bool": {"anyOf": [{"type": "boolean"}, {"enum": [0, 1]}]},
    "str": {"type": "string"},
    "enum": {"type": "string"},
    "params": {"anyOf": [{"type": "string", "description": "__ALL__, __ALL_PRUNABLE__, a name or re:pattern"},
                         {"type": "array", "items": {"type": "string"}}]},
    "param_groups": {"type": "array", "items": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                     "description": "optimizer param groups: 0 = bn, 1 = weights, 2 = biases"},
    "names": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]},
    "dict": {"type": "object"},
    "sparsity": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1},
                           {"type": "array", "items": NUMBER_OR_EVAL},
                           {"type": "object", "description": "{sparsity: [params]}"},
                           {"type": "string", "description": "__FROM_PARAM__ (init_sparsity only)"}]},
    "mask_type": {"anyOf": [{"type": "string", "description": "unstructured, block4, N:M, tensorrt"},
                            {"type": "array", "items": {"type": "integer"}}]},
    "any": {},
}


def docstring_parts(cls: type) -> tuple[str, str, list[str], list[str]]:
    """(summary, body, passes, fails) from the module docstring of a spec class.

    The modifier modules' docstrings read: `Kind: summary.` / prose / `Passes: `...`` / `Fails: `...``."""
    mod = sys.modules[cls.__module__]
    doc = (mod.__doc__ or cls.__doc__ or "").strip()
    lines = doc.splitlines()
    head = lines[0] if lines else ""
    summary = head.split(":", 1)[1].strip() if head.startswith(cls.kind + ":") else head
    body, passes, fails = [], [], []
    for line in lines[1:]:
        s = line.strip()
        if s.startswith("Passes:"):
            passes.append(s[len("Passes:"):].strip())
        elif s.startswith("Fails:"):
            fails.append(s[len("Fails:"):].strip())
        else:
            body.append(line.rstrip())
    return summary, "\n".join(body).strip(), passes, fails


def field_schema(f) -> dict[str, Any]:
    """The JSON Schema of one declared field: its kind's type (or an eval() string), default, choices."""
    meta = f.metadata
    kind = meta.get("kind", "any")
    base = dict(KIND_SCHEMAS[kind])
    if meta.get("choices"):
        base = {"enum": list(meta["choices"])}
    out: dict[str, Any] = {"anyOf": [base, EVAL]} if base else {}
    desc = [f"{kind}" + (" (required)" if meta.get("required") else "")]
    default = _default(f)
    if default is not _MISSING:
        out["default"] = default
    if meta.get("ignored"):
        desc.append("accepted, ignored (forced to its default)")
    if meta.get("extension"):
        desc.append("recipec extension: SparseML rejects this field (recipec warns, RC114)")
    if meta.get("doc"):
        desc.append(meta["doc"])
    out["description"] = "; ".join(desc)
    return out


_MISSING = object()


def _default(f) -> Any:
    import dataclasses

    if f.metadata.get("required"):
        return _MISSING
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return _MISSING


def modifier_schema(kind: str) -> dict[str, Any]:
    from recipec.ir.lower import DROPPED_FIELDS
    from recipec.modifiers import REGISTRY

    cls = REGISTRY[kind]
    summary, _, passes, _ = docstring_parts(cls)
    props = {f.name: field_schema(f) for f in cls.spec_fields()}
    for name in DROPPED_FIELDS:  # accepted on every modifier, dropped before construction (as SparseML)
        props.setdefault(name, {"description": "accepted and ignored (SparseML drops it)"})
    desc = f"!{kind} ({cls.category}; {'run' if cls.runnable else 'checked, not run'} by recipec train): {summary}"
    if passes:
        desc += f"\nExample: {passes[0]}"
    return {"title": kind, "description": desc, "type": "object", "properties": props,
            "required": cls.required_fields(), "additionalProperties": False}


def build_schema() -> dict[str, Any]:
    """The whole recipe schema (draft 2020-12). Deterministic: kinds in registry order."""
    from recipec.modifiers import REGISTRY

    defs = {kind: modifier_schema(kind) for kind in REGISTRY}
    modifier = {"anyOf": [{"$ref": f"#/$defs/{k}"} for k in REGISTRY], "description": "a !Modifier mapping"}
    group = {"description": "a list of !Modifier items (or a single one)",
             "anyOf": [{"type": "array", "items": {"$ref": "#/$defs/modifier"}}, {"$ref": "#/$defs/modifier"}]}
    groups = {".*modifiers.*": {"$ref": "#/$defs/modifier_group"}}
    variable = {"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "boolean"}, {"type": "null"},
                          {"type": "array"}]}
    stage = {"type": "object", "description": "a stage: variables and modifier groups run in sequence",
             "properties": {"version": VERSION}, "patternProperties": groups, "additionalProperties": {}}
    defs.update(modifier=modifier, modifier_group=group, variable=variable, stage=stage)
    defs["recipe"] = {"type": "object", "properties": {"version": VERSION}, "patternProperties": groups,
                      "additionalProperties": {"anyOf": [{"$ref": "#/$defs/variable"}, {"$ref": "#/$defs/stage"}]}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "recipec / SparseML sparsification recipe",
        "description": "Variables, `*_modifiers` lists of !Modifier items, and stages (mappings of those); or a "
                       "bare list of modifiers. Generated by `recipec schema` from the modifier registry.",
        "anyOf": [{"$ref": "#/$defs/recipe"}, {"$ref": "#/$defs/modifier_group"}],
        "$defs": defs,
    }


def custom_tags() -> list[str]:
    """yaml-language-server's `yaml.customTags` entries: every modifier tag is a mapping."""
    from recipec.modifiers import REGISTRY

    return [f"!{k} mapping" for k in REGISTRY]


def render(indent: int = 2) -> str:
    return json.dumps(build_schema(), indent=indent, sort_keys=False) + "\n"


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)


def schema(
    out: Path = typer.Option(None, "--out", "-o", help="Write the schema here instead of printing it."),
    tags: bool = typer.Option(False, "--custom-tags",
                              help="Print the yaml.customTags setting (JSON) for yaml-language-server instead."),
) -> None:
    """Print a JSON Schema of recipes (for yaml-language-server completion and hover)."""
    text = json.dumps({"yaml.customTags": custom_tags()}, indent=2) + "\n" if tags else render()
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        print(f"error: cannot write {out}: {e.strerror or e}", file=sys.stderr)
        raise typer.Exit(2)
    print(f"wrote {out}")
