"""The YAML node tree the loader produces: plain values plus spans, tags and alias provenance.

Three node kinds. Scalars carry the YAML 1.1 value (what PyYAML's safe loader would construct)
and the raw text, so later stages can warn about YAML 1.1 surprises (`1e-5` is a string, `on` is
a boolean). `alias_of` names the anchor when the node was reached through an alias `*name`
(SparseML freezes such values at parse time, so overrides never reach them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from recipec.span import Span


@dataclass(slots=True)
class YScalar:
    value: Any
    raw: str
    tag: str
    span: Span
    plain: bool = True  # unquoted in the source
    anchor: str | None = None
    alias_of: str | None = None
    trap: str | None = None  # a YAML 1.1 reading that surprises ("string-float", "bool-word", ...)


@dataclass(slots=True)
class YMap:
    items: list[tuple[YScalar, "YNode"]]
    tag: str
    span: Span
    anchor: str | None = None
    alias_of: str | None = None
    flow: bool = False

    def get(self, key: str) -> "YNode | None":
        for k, v in self.items:
            if k.value == key:
                return v
        return None

    def keys(self) -> list[str]:
        return [str(k.value) for k, _ in self.items]


@dataclass(slots=True)
class YSeq:
    items: list["YNode"]
    tag: str
    span: Span
    anchor: str | None = None
    alias_of: str | None = None
    flow: bool = False


YNode = Union[YScalar, YMap, YSeq]

STR = "tag:yaml.org,2002:str"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"


def is_custom_tag(tag: str) -> bool:
    """A local `!Name` tag (modifier tags), as opposed to a core `tag:yaml.org,2002:` one."""
    return tag.startswith("!")


def to_plain(node: YNode) -> Any:
    """The Python value of a node (lists, dicts, scalars); tags are dropped."""
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return [to_plain(n) for n in node.items]
    return {k.value: to_plain(v) for k, v in node.items}


@dataclass(slots=True)
class LoadedDocument:
    """What the loader hands to lowering: the root node and facts about the source."""

    root: YNode | None
    text: str
    path: str
    anchors: dict[str, Span] = field(default_factory=dict)
