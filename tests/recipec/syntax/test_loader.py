"""The YAML loader: spans, tags, aliases, YAML 1.1 traps, Markdown front matter."""

from __future__ import annotations

from recipec.syntax import frontmatter
from recipec.syntax.loader import load
from recipec.syntax.tree import YMap, YScalar, YSeq


def root(text, path="t.yaml"):
    doc, diags = load(text, path)
    return doc.root, diags


def test_spans_are_one_based_and_end_exclusive():
    r, _ = root("key: value\nlist:\n  - 12\n")
    k, v = r.items[0]
    assert (k.span.line, k.span.col, k.span.end_col) == (1, 1, 4)
    assert (v.span.line, v.span.col, v.span.end_col) == (1, 6, 11)
    item = r.get("list").items[0]
    assert (item.span.line, item.span.col, item.value) == (3, 5, 12)


def test_tags_are_kept_not_constructed():
    r, diags = root("m:\n  - !GMPruningModifier\n    a: 1\n  - !ConstantPruningModifier\n")
    items = r.get("m").items
    assert isinstance(items[0], YMap) and items[0].tag == "!GMPruningModifier"
    assert isinstance(items[1], YScalar) and items[1].tag == "!ConstantPruningModifier"
    assert diags == []


def test_alias_sites_keep_their_own_span():
    r, _ = root("a: &x 5\nb: *x\nc: &l [1, 2]\nd: *l\n")
    b = r.get("b")
    assert b.value == 5 and b.alias_of == "x" and (b.span.line, b.span.col) == (2, 4)
    d = r.get("d")
    assert isinstance(d, YSeq) and d.alias_of == "l" and [i.value for i in d.items] == [1, 2]


def test_yaml11_traps_marked():
    r, _ = root("a: 1e-5\nb: 1.e-5\nc: on\nd: 017\ne: '1e-5'\n")
    assert r.get("a").value == "1e-5" and r.get("a").trap == "string-float"
    assert r.get("b").value == 1e-5 and r.get("b").trap is None
    assert r.get("c").value is True and r.get("c").trap == "bool-word"
    assert r.get("d").value == 15 and r.get("d").trap == "int-base"
    assert r.get("e").trap is None  # quoted: the author meant text


def test_duplicate_key_last_wins_with_warning():
    r, diags = root("a: 1\nb: 2\na: 3\n")
    assert r.get("a").value == 3 and [(d.code, d.span.line) for d in diags] == [("RC014", 3)]


def test_merge_keys():
    r, _ = root("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n")
    d = r.get("derived")
    assert {k.value: v.value for k, v in d.items} == {"x": 1, "y": 3}


def test_front_matter_blanks_outside_text():
    text = "<!-- c -->\n---\na: 1\n---\n# doc\n"
    yaml_text, start, end = frontmatter.extract(text)
    assert len(yaml_text) == len(text) and yaml_text.splitlines()[2] == "a: 1"
    assert frontmatter.extract("no delimiters") is None


def test_front_matter_closing_mid_line_warns():
    doc, diags = load("---\na: 1 # see --- below\n---\n", "c.md")
    assert [(d.code, d.span.line) for d in diags] == [("RC019", 2)]
