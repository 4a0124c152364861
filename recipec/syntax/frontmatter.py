r"""Markdown recipe cards: the YAML sits between the first pair of `---` (or `+++`) delimiters.

We use SparseML's rule (its multiline regex `^\s*(?:---|\+\+\+)(.*?)(?:---|\+\+\+)`, searched
once): text may precede the opening delimiter (licence comments, headings), and the first later
delimiter closes the block even in the middle of a line. The regex is quadratic on blank lines
(`^\s*` retried at every line start: 40k newlines took 11 s), so we scan in linear time for the
same block: the opening delimiter is the first `---`/`+++` preceded only by whitespace back to a
line start (or the start of the text). Everything outside the block is blanked to spaces,
newlines kept, so YAML positions in the returned text are positions in the original file: no
offset bookkeeping.
"""

from __future__ import annotations

import re

_DELIM = re.compile(r"---|\+\+\+")
_NOT_NL = re.compile(r"[^\n]")


def _opens(text: str, at: int) -> bool:
    r"""Whether only whitespace lies between a line start and the delimiter at `at` (`^\s*` in re.M).

    The backward walk stops at the first non-space: over all delimiters it reads each character
    once at most, since a delimiter's own characters end the walk of the next one."""
    i = at - 1
    while i >= 0 and text[i].isspace():  # str.isspace is re's `\s` for str patterns
        if text[i] == "\n":
            return True
        i -= 1
    return i < 0


def extract(text: str) -> tuple[str, int, int] | None:
    """Return (yaml_text, start, end) with yaml_text as long as `text`, or None when no block.

    `start`/`end` are the character offsets of the YAML between the delimiters.
    """
    opening = next((m for m in _DELIM.finditer(text) if _opens(text, m.start())), None)
    if opening is None:
        return None
    start = opening.end()
    closing = _DELIM.search(text, start)
    if closing is None:
        return None
    end = closing.start()
    blanked = _NOT_NL.sub(" ", text[:start]) + text[start:end] + _NOT_NL.sub(" ", text[end:])
    return blanked, start, end


def closes_mid_line(text: str, end: int) -> bool:
    """True when the closing delimiter at offset `end` does not start its line (a trap)."""
    line_start = text.rfind("\n", 0, end) + 1
    return text[line_start:end].strip() != ""
