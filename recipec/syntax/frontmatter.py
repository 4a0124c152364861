"""Markdown recipe cards: the YAML sits between the first pair of `---` (or `+++`) delimiters.

We use SparseML's rule (a multiline regex, searched once): text may precede the opening
delimiter (licence comments, headings), and the first later delimiter closes the block even in
the middle of a line. Everything outside the block is blanked to spaces, newlines kept, so YAML
positions in the returned text are positions in the original file: no offset bookkeeping.
"""

from __future__ import annotations

import re

_FRONT = re.compile(r"^\s*(?:---|\+\+\+)(.*?)(?:---|\+\+\+)", re.S | re.M)
_NOT_NL = re.compile(r"[^\n]")


def extract(text: str) -> tuple[str, int, int] | None:
    """Return (yaml_text, start, end) with yaml_text as long as `text`, or None when no block.

    `start`/`end` are the character offsets of the YAML between the delimiters.
    """
    m = _FRONT.search(text)
    if m is None:
        return None
    start, end = m.span(1)
    blanked = _NOT_NL.sub(" ", text[:start]) + text[start:end] + _NOT_NL.sub(" ", text[end:])
    return blanked, start, end


def closes_mid_line(text: str, end: int) -> bool:
    """True when the closing delimiter at offset `end` does not start its line (a trap)."""
    line_start = text.rfind("\n", 0, end) + 1
    return text[line_start:end].strip() != ""
