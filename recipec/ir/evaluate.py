"""Bounded evaluation of `eval()` expressions against the recipe's variables.

Expressions are data (`recipec.syntax.expr` nodes) walked here against one allow-list of
functions. Every step is bounded: integer results beyond 1e308 (what a float can hold), huge
powers, division by zero and non-finite results raise `EvalError`, a value the caller turns into
a diagnostic. Python's own `eval` is never used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from recipec.span import Span
from recipec.syntax.expr import BinOp, Call, Compare, Expr, Num, Unary, Var

LIMIT = 1e308
FUNCTIONS = {"abs": (1, 1), "float": (1, 1), "int": (1, 1), "min": (1, 64), "max": (1, 64), "round": (1, 2)}


class EvalError(Exception):
    def __init__(self, code: str, message: str, span: Span, help: str | None = None):
        super().__init__(message)
        self.code, self.message, self.span, self.help = code, message, span, help


class Undefined(EvalError):
    """An unknown variable name (the caller adds did-you-mean and cycle context)."""

    def __init__(self, name: str, span: Span):
        super().__init__("RC202", f"undefined variable `{name}`", span)
        self.name = name


@dataclass
class EvalNotes:
    """Things SparseML would trip over, found while evaluating (warnings for the caller)."""

    unary_minus: list[Span] = field(default_factory=list)
    comparisons: list[Span] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def free_names(e: Expr) -> list[str]:
    """Variable names an expression reads, in order of first appearance."""
    out: list[str] = []

    def walk(x: Expr) -> None:
        if isinstance(x, Var):
            if x.name not in out:
                out.append(x.name)
        elif isinstance(x, Unary):
            walk(x.operand)
        elif isinstance(x, BinOp):
            walk(x.left)
            walk(x.right)
        elif isinstance(x, Compare):
            for o in x.operands:
                walk(o)
        elif isinstance(x, Call):
            for a in x.args:
                walk(a)
            for _, a in x.kwargs:
                walk(a)

    walk(e)
    return out


def _check(v, span: Span):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        if abs(v) > LIMIT:
            raise EvalError("RC208", "the value is too large (beyond 1e308)", span)
        return v
    if isinstance(v, float) and not math.isfinite(v):
        raise EvalError("RC208", f"the value is not finite ({v})", span)
    return v


def _num(v, span: Span, what: str):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return v
    raise EvalError("RC209", f"{what} is a {type(v).__name__}, not a number", span,
                    "only numbers take part in arithmetic; a list or string variable can only be "
                    "passed through whole, as `eval(name)`")


def _pow(a, b, span: Span):
    if a == 0 and b < 0:
        raise EvalError("RC207", "zero raised to a negative power", span)
    if abs(a) > 1 and b > 0:
        if b * math.log10(abs(a)) > 308:
            raise EvalError("RC208", "the power is too large (beyond 1e308)", span)
    try:
        r = a ** b
    except (OverflowError, ZeroDivisionError):
        raise EvalError("RC208", "the power is out of range", span) from None
    if isinstance(r, complex):
        raise EvalError("RC208", "a negative number raised to a fractional power", span)
    return r


def evaluate(e: Expr, env: dict, notes: EvalNotes | None = None):
    """Evaluate `e`; names come from `env`. A lone name may yield any value (pass-through)."""
    notes = notes if notes is not None else EvalNotes()
    if isinstance(e, Var):
        if e.name not in env:
            raise Undefined(e.name, e.span)
        notes.names.append(e.name)
        return env[e.name]
    return _eval(e, env, notes)


def _eval(e: Expr, env: dict, notes: EvalNotes):
    if isinstance(e, Num):
        return _check(e.value, e.span)
    if isinstance(e, Var):
        if e.name not in env:
            raise Undefined(e.name, e.span)
        notes.names.append(e.name)
        return _num(env[e.name], e.span, f"variable `{e.name}`")
    if isinstance(e, Unary):
        v = _eval(e.operand, env, notes)
        if e.op == "-":
            notes.unary_minus.append(e.span)
            return _check(-v, e.span)
        return v
    if isinstance(e, BinOp):
        a = _eval(e.left, env, notes)
        b = _eval(e.right, env, notes)
        op = e.op
        if op in ("/", "//", "%") and b == 0:
            raise EvalError("RC207", "division by zero", e.right.span)
        try:
            if op == "+":
                r = a + b
            elif op == "-":
                r = a - b
            elif op == "*":
                r = a * b
            elif op == "/":
                r = a / b
            elif op == "//":
                r = a // b
            elif op == "%":
                r = a % b
            else:
                r = _pow(a, b, e.span)
        except OverflowError:
            raise EvalError("RC208", "the value is too large", e.span) from None
        return _check(r, e.span)
    if isinstance(e, Compare):
        notes.comparisons.append(e.span)
        vals = [_eval(x, env, notes) for x in e.operands]
        ok = True
        for op, a, b in zip(e.ops, vals, vals[1:]):
            ok = ok and {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]
        return int(ok)
    if isinstance(e, Call):
        return _call(e, env, notes)
    raise EvalError("RC201", "unsupported expression", e.span)  # pragma: no cover


def _call(e: Call, env: dict, notes: EvalNotes):
    if e.func not in FUNCTIONS:
        raise EvalError("RC204", f"function `{e.func}` is not allowed", e.span,
                        "allowed functions: " + ", ".join(sorted(FUNCTIONS)))
    lo, hi = FUNCTIONS[e.func]
    args = [_eval(a, env, notes) for a in e.args]
    kw = {}
    for k, v in e.kwargs:
        if not (e.func == "round" and k == "ndigits"):
            raise EvalError("RC204", f"`{e.func}` takes no keyword argument `{k}`", v.span)
        kw[k] = _eval(v, env, notes)
    n = len(args) + len(kw)
    if e.func in ("min", "max") and n < 2:
        raise EvalError("RC204", f"`{e.func}` needs at least two numbers", e.span)
    if not lo <= n <= hi:
        raise EvalError("RC204", f"`{e.func}` takes {lo if lo == hi else f'{lo} to {hi}'} argument(s), given {n}",
                        e.span)
    f = e.func
    try:
        if f == "abs":
            r = abs(args[0])
        elif f == "float":
            r = float(args[0])
        elif f == "int":
            r = int(args[0])
        elif f == "min":
            r = min(args)
        elif f == "max":
            r = max(args)
        else:
            nd = args[1] if len(args) > 1 else kw.get("ndigits")
            if nd is not None and (not isinstance(nd, int) or abs(nd) > 400):
                raise EvalError("RC204", "`round` needs a small integer number of digits", e.span)
            r = round(args[0]) if nd is None else round(args[0], nd)
    except (OverflowError, ValueError):
        raise EvalError("RC208", f"`{f}` of a value out of range", e.span) from None
    return _check(r, e.span)
