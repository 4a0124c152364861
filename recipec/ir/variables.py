"""Resolve recipe variables: literals, and `eval()` of other variables in any order.

Variables are evaluated by dependency (depth first), so forward references and chains work as in
SparseML. Cycles and undefined names are diagnostics at their span (with did-you-mean), and the
variables involved stay unresolved (`MISSING`) so no cascade follows.
"""

from __future__ import annotations

from dataclasses import dataclass

from recipec.diagnostics import Diagnostic, error, warning
from recipec.ir.resolve import MISSING, Env, Resolver, eval_text
from recipec.syntax.tree import YNode, YScalar, to_plain


@dataclass
class VarDef:
    name: str
    key: YScalar
    node: YNode
    stage: str | None = None
    override: object = MISSING  # a value given on the command line / API


def _literal(d: VarDef, diags: list[Diagnostic]):
    node = d.node
    if isinstance(node, YScalar):
        if node.trap == "string-float":
            diags.append(warning(
                "RC213", f"`{node.raw}` is a string to SparseML (YAML 1.1); recipec reads it as a number",
                node.span, f"write `{_dotted(node.raw)}` so every tool reads a float"))
            return float(node.raw.replace("_", ""))
        return node.value
    return to_plain(node)


def _dotted(raw: str) -> str:
    mant, _, exp = raw.lower().partition("e")
    return f"{mant}.e{exp}" if "." not in mant else raw


def resolve(defs: list[VarDef], env: Env, diags: list[Diagnostic]) -> dict[str, dict]:
    """Resolve `defs` into `env` (in place). Returns per-name info: expr text and deps."""
    from recipec.syntax.expr import ExprSyntaxError, parse
    from recipec.ir.evaluate import free_names

    by_name = {d.name: d for d in defs}
    info: dict[str, dict] = {}
    exprs: dict[str, list[str]] = {}
    for d in defs:
        if d.override is not MISSING:
            env.values[d.name] = d.override
            env.deps[d.name] = ()
            info[d.name] = {"expr": None}
            continue
        found = eval_text(d.node.value) if isinstance(d.node, YScalar) else None
        if found is None:
            env.values[d.name] = _literal(d, diags)
            env.deps[d.name] = ()
            info[d.name] = {"expr": None}
            continue
        inner, off, _ = found
        info[d.name] = {"expr": inner.strip()}
        try:
            names = free_names(parse(inner, d.node.span, off))
        except ExprSyntaxError:
            names = []  # the evaluation below reports the syntax error at its position
        exprs[d.name] = names
        env.values[d.name] = MISSING
        env.pending.add(d.name)

    state: dict[str, int] = {}
    resolver = Resolver(env, diags)

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = path[path.index(name):] + [name]
            d = by_name[name]
            diags.append(error("RC203", f"variable `{name}` depends on itself: {' -> '.join(cycle)}",
                               d.node.span, "break the cycle: one of these must be a number"))
            for n in cycle:
                state[n] = 2
            return
        state[name] = 1
        for m in exprs.get(name, []):
            if m in exprs:
                visit(m, path + [name])
        if state.get(name) == 2:  # part of a reported cycle
            return
        state[name] = 2
        d = by_name[name]
        env.pending.discard(name)
        env.values.pop(name, None)
        deps: set[str] = set()
        value = resolver.eval_scalar(d.node, deps)
        if value is MISSING:
            env.values[name] = MISSING
            env.pending.add(name)
        else:
            env.values[name] = value
        env.deps[name] = tuple(sorted(deps))

    for name in exprs:
        visit(name, [])
    return info
