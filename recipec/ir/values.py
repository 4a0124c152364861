"""Convert one modifier field's YAML value to its declared kind (see `recipec.modifiers.base.F`).

SparseML converts most numbers with `float()` inside the modifier; a few fields are stricter
(an int `init_sparsity` is a TypeError upstream). We convert sensibly and warn where SparseML
would differ. A value that cannot be converted is an error diagnostic and comes back MISSING.

Numbers are bounded here, once, for every field (RC208): no NaN or infinity, no whole number beyond
what a float holds (1e308), anywhere inside a value (lr_kwargs, sparsity mapping keys included),
and no epoch beyond `MAX_EPOCH`. Everything downstream (checks, plan, engine) can then convert
with `float()` / `ceil()` freely.
"""

from __future__ import annotations

import math
from typing import Any

from recipec.diagnostics import Diagnostic, did_you_mean, error, warning
from recipec.ir.evaluate import LIMIT
from recipec.ir.resolve import MISSING
from recipec.span import Span
from recipec.syntax.tree import YNode, YScalar

SPECIAL_PARAMS = ("__ALL__", "__ALL_PRUNABLE__")
GROUP_NAMES = {"bn": 0, "weights": 1, "biases": 2}  # the YOLOv5-fork order SparseML recipes assume
MAX_EPOCH = 1_000_000  # epoch values beyond this are errors: real runs have hundreds, and plans stay finite


class FieldContext:
    """What a conversion needs to report: the modifier kind, field name, node and variables."""

    def __init__(self, kind: str, name: str, node: YNode, diags: list[Diagnostic], variables: dict):
        self.kind, self.name, self.node, self.diags, self.variables = kind, name, node, diags, variables

    @property
    def span(self) -> Span:
        return self.node.span

    def err(self, code: str, msg: str, help: str | None = None):
        self.diags.append(error(code, msg, self.span, help))
        return MISSING

    def warn(self, code: str, msg: str, help: str | None = None) -> None:
        self.diags.append(warning(code, msg, self.span, help))


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _out_of_range(v: Any) -> str | None:
    """Why the number `v` is out of range, or None (also None for anything not a number)."""
    if not _is_num(v):
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return f"must be a finite number, got {v}"
    if abs(v) > LIMIT:  # exact for ints of any size: no float conversion
        return "is too large for a number (beyond 1e308)"
    return None


def _first_out_of_range(v: Any) -> str | None:
    """`_out_of_range` of `v` or of any number inside it (list items, mapping keys and values)."""
    if isinstance(v, list):
        return next((r for x in v if (r := _first_out_of_range(x))), None)
    if isinstance(v, dict):
        return next((r for k, x in v.items() if (r := _first_out_of_range(k) or _first_out_of_range(x))), None)
    return _out_of_range(v)


def _trap_number(v: Any, ctx: FieldContext):
    """Numbers hiding in strings / booleans: YAML 1.1 surprises, and bare variable names."""
    node = ctx.node
    if isinstance(v, str):
        if isinstance(node, YScalar) and node.trap == "string-float" and v == node.value:
            ctx.warn("RC213", f"`{v}` is a string to SparseML (YAML 1.1); recipec reads it as a number",
                     "write it with a dot (e.g. `1.e-5`) so every tool reads a float")
            return float(v.replace("_", ""))
        if v in ctx.variables:
            return ctx.err("RC212", f"`{ctx.name}` is the text `{v}`, not the variable's value",
                           f"write `eval({v})` to use the variable")
        try:
            f = float(v)
        except ValueError:
            close = did_you_mean_name(v, ctx.variables)
            hint = f"did you mean `eval({close})`?" if close else None
            return ctx.err("RC301", f"`{ctx.name}` of {ctx.kind} must be a number, not the text `{v}`", hint)
        ctx.warn("RC213", f"`{ctx.name}` is the quoted text `{v}`; recipec reads it as a number")
        return f
    if isinstance(v, bool):
        if isinstance(node, YScalar) and node.trap == "bool-word":
            ctx.warn("RC214", f"`{node.raw}` is a boolean in YAML 1.1, used here as the number {int(v)}")
        return int(v)
    if isinstance(node, YScalar) and node.trap == "int-base" and v == node.value:
        ctx.warn("RC214", f"`{node.raw}` is read as {v} in YAML 1.1 (octal or base 60)",
                 "drop the leading zero / the colons if a decimal number is meant")
    return v


def did_you_mean_name(v: str, names) -> str | None:
    import difflib

    m = difflib.get_close_matches(v, list(names), n=1, cutoff=0.75)
    return m[0] if m else None


