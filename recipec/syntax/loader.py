"""Recipe text -> `YNode` tree with spans, safely.

Nothing is ever constructed from a tag: we *compose* the YAML (nodes only) and build our own tree,
so `!!python/object` and friends become diagnostics. Aliases are bounded (an alias bomb expands to
at most `MAX_NODES` nodes), nesting is bounded (`MAX_DEPTH`), and so is the input size
(`MAX_BYTES`). Markdown recipe cards are reduced to their front matter first (`frontmatter`).
"""

from __future__ import annotations

import re

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from recipec.diagnostics import Diagnostic, error, warning
from recipec.span import Span
from recipec.syntax import frontmatter
from recipec.syntax.tree import MAP, SEQ, STR, LoadedDocument, YMap, YNode, YScalar, YSeq

MAX_BYTES = 1 << 20  # 1 MiB: real recipes are a few KiB
MAX_DEPTH = 64
MAX_NODES = 100_000

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_FLOATISH = re.compile(r"^[-+]?(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)[eE][-+]?\d+$")
_BOOL_WORDS = {"yes", "no", "on", "off", "y", "n"}
_OCTALISH = re.compile(r"^[-+]?0[0-7_]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?\d[\d_]*(?::[0-5]?\d)+(?:\.[\d_]*)?$")


class _TooDeep(Exception):
    def __init__(self, mark):
        self.mark = mark


