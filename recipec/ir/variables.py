"""Resolve recipe variables: literals, and `eval()` of other variables in any order.

Variables are evaluated by dependency (depth first), so forward references and chains work as in
SparseML. Cycles and undefined names are diagnostics at their span (with did-you-mean), and the
variables involved stay unresolved (`MISSING`) so no cascade follows.
"""

from __future__ import annotations

import math
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
            value = float(node.raw.replace("_", ""))
            if not math.isfinite(value):
                diags.append(error("RC208", f"`{node.raw}` is out of range for a number", node.span))
                return MISSING
            return value
        if isinstance(node.value, float) and not math.isfinite(node.value):
            diags.append(error("RC208", f"`{node.raw}` is not a finite number", node.span))
            return MISSING
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
            value = _literal(d, diags)
            env.values[d.name] = value
            if value is MISSING:
                env.pending.add(d.name)
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
        for n in names:  # referenced, even if the evaluation fails later (cycles)
            env.uses[n] = env.uses.get(n, 0) + 1
        env.values[d.name] = MISSING
        env.pending.add(d.name)

    state: dict[str, int] = {}  # 1 = on the DFS path, 2 = done
    failed: set[str] = set()  # members of a reported cycle
    resolver = Resolver(env, diags)

    def evaluate(name: str) -> None:
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

    def visit(root: str) -> None:
        """Depth-first, iteratively (chains of thousands of variables must not recurse)."""
        if state.get(root):
            return
        state[root] = 1
        path = [root]
        stack = [(root, iter(exprs.get(root, ())))]
        while stack:
            name, deps_iter = stack[-1]
            for m in deps_iter:
                if m not in exprs:
                    continue
                st = state.get(m)
                if st == 1:
                    cycle = path[path.index(m):] + [m]
                    if m not in failed:
                        d = by_name[m]
                        diags.append(error("RC203", f"variable `{m}` depends on itself: {' -> '.join(cycle)}",
                                           d.node.span, "break the cycle: one of these must be a number"))
                    failed.update(cycle)
                    continue
                if st is None:
                    state[m] = 1
                    path.append(m)
                    stack.append((m, iter(exprs.get(m, ()))))
                    break
            else:
                stack.pop()
                path.pop()
                state[name] = 2
                if name not in failed:
                    evaluate(name)

    for name in exprs:
        visit(name)
    return info
