"""A small LALR(1) runtime that runs the parse tables Lark computes from `expr.lark`.

Lark is the grammar's compiler: `recipec.syntax.expr.build_tables` has it analyse `expr.lark` and
stores the result as JSON (`expr_tables.json`). At run time this module lexes and parses with
those tables, shaping the tree as Lark does (`?rule` inlining, `_rule` splicing, anonymous tokens
filtered, `-> alias` names, positions from the first to the last matched symbol), so `recipec
lint` does not pay for importing Lark. The grammar file stays the single source of truth; a test
checks that the tables are fresh.

Why not Lark's own runtime (issue 15 item 4 asked for it unless the lint start-up goal, <= 0.15 s whole
process, needs this module). Measured 2026-12-03 on the 2-core build machine (load average 12-16; CPU time
of the whole `recipec lint` process on the seed recipe, bytecode cached, 11 interleaved runs each, median):
this runtime 0.122 s; the module `python -m lark.tools.standalone --propagate_positions expr.lark` generates
(3572 lines, MPL-2.0) 0.152 s; `Lark(..., cache=True)` 0.163 s (and it unpickles its cache file from the temp
folder, which recipec does not do). In isolation: loading the standalone module 35 ms and 16 parses 4.2 ms,
against 10 ms and 1.1 ms here. Python itself takes 0.050 s of the 0.122 s on that machine, so either Lark
variant alone would spend the remaining headroom: this 180-line runtime stays.
"""

from __future__ import annotations

import re


class ParseError(Exception):
    """`pos` is a 0-based offset into the text; `token` the offending token text, if any."""

    def __init__(self, message: str, pos: int, token: str | None = None):
        super().__init__(message)
        self.message, self.pos, self.token = message, pos, token


# Plain slotted classes rather than dataclasses: this module is on `recipec lint`'s start-up path.


class Tok:
    __slots__ = ("type", "value", "start_pos", "end_pos")

    def __init__(self, type: str, value: str, start_pos: int, end_pos: int):
        self.type, self.value, self.start_pos, self.end_pos = type, value, start_pos, end_pos


class Meta:
    """Positions of a node; `container_*` is Lark's container: the text an inlined node took up
    with its wrapper (e.g. its parentheses)."""

    __slots__ = ("start_pos", "end_pos", "empty", "container_start", "container_end")

    def __init__(self):
        self.start_pos = self.end_pos = 0
        self.empty = True
        self.container_start = self.container_end = None


class Node:
    __slots__ = ("data", "children", "meta")

    def __init__(self, data: str, children: list):
        self.data, self.children, self.meta = data, children, Meta()


class _Rule:
    """One grammar rule: `keep[i]` says whether expansion symbol i stays in the tree."""

    __slots__ = ("origin", "size", "alias", "expand1", "keep")

    def __init__(self, origin: str, size: int, alias: str | None, expand1: bool, keep: tuple[bool, ...]):
        self.origin, self.size, self.alias, self.expand1, self.keep = origin, size, alias, expand1, keep


class Parser:
    """Build from the `{"data", "memo"}` dict of `Lark.memo_serialize` (decoded from JSON)."""

    def __init__(self, tables: dict):
        data, memo = tables["data"], tables["memo"]
        terms = []
        rules: dict[int, _Rule] = {}
        for key, obj in memo.items():
            if obj.get("__type__") == "TerminalDef":
                pat = obj["pattern"]
                rx = re.escape(pat["value"]) if pat["__type__"] == "PatternStr" else pat["value"]
                terms.append((obj["name"], re.compile(rx), obj.get("priority", 0)))
            elif obj.get("__type__") == "Rule":
                exp = obj["expansion"]
                rules[key] = _Rule(
                    origin=obj["origin"]["name"], size=len(exp), alias=obj.get("alias"),
                    expand1=bool(obj["options"].get("expand1")),
                    keep=tuple(not s.get("filter_out", False) for s in exp))
        lexer_conf = data["parser"]["lexer_conf"]
        self.ignore = set(lexer_conf.get("ignore", ()))
        self.terms = sorted(terms, key=lambda t: -t[2])
        self.rules = rules
        table = data["parser"]["parser"]
        self.index = {name: i for i, name in table["tokens"].items()}
        self.states = table["states"]
        self.start = table["start_states"]["start"]
        self.end = table["end_states"]["start"]

    # -- lexing ----------------------------------------------------------------------------------

    def _next(self, text: str, pos: int, allowed: dict) -> Tok | None:
        """The next token at `pos` (skipping ignored ones), preferring terminals `allowed` now."""
        while pos < len(text):
            best = None
            for name, rx, prio in self.terms:
                m = rx.match(text, pos)
                if not m or m.end() == pos:
                    continue
                ok = name in self.ignore or self.index.get(name) in allowed
                key = (ok, prio, m.end() - pos)
                if best is None or key > best[0]:
                    best = (key, name, m)
            if best is None:
                raise ParseError(f"unexpected character {text[pos]!r}", pos)
            _, name, m = best
            if name in self.ignore:
                pos = m.end()
                continue
            return Tok(name, m.group(), pos, m.end())
        return None

    # -- parsing ---------------------------------------------------------------------------------

    def parse(self, text: str):
        states, rules, index = self.states, self.rules, self.index
        stack = [self.start]
        values: list = []
        pos = 0
        end_tok = Tok("$END", "", len(text), len(text))
        tok = self._next(text, pos, states[stack[-1]])
        while True:
            cur = tok if tok is not None else end_tok
            action = states[stack[-1]].get(index.get(cur.type))
            if action is None:
                if cur is end_tok:
                    raise ParseError("the expression ends too early", len(text.rstrip()))
                raise ParseError(f"unexpected {cur.value!r}", cur.start_pos, cur.value)
            kind, arg = action
            if kind == 0:  # shift
                stack.append(arg)
                values.append(cur)
                tok = self._next(text, cur.end_pos, states[arg])
                continue
            rule = rules[arg["@"]]  # reduce
            n = rule.size
            matched = values[len(values) - n:] if n else []
            del values[len(values) - n:]
            del stack[len(stack) - n:]
            values.append(self._shape(rule, matched))
            goto = states[stack[-1]][index[rule.origin]]
            stack.append(goto[1])
            if cur is end_tok and stack[-1] == self.end:
                return values[-1]

    @staticmethod
    def _shape(rule: _Rule, matched: list):
        children = []
        for sym, keep in zip(matched, rule.keep):
            if isinstance(sym, Node) and sym.data.startswith("_"):
                children.extend(sym.children)  # splice helper rules (__x_plus_0, __x_star_1)
            elif keep:
                children.append(sym)
        if rule.expand1 and rule.alias is None and len(children) == 1:
            res = children[0]
        else:
            res = Node(rule.alias or rule.origin, children)
        if isinstance(res, Node):
            # Lark's propagate_positions: a node spans its first to last matched symbol, measured
            # by their containers; an inlined node keeps its own span but gains a container.
            spans = [s for s in matched if not (isinstance(s, Node) and s.meta.empty)]
            if spans:
                start, end = _start(spans[0]), _end(spans[-1])
                meta = res.meta
                if meta.empty:
                    meta.start_pos, meta.end_pos, meta.empty = start, end, False
                meta.container_start, meta.container_end = start, end
        return res


def _start(sym) -> int:
    if isinstance(sym, Tok):
        return sym.start_pos
    c = sym.meta.container_start
    return sym.meta.start_pos if c is None else c


def _end(sym) -> int:
    if isinstance(sym, Tok):
        return sym.end_pos
    c = sym.meta.container_end
    return sym.meta.end_pos if c is None else c
