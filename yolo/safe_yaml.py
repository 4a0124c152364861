"""Bounded YAML for small configuration files (data YAMLs, hyperparameter files): `yaml.safe_load` with limits.

`safe_load` shares aliased nodes, so a few hundred bytes of nested aliases (`b: [*a, *a, ...]`, each level
listing the previous one) stand for billions of values, and whoever walks the result (`str()`, a loop) pays
for all of them. Here the file is read up to `MAX_BYTES`, nesting is bounded while composing (`MAX_DEPTH`),
and the composed node graph is measured as the tree it stands for, aliases expanded, before anything is
constructed (`MAX_NODES`; linear in the composed nodes). An alias to the collection that contains it is
refused. Only PyYAML's safe constructors run: no tag builds an object. Nothing here imports torch.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, SequenceNode

MAX_BYTES = 4 << 20     # a data YAML with 10,000 class names is about 200 KB
MAX_DEPTH = 64
MAX_NODES = 100_000


class YamlLimitError(ValueError):
    """The YAML is over a limit (size, nesting, expanded aliases); the message says which."""


class _Loader(yaml.SafeLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlLimitError(f"the YAML is nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _children(node) -> list:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_expanded_size(root, limit: int) -> None:
    """Count the nodes of the tree `root` stands for, each alias expanded (memoized per node: linear)."""
    size: dict[int, int] = {}
    open_: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in _children(node))
            if size[key] > limit:
                raise YamlLimitError(f"the YAML expands to more than {limit:,} values "
                                     "(aliases that repeat aliases multiply: an alias bomb?)")
            continue
        if key in size:
            continue
        if key in open_:
            raise YamlLimitError("an alias refers to the collection that contains it (a recursive YAML)")
        open_.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size)


def load_bounded(text: str, max_nodes: int | None = None) -> Any:
    """`yaml.safe_load(text)` within the limits. Raises YamlLimitError or yaml.YAMLError."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expanded_size(node, MAX_NODES if max_nodes is None else max_nodes)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_bounded(path: str | Path, max_bytes: int | None = None) -> str:
    """The text (UTF-8) of a regular file, reading at most `max_bytes` + 1 bytes. Raises YamlLimitError,
    OSError, UnicodeDecodeError."""
    limit = MAX_BYTES if max_bytes is None else max_bytes
    if not stat.S_ISREG(os.stat(path).st_mode):  # a pipe or a device would block or never end
        raise YamlLimitError(f"{path} is not a regular file")
    with open(path, "rb") as fh:
        raw = fh.read(limit + 1)
    if len(raw) > limit:
        raise YamlLimitError(f"the file is larger than {limit:,} bytes")
    return raw.decode("utf-8")


def load_file(path: str | Path) -> Any:
    """`load_bounded(read_bounded(path))`. Raises YamlLimitError, yaml.YAMLError, OSError, UnicodeDecodeError."""
    return load_bounded(read_bounded(path))


class YamlFileError(Exception):
    """A YAML file that cannot be read or parsed; the message is complete and meant for the user."""


def load_file_or_error(path: Path, what: str = "") -> Any:
    """`load_file(path)`, its failures as one YamlFileError: "cannot read {what}{path}: reason" when the file
    cannot be read, "{path} is not valid YAML: reason" otherwise (`what`: e.g. "hyperparameter file ")."""
    try:
        return load_file(path)
    except OSError as exc:
        raise YamlFileError(f"cannot read {what}{path}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, YamlLimitError, UnicodeDecodeError) as exc:
        raise YamlFileError(f"{path} is not valid YAML: {exc}") from None
