"""Parse the text inside `eval(...)` into expression nodes with spans.

The grammar is `expr.lark` (the source of truth). Building an LALR parser from it costs ~15 ms, so
its analysed tables are kept in `expr_tables.json` next to it, stamped with the grammar's SHA-256;
when the grammar changes the tables are rebuilt from the `.lark` file (and rewritten when the
package directory is writable). The tables are plain JSON: nothing is unpickled. At run time
`recipec.syntax.lalr` parses with them, so `lark` is imported only to (re)build the tables.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from recipec.span import Span

GRAMMAR = Path(__file__).with_name("expr.lark")
TABLES = Path(__file__).with_name("expr_tables.json")
MAX_EXPR_CHARS = 1000
MAX_EXPR_DEPTH = 200


@dataclass(frozen=True, slots=True)
class Num:
    value: int | float
    span: Span


@dataclass(frozen=True, slots=True)
class Var:
    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" or "+"
    operand: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str  # + - * / // % **
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class Compare:
    ops: tuple[str, ...]
    operands: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple["Expr", ...]
    kwargs: tuple[tuple[str, "Expr"], ...]
    span: Span


Expr = Union[Num, Var, Unary, BinOp, Compare, Call]


class ExprSyntaxError(Exception):
    """A parse error at character `pos` (0-based) of the expression text."""

    def __init__(self, message: str, pos: int, width: int = 1):
        super().__init__(message)
        self.message, self.pos, self.width = message, pos, width


# --- the parser (built lazily, once per process) -------------------------------------------------

_PARSER = None


def _grammar_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _enc(o):
    """JSON-encode lark's serialized tables, keeping non-string dict keys and tuples."""
    if isinstance(o, dict):
        if all(isinstance(k, str) for k in o):
            return {k: _enc(v) for k, v in o.items()}
        return {"__kv__": [[_enc(k), _enc(v)] for k, v in o.items()]}
    if isinstance(o, tuple):
        return {"__tuple__": [_enc(x) for x in o]}
    if isinstance(o, list):
        return [_enc(x) for x in o]
    return o


def _dec(o):
    if isinstance(o, dict):
        if "__kv__" in o:
            return {_dec(k): _dec(v) for k, v in o["__kv__"]}
        if "__tuple__" in o:
            return tuple(_dec(x) for x in o["__tuple__"])
        return {k: _dec(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_dec(x) for x in o]
    return o


def build_tables(write: bool = True) -> dict:
    """Analyse `expr.lark` and return (and optionally write) the JSON tables."""
    import lark

    text = GRAMMAR.read_text(encoding="utf-8")
    parser = lark.Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=False)
    data, memo = parser.memo_serialize([lark.lexer.TerminalDef, lark.grammar.Rule])
    tables = {"grammar_sha256": _grammar_hash(text), "lark": lark.__version__,
              "tables": _enc({"data": data, "memo": memo})}
    if write:
        try:
            TABLES.write_text(json.dumps(tables, separators=(",", ":")), encoding="utf-8")
        except OSError:
            pass
    return tables


def _load_tables() -> dict | None:
    try:
        tables = json.loads(TABLES.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if tables.get("grammar_sha256") != _grammar_hash(GRAMMAR.read_text(encoding="utf-8")):
        return None
    return tables


def tables_fresh() -> bool:
    """Whether `expr_tables.json` was built from the current `expr.lark`."""
    return _load_tables() is not None


def parser():
    """The expression parser (tables from `expr_tables.json`, rebuilt by Lark when stale)."""
    global _PARSER
    if _PARSER is None:
        from recipec.syntax.lalr import Parser

        tables = _load_tables() or build_tables(write=True)
        _PARSER = Parser(_dec(tables["tables"]))
    return _PARSER


# --- text -> nodes ------------------------------------------------------------------------------


def parse(text: str, base: Span, offset: int = 0) -> Expr:
    """Parse `text`; node spans are `base.sub(offset + pos, len)`. Raises ExprSyntaxError."""
    if len(text) > MAX_EXPR_CHARS:
        raise ExprSyntaxError(f"expression is longer than {MAX_EXPR_CHARS} characters", 0)
    if not text.strip():
        raise ExprSyntaxError("empty expression", 0)
    from recipec.syntax.lalr import ParseError

    try:
        tree = parser().parse(text)
    except ParseError as exc:
        raise ExprSyntaxError(exc.message, exc.pos, len(exc.token or "") or 1) from None
    except RecursionError:
        raise ExprSyntaxError("the expression nests too deeply", 0) from None
    return _Lower(text, base, offset).node(tree)


class _Lower:
    def __init__(self, text: str, base: Span, offset: int):
        self.text, self.base, self.offset = text, base, offset
        self.depth = 0

    def span(self, start: int, end: int) -> Span:
        return self.base.sub(self.offset + start, end - start)

    def tok_span(self, tok) -> Span:
        return self.span(tok.start_pos, tok.end_pos)

    def node(self, t) -> Expr:
        self.depth += 1
        try:
            if self.depth > MAX_EXPR_DEPTH:
                pos = t.meta.start_pos if not t.meta.empty else 0
                raise ExprSyntaxError(f"the expression nests deeper than {MAX_EXPR_DEPTH} levels", pos)
            return self._node(t)
        finally:
            self.depth -= 1

    def _node(self, t) -> Expr:
        from recipec.syntax.lalr import Tok

        if isinstance(t, Tok):  # pragma: no cover - the grammar wraps every token
            raise ExprSyntaxError(f"unexpected {t.value!r}", t.start_pos)
        kind = t.data
        sp = self.span(t.meta.start_pos, t.meta.end_pos) if not t.meta.empty else self.base
        c = t.children
        if kind == "number":
            tok = c[0]
            s = tok.value
            value: int | float = float(s) if any(ch in s for ch in ".eE") else int(s)
            return Num(value, self.tok_span(tok))
        if kind == "var":
            return Var(c[0].value, self.tok_span(c[0]))
        if kind == "unary":
            return Unary(c[0].value, self.node(c[1]), sp)
        if kind == "binop":
            return BinOp(c[1].value, self.node(c[0]), self.node(c[2]), sp)
        if kind == "compare":
            ops = tuple(x.value for x in c[1::2])
            return Compare(ops, tuple(self.node(x) for x in c[0::2]), sp)
        if kind == "call":
            args, kwargs = [], []
            if len(c) > 1 and c[1] is not None:
                for a in c[1].children:
                    if a is None:
                        continue
                    if getattr(a, "data", None) == "kwarg":
                        kwargs.append((a.children[0].value, self.node(a.children[1])))
                    else:
                        args.append(self.node(a))
            return Call(c[0].value, tuple(args), tuple(kwargs), sp)
        raise ExprSyntaxError(f"unsupported syntax {kind}", t.meta.start_pos if not t.meta.empty else 0)


def to_text(e: Expr) -> str:
    """Render an expression back to source text (fully parenthesised where it matters)."""
    if isinstance(e, Num):
        return repr(e.value)
    if isinstance(e, Var):
        return e.name
    if isinstance(e, Unary):
        return f"({e.op}{to_text(e.operand)})"
    if isinstance(e, BinOp):
        return f"({to_text(e.left)} {e.op} {to_text(e.right)})"
    if isinstance(e, Compare):
        out = to_text(e.operands[0])
        for op, x in zip(e.ops, e.operands[1:]):
            out += f" {op} {to_text(x)}"
        return f"({out})"
    args = [to_text(a) for a in e.args] + [f"{k}={to_text(v)}" for k, v in e.kwargs]
    return f"{e.func}({', '.join(args)})"