def convert(kind: str, v: Any, ctx: FieldContext, choices: tuple | None = None) -> Any:
    """Convert value `v` (already eval-resolved) of field `ctx.name` to the declared `kind`."""
    if v is MISSING:
        return MISSING
    if kind == "any":
        return v
    if v is None and kind != "enum":  # null is never one of an enum's values
        return None
    if (why := _first_out_of_range(v)) is not None:
        return ctx.err("RC208", f"`{ctx.name}` {why}")
    if kind in ("epoch", "float"):
        v = _trap_number(v, ctx)
        if v is MISSING:
            return MISSING
        if not _is_num(v):
            return ctx.err("RC301", f"`{ctx.name}` must be a number, got {_describe(v)}")
        if (why := _out_of_range(v)) is not None:
            return ctx.err("RC208", f"`{ctx.name}` {why}")
        if kind == "epoch" and abs(v) > MAX_EPOCH:
            return ctx.err("RC208", f"`{ctx.name}` of {v:g} is beyond {MAX_EPOCH:,} epochs, recipec's bound",
                           "real runs have hundreds of epochs; check the value or the expression")
        return float(v)
    if kind == "int":
        v = _trap_number(v, ctx)
        if v is MISSING:
            return MISSING
        if (why := _out_of_range(v)) is not None:
            return ctx.err("RC208", f"`{ctx.name}` {why}")
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if not isinstance(v, int):
            return ctx.err("RC301", f"`{ctx.name}` must be an integer, got {_describe(v)}")
        return v
    if kind == "bool":
        if isinstance(v, bool):
            return v
        if isinstance(v, str):  # SparseML's convert_to_bool
            low = v.lower()
            return bool(v) and "f" not in low and "0" not in low
        if _is_num(v):
            return bool(v)
        return ctx.err("RC301", f"`{ctx.name}` must be true or false, got {_describe(v)}")
    if kind == "str":
        if isinstance(v, str):
            return v
        return ctx.err("RC301", f"`{ctx.name}` must be a string, got {_describe(v)}")
    if kind == "enum":
        if isinstance(v, str) and v in choices:
            return v
        hint = did_you_mean(str(v), choices) if isinstance(v, str) else None
        return ctx.err("RC309", f"`{ctx.name}` must be one of {', '.join(choices)}; got {_describe(v)}",
                       hint)
    if kind == "dict":
        if isinstance(v, dict):
            return v
        return ctx.err("RC301", f"`{ctx.name}` must be a mapping, got {_describe(v)}")
    if kind == "names":
        if isinstance(v, str):
            return [v]
        if isinstance(v, list) and all(isinstance(x, str) for x in _flatten(v)):
            return _flatten(v)
        return ctx.err("RC301", f"`{ctx.name}` must be a list of names, got {_describe(v)}")
    if kind == "params":
        return _params(v, ctx)
    if kind == "param_groups":
        return _param_groups(v, ctx)
    if kind == "sparsity":
        return _sparsity(v, ctx)
    if kind == "mask_type":
        if isinstance(v, str):
            return v
        if isinstance(v, list):
            return v
        return ctx.err("RC301", f"`{ctx.name}` must be a string or a list of two integers, got {_describe(v)}")
    raise AssertionError(kind)  # pragma: no cover


def _flatten(v: list) -> list:
    out = []
    for x in v:
        out.extend(_flatten(x) if isinstance(x, list) else [x])
    return out


def _params(v: Any, ctx: FieldContext):
    if isinstance(v, str):
        if v.upper() in SPECIAL_PARAMS:
            return v.upper()
        return ctx.err("RC314", f"unsupported string `{v}` for `{ctx.name}` of {ctx.kind}",
                       "use a list of names / `re:` patterns, `__ALL_PRUNABLE__` or `__ALL__`")
    if isinstance(v, list):
        flat = _flatten(v)
        bad = [x for x in flat if not isinstance(x, str)]
        if bad:
            return ctx.err("RC301", f"`{ctx.name}` must list parameter names, found {_describe(bad[0])}")
        return flat
    return ctx.err("RC301", f"`{ctx.name}` must be a list of names or `__ALL_PRUNABLE__`, got {_describe(v)}")


def _param_groups(v: Any, ctx: FieldContext):
    items = v if isinstance(v, list) else [v]
    out = []
    for x in items:
        if isinstance(x, bool):
            return ctx.err("RC301", f"`{ctx.name}` must list group indices, got {_describe(x)}")
        if isinstance(x, int):
            out.append(x)
        elif isinstance(x, float) and x.is_integer():
            out.append(int(x))
        elif isinstance(x, str) and x.lower() in GROUP_NAMES:
            out.append(GROUP_NAMES[x.lower()])
        else:
            hint = did_you_mean(x, GROUP_NAMES) if isinstance(x, str) else None
            return ctx.err("RC605", f"`{ctx.name}` entry {_describe(x)} is neither an index nor a group name",
                           hint or "use 0/1/2 or the names bn, weights, biases")
    return out


def _sparsity(v: Any, ctx: FieldContext):
    if isinstance(v, str):
        if v == "__FROM_PARAM__":
            return v
        v2 = _trap_number(v, ctx)
        if v2 is not MISSING and (why := _out_of_range(v2)) is not None:
            return ctx.err("RC208", f"`{ctx.name}` {why}")
        return v2 if v2 is MISSING else float(v2)
    if isinstance(v, bool):
        return ctx.err("RC301", f"`{ctx.name}` must be a number, got {_describe(v)}")
    if isinstance(v, int):
        ctx.warn("RC310", f"`{ctx.name}: {v}` is an integer; SparseML requires a float here",
                 f"write `{v}.0`")
        return float(v)
    if isinstance(v, float):
        return v
    if isinstance(v, list):
        if all(_is_num(x) for x in v):
            return [float(x) for x in v]
        return ctx.err("RC301", f"`{ctx.name}` list must hold numbers")
    if isinstance(v, dict):
        out = {}
        for k, names in v.items():
            try:
                key = float(k)
            except (TypeError, ValueError):
                return ctx.err("RC301", f"`{ctx.name}` mapping keys must be sparsities, got {_describe(k)}")
            if (why := _out_of_range(key)) is not None:  # a text key such as "1e400"
                return ctx.err("RC208", f"`{ctx.name}` mapping key {why}")
            out[key] = _flatten(names) if isinstance(names, list) else [names]
        return out
    return ctx.err("RC301", f"`{ctx.name}` must be a sparsity, got {_describe(v)}")


def _describe(v: Any) -> str:
    if isinstance(v, str):
        return f"the text `{v}`"
    if isinstance(v, bool):
        return f"the boolean `{str(v).lower()}`"
    if v is None:
        return "null"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "a mapping"
    return f"`{v}`"