class _Composer(yaml.SafeLoader):
    """PyYAML's safe loader, used only to compose: records alias sites, anchors and depth."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self.anchor_marks: dict[str, tuple] = {}

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            event = self.peek_event()
            node = super().compose_node(parent, index)
            return _AliasSite(node, event.anchor, event.start_mark, event.end_mark)
        event = self.peek_event()
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _TooDeep(event.start_mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if event.anchor is not None:
            node.anchor_name = event.anchor
            self.anchor_marks[event.anchor] = (event.start_mark, event.end_mark)
        return node


class _AliasSite:
    """Stands in for an aliased node, remembering where the `*alias` was written."""

    __slots__ = ("node", "anchor", "start_mark", "end_mark", "tag", "value")

    def __init__(self, node, anchor, start_mark, end_mark):
        self.node, self.anchor, self.start_mark, self.end_mark = node, anchor, start_mark, end_mark
        self.tag, self.value = node.tag, node.value


def _span(path: str, node) -> Span:
    return Span.from_marks(path, node.start_mark, node.end_mark)


def _yaml_error_diag(exc: yaml.YAMLError, path: str, text: str = "") -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or ""
    context = getattr(exc, "context", None) or ""
    if isinstance(exc, yaml.reader.ReaderError):
        pos = min(max(int(getattr(exc, "position", 0) or 0), 0), len(text))
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        return error("RC006", f"character U+{exc.character:04X} is not allowed in YAML",
                     Span.point(path, line, col), "remove control characters from the file")
    span = Span.point(path, mark.line + 1, mark.column + 1) if mark else None
    text = problem if problem else context
    if "found undefined alias" in text:
        return error("RC010", text.replace("found ", ""), span,
                     "define the anchor (`&name value`) before its first use (`*name`)")
    if "found duplicate anchor" in context:
        return error("RC011", context.replace("; first occurrence", "").replace("found ", ""), span,
                     "rename one of the anchors; YAML anchors must be unique in a file")
    if "expected a single document" in context:
        return error("RC007", "the YAML holds more than one document (a `---` separator)", span,
                     "a recipe is one YAML document; remove the extra `---`")
    msg = problem or context or str(exc)
    if context and problem:
        msg = f"{problem} ({context})"
    hint = None
    if "'\\t'" in msg or "\\t" in msg:
        hint = "YAML does not allow tabs for indentation; use spaces"
    return error("RC006", f"YAML syntax error: {msg}", span, hint)


def _scalar(node, path: str, ctor: "yaml.constructor.SafeConstructor", diags: list[Diagnostic]) -> YScalar:
    tag, raw = node.tag, node.value
    span = _span(path, node)
    plain = node.style is None
    trap = None
    value = raw
    if tag in _SCALAR_TAGS:
        if tag == _CORE + "str":
            if plain and _FLOATISH.match(raw):
                trap = "string-float"
        elif tag == _CORE + "timestamp":
            value = raw  # keep dates as text: no recipe field takes a date
        else:
            try:
                value = ctor.construct_object(node, deep=True)
            except Exception:  # a malformed number the resolver accepted: keep the text
                value = raw
            if tag == _CORE + "bool" and raw.lower() in _BOOL_WORDS:
                trap = "bool-word"
            elif tag == _CORE + "int" and (_OCTALISH.match(raw) or _SEXAGESIMAL.match(raw)):
                trap = "int-base"
    elif tag.startswith(_CORE + "python") or tag.startswith("!!python"):
        diags.append(error("RC009", f"unsafe YAML tag `{tag.replace(_CORE, '!!')}` refused", span,
                           "recipes hold data only; remove the tag"))
        value = None
    elif tag.startswith(_CORE):
        diags.append(error("RC009", f"unsupported YAML tag `{tag.replace(_CORE, '!!')}`", span,
                           "remove the tag"))
    return YScalar(value, raw, tag, span, plain, getattr(node, "anchor_name", None), None, trap)


class _Builder:
    """Walks composed PyYAML nodes into `YNode`s with a node budget (alias bombs)."""

    def __init__(self, path: str, diags: list[Diagnostic]):
        self.path, self.diags = path, diags
        self.count = 0
        self.ctor = yaml.constructor.SafeConstructor()
        self.exhausted = False

    def build(self, node, alias_of: str | None = None, site_span: Span | None = None) -> YNode | None:
        if isinstance(node, _AliasSite):
            return self.build(node.node, node.anchor, Span.from_marks(self.path, node.start_mark, node.end_mark))
        self.count += 1
        if self.count > MAX_NODES:
            if not self.exhausted:
                self.exhausted = True
                self.diags.append(error(
                    "RC012", f"the YAML expands to more than {MAX_NODES} values (nested aliases multiply: an alias bomb?)",
                    site_span or _span(self.path, node),
                    "recipes are small; aliases that nest aliases multiply"))
            return None
        if isinstance(node, ScalarNode):
            out = _scalar(node, self.path, self.ctor, self.diags)
        elif isinstance(node, SequenceNode):
            self._check_tag(node)
            items = [self.build(n) for n in node.value]
            out = YSeq([i for i in items if i is not None], node.tag, _span(self.path, node),
                       getattr(node, "anchor_name", None), None, bool(node.flow_style))
        elif isinstance(node, MappingNode):
            self._check_tag(node)
            out = self._mapping(node)
        else:  # pragma: no cover - PyYAML has only three node kinds
            return None
        if alias_of is not None:
            out = _with_alias(out, alias_of, site_span)
        return out

    def _check_tag(self, node) -> None:
        tag = node.tag
        if tag in (MAP, SEQ) or tag.startswith("!") and not tag.startswith("!!"):
            return
        if tag.startswith(_CORE):
            code_tag = tag.replace(_CORE, "!!")
            self.diags.append(error("RC009", f"unsafe or unsupported YAML tag `{code_tag}` refused",
                                    _span(self.path, node), "recipes hold data only; remove the tag"))

    def _mapping(self, node) -> YMap:
        items: list[tuple[YScalar, YNode]] = []
        index: dict = {}
        merged: list[tuple[YScalar, YNode]] = []
        for knode, vnode in node.value:
            if isinstance(knode, ScalarNode) and knode.tag == _CORE + "merge":
                src = self.build(vnode)
                sources = src.items if isinstance(src, YSeq) else [src]
                for s in sources:
                    if isinstance(s, YMap):
                        merged.extend(s.items)
                continue
            key = self.build(knode)
            if key is None:
                continue
            if not isinstance(key, YScalar):
                self.diags.append(error("RC006", "a mapping key must be a plain value, not a list or mapping",
                                        key.span))
                continue
            value = self.build(vnode)
            if value is None:
                continue
            hkey = key.value if isinstance(key.value, (str, int, float, bool, type(None))) else key.raw
            if hkey in index:
                first = items[index[hkey]][0]
                self.diags.append(warning(
                    "RC014", f"duplicate key `{key.raw}` (first at line {first.span.line}); the last one wins",
                    key.span, "SparseML silently keeps the last value; remove one of them"))
                items[index[hkey]] = (key, value)
            else:
                index[hkey] = len(items)
                items.append((key, value))
        for key, value in merged:  # merge keys (`<<: *base`) give way to explicit ones
            hkey = key.value
            if hkey not in index:
                index[hkey] = len(items)
                items.append((key, value))
        return YMap(items, node.tag, _span(self.path, node), getattr(node, "anchor_name", None), None,
                    bool(node.flow_style))


def _with_alias(node: YNode, anchor: str, site: Span | None) -> YNode:
    """A shallow copy of an aliased node, placed at the alias site."""
    span = site or node.span
    if isinstance(node, YScalar):
        return YScalar(node.value, node.raw, node.tag, span, node.plain, None, anchor, node.trap)
    if isinstance(node, YSeq):
        return YSeq(node.items, node.tag, span, None, anchor, node.flow)
    return YMap(node.items, node.tag, span, None, anchor, node.flow)


def decode(data: bytes, path: str) -> tuple[str | None, list[Diagnostic]]:
    """Bytes -> text; non-UTF-8 input is a diagnostic at the first bad byte."""
    if len(data) > MAX_BYTES:
        return None, [error("RC004", f"file is {len(data)} bytes; recipes are limited to {MAX_BYTES} bytes",
                            Span.point(path, 1, 1), "is this really a recipe?")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, [error("RC008", f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                            Span.point(path, line, col), "save the recipe as UTF-8")]
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, []


def load(text: str, path: str, *, markdown: bool | None = None) -> tuple[LoadedDocument, list[Diagnostic]]:
    """Parse recipe text into a node tree. Never raises on bad input: problems are diagnostics."""
    diags: list[Diagnostic] = []
    doc = LoadedDocument(None, text, path)
    if len(text) > MAX_BYTES:
        diags.append(error("RC004", f"recipe text is {len(text)} characters; the limit is {MAX_BYTES}",
                           Span.point(path, 1, 1)))
        return doc, diags
    if markdown is None:
        markdown = path.lower().endswith(".md")
    yaml_text = text
    if markdown:
        found = frontmatter.extract(text)
        if found is None:
            diags.append(error("RC003", "Markdown recipe has no YAML front matter (`---` ... `---`)",
                               Span.point(path, 1, 1),
                               "put the recipe between two lines holding only `---`"))
            return doc, diags
        yaml_text, start, end = found
        if frontmatter.closes_mid_line(text, end):
            line = text.count("\n", 0, end) + 1
            col = end - (text.rfind("\n", 0, end) + 1) + 1
            diags.append(warning("RC019", "the front matter ends at this `---`, in the middle of a line",
                                 Span.point(path, line, col, 3),
                                 "SparseML ends the YAML at the first later `---` anywhere; keep `---` out "
                                 "of comments and strings"))
    if not yaml_text.strip():
        diags.append(error("RC005", "the recipe is empty", Span.point(path, 1, 1),
                           "a recipe needs at least one `*_modifiers:` list"))
        return doc, diags
    loader = None
    try:
        loader = _Composer(yaml_text)
        node = loader.get_single_node()
    except _TooDeep as exc:
        diags.append(error("RC013", f"the YAML nests deeper than {MAX_DEPTH} levels",
                           Span.point(path, exc.mark.line + 1, exc.mark.column + 1)))
        return doc, diags
    except yaml.YAMLError as exc:
        diags.append(_yaml_error_diag(exc, path, yaml_text))
        return doc, diags
    except RecursionError:
        diags.append(error("RC013", "the YAML nests too deeply", Span.point(path, 1, 1)))
        return doc, diags
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        diags.append(error("RC005", "the recipe is empty (only comments)", Span.point(path, 1, 1),
                           "a recipe needs at least one `*_modifiers:` list"))
        return doc, diags
    doc.anchors = {a: Span.from_marks(path, s, e) for a, (s, e) in loader.anchor_marks.items()}
    doc.root = _Builder(path, diags).build(node)
    return doc, diags


__all__ = ["load", "decode", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "YMap", "YSeq", "YScalar", "STR"]
