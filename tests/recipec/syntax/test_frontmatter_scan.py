"""Issue 17 item 7: the Markdown front-matter scan is linear (SparseML's regex was quadratic on blank
lines: 40k newlines took 11-16 s) and finds exactly the block SparseML's regex finds."""

from __future__ import annotations

import re
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recipec.frontend import compile_recipe
from recipec.syntax import frontmatter

# SparseML's rule, written as its multiline regex: the reference the linear scan must agree with.
SPARSEML = re.compile(r"^\s*(?:---|\+\+\+)(.*?)(?:---|\+\+\+)", re.S | re.M)
PIECES = ["---", "+++", "--", "-", "+", "\n", " ", "\t", "\r", "\u2028", "\x0c", "a", "# x", "a: 1", "\n---\n"]


def reference(text: str):
    m = SPARSEML.search(text)
    return None if m is None else m.span(1)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(PIECES), max_size=25))
def test_same_block_as_sparseml_regex(parts):
    text = "".join(parts)
    found = frontmatter.extract(text)
    assert (None if found is None else found[1:]) == reference(text)


def test_examples():
    assert frontmatter.extract("# card\n\n---\na: 1\n---\nrest")[1:] == (11, 17)
    assert frontmatter.extract("text ---\n---\na: 1\n+++")[1:] == (12, 18)  # `---` after text does not open
    assert frontmatter.extract("---\na: 1\n") is None  # never closed
    assert frontmatter.extract("\n" * 10) is None


def test_blank_lines_are_linear():
    """200k blank lines (quadratic: > 30 s; 10k took 0.7 s) and an unclosed block of blank lines."""
    for text in ("\n" * 200_000, " \n" * 200_000, "---" + "\n" * 200_000, "\n" * 200_000 + "---\na: 1\n---\n"):
        t = time.perf_counter()
        frontmatter.extract(text)
        assert time.perf_counter() - t < 0.5


def test_lint_of_a_blank_markdown_file_is_fast():
    t = time.perf_counter()
    res = compile_recipe("blank.md", text="\n" * 200_000)
    assert time.perf_counter() - t < 2.0
    assert [d.code for d in res.diagnostics] == ["RC003"]
