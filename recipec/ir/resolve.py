"""Evaluate `eval(...)` strings found in YAML scalars, against an environment of variables.

`Env` maps names to resolved values and to the variables each value came from. `Resolver`
walks a node (scalar, list or mapping), evaluating every `eval(...)` string anywhere inside (as
SparseML does for modifier fields), and returns the plain Python value plus the variable names
it depends on. Problems become diagnostics; the value is then `MISSING`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from recipec.diagnostics import Diagnostic, did_you_mean, error, warning
from recipec.ir.evaluate import EvalError, EvalNotes, Undefined, evaluate
from recipec.span import Span
from recipec.syntax.tree import YMap, YNode, YScalar, YSeq

_LOOSE_EVAL = re.compile(r"^\s*eval\s*\((.*)\)\s*$", re.S)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


@dataclass
class Env:
    """Resolved variables visible at some point: values and their transitive dependencies."""

    values: dict[str, Any] = field(default_factory=dict)
    deps: dict[str, tuple[str, ...]] = field(default_factory=dict)
    uses: dict[str, int] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)  # names whose own evaluation failed

    def child(self) -> "Env":
        return Env(dict(self.values), dict(self.deps), self.uses, set(self.pending))


def eval_text(s: str) -> tuple[str, int, bool] | None:
    """If `s` is an `eval(...)` string: (inner text, offset of inner in s, exact form?)."""
    if not isinstance(s, str) or "eval" not in s:
        return None
    if s.startswith("eval(") and s.endswith(")"):
        return s[5:-1], 5, True
    m = _LOOSE_EVAL.match(s)
    if m:
        return m.group(1), m.start(1), False
    return None


def _base_span(node: YScalar) -> Span:
    """Span to which expression offsets are added (inside the quotes of a quoted scalar)."""
    sp = node.span
    if not node.plain:
        return Span(sp.path, sp.line, sp.col + 1, sp.end_line, sp.end_col)
    return sp


class Resolver:
    def __init__(self, env: Env, diags: list[Diagnostic]):
        self.env, self.diags = env, diags

    def eval_scalar(self, node: YScalar, deps: set[str]) -> Any:
        """The value of one `eval(...)` scalar, or MISSING after a diagnostic."""
        from recipec.syntax.expr import ExprSyntaxError, parse

        found = eval_text(node.value)
        assert found is not None
        inner, off, exact = found
        base = _base_span(node)
        if not exact:
            self.diags.append(warning(
                "RC211", "SparseML does not recognise this `eval(...)` (spaces around it or before `(`)",
                node.span, "write exactly `eval(EXPR)`; SparseML would keep the text as a string"))
        try:
            expr = parse(inner, base, off)
        except ExprSyntaxError as exc:
            self.diags.append(error("RC201", f"invalid expression: {exc.message}", base.sub(off + exc.pos, exc.width),
                                    _syntax_help(inner)))
            return MISSING
        from recipec.ir.evaluate import free_names

        for n in free_names(expr):  # a reference counts as a use even when evaluation fails
            self.env.uses[n] = self.env.uses.get(n, 0) + 1
        notes = EvalNotes()
        try:
            value = evaluate(expr, _EnvView(self.env), notes)
        except Undefined as exc:
            if exc.name in self.env.pending:
                return MISSING  # already reported where that variable is defined
            hint = did_you_mean(exc.name, [n for n in self.env.values])
            self.diags.append(error("RC202", exc.message, exc.span, hint or _vars_help(self.env)))
            return MISSING
        except EvalError as exc:
            self.diags.append(error(exc.code, exc.message, exc.span, exc.help))
            return MISSING
        for n in notes.names:
            deps.add(n)
            deps.update(self.env.deps.get(n, ()))
        for sp in notes.unary_minus[:1]:  # one per expression
            self.diags.append(warning("RC205", "SparseML cannot evaluate unary minus (recipec can)", sp,
                                      "for SparseML compatibility write `0 - x`"))
        for sp in notes.comparisons[:1]:
            self.diags.append(warning("RC206", "SparseML refuses comparisons in `eval()`; recipec gives 1 or 0",
                                      sp))
        return value

    def value(self, node: YNode, deps: set[str]) -> Any:
        """Plain value of `node` with every `eval(...)` string inside evaluated."""
        if isinstance(node, YScalar):
            if isinstance(node.value, str) and eval_text(node.value) is not None:
                return self.eval_scalar(node, deps)
            return node.value
        if isinstance(node, YSeq):
            out = []
            for item in node.items:
                v = self.value(item, deps)
                if v is MISSING:
                    return MISSING
                out.append(v)
            return out
        out_map = {}
        for k, v in node.items:
            val = self.value(v, deps)
            if val is MISSING:
                return MISSING
            out_map[k.value] = val
        return out_map


class _EnvView(dict):
    """Read-only mapping over an Env's values for `evaluate` (pending names count as unknown)."""

    def __init__(self, env: Env):
        super().__init__()
        self._env = env

    def __contains__(self, name) -> bool:
        return name in self._env.values and self._env.values[name] is not MISSING

    def __getitem__(self, name):
        return self._env.values[name]


def _syntax_help(inner: str) -> str:
    if "'" in inner or '"' in inner:
        return "expressions hold numbers, variable names, operators and min/max/abs/round/int/float only"
    if "." in inner and re.search(r"[A-Za-z_]\.", inner):
        return "attribute access is not allowed; only plain variable names"
    return "expressions hold numbers, variable names, + - * / // % **, parentheses and min/max/abs/round/int/float"


def _vars_help(env: Env) -> str:
    names = sorted(n for n in env.values)
    if not names:
        return "the recipe defines no variables; define it as a top-level key"
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f"the recipe's variables: {shown}"
