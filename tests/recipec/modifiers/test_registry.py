"""Tests that iterate over the registries: every modifier kind, every rule, every code."""

from __future__ import annotations

import re

import pytest

from conftest import REPO
from recipec.check import RULES
from recipec.diagnostics.codes import CATALOG
from recipec.modifiers import REGISTRY, RENAMED
from recipec.modifiers.base import KINDS
from recipec_testutil import compile_text

SRC = REPO / "recipec"


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_spec_declaration(kind):
    cls = REGISTRY[kind]
    assert cls.kind == kind
    assert cls.__module__.startswith("recipec.modifiers.")
    doc = (cls.__doc__ or "") + (__import__(cls.__module__, fromlist=["x"]).__doc__ or "")
    assert "Passes:" in doc and "Fails:" in doc, f"{kind}: docstring needs a passing and a failing example"
    for f in cls.spec_fields():
        assert f.metadata["kind"] in KINDS
        if f.metadata["kind"] == "enum":
            assert f.metadata["choices"]
    cls()  # constructible with defaults (required fields are None)


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_missing_required_fields_reported(kind):
    cls = REGISTRY[kind]
    res = compile_text(f"m_modifiers:\n  - !{kind}\n")
    got = {d.code for d in res.diagnostics}
    if cls.required_fields():
        assert "RC112" in got
    else:
        assert "RC112" not in got


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_unknown_field_reported(kind):
    res = compile_text(f"m_modifiers:\n  - !{kind}\n    no_such_field: 1\n")
    assert ("RC111", 3) in {(d.code, d.span.line) for d in res.diagnostics}


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_not_runnable_warned(kind):
    res = compile_text(f"m_modifiers:\n  - !{kind}\n")
    assert ("RC113" in {d.code for d in res.diagnostics}) == (not REGISTRY[kind].runnable)


EXTENSIONS = [(k, f) for k in sorted(REGISTRY) for f in REGISTRY[k].extension_fields()]


def test_extension_fields_declared():
    assert ("QuantizationModifier", "int8_graph") in EXTENSIONS


@pytest.mark.parametrize("kind,name", EXTENSIONS)
def test_extension_field_warned_and_marked(kind, name):
    """Every recipec extension field: RC114 at its key when given (not when absent), marked in the docs
    and the schema, never required (SparseML's behaviour is its default)."""
    import json

    from recipec.cli.commands.docs import render_modifiers
    from recipec.cli.commands.schema import _default, build_schema

    cls = REGISTRY[kind]
    f = next(f for f in cls.spec_fields() if f.name == name)
    assert not f.metadata["required"]
    res = compile_text(f"m_modifiers:\n  - !{kind}\n    {name}: {json.dumps(_default(f))}\n")
    hits = [d for d in res.diagnostics if d.code == "RC114"]
    assert [(d.severity, d.span.line, d.span.col, d.span.end_col) for d in hits] == [
        ("warning", 3, 5, 5 + len(name))]
    assert name in hits[0].message and "SparseML" in hits[0].message
    assert "RC114" not in {d.code for d in compile_text(f"m_modifiers:\n  - !{kind}\n").diagnostics}
    assert "recipec extension" in build_schema()["$defs"][kind]["properties"][name]["description"]
    row = next(line for line in render_modifiers().splitlines() if line.startswith(f"| `{name}` |"))
    assert "**recipec extension**" in row


def test_int8_graph_is_legacy_and_sparseml_fields_are_not_warned():
    """SparseML's own fields (the YOLOv5 idiom) get no RC114; `int8_graph` selects the legacy class, so it
    cannot be mixed with the current class's `scheme` (RC311)."""
    from recipec.modifiers.quantization import LEGACY_ONLY

    assert set(REGISTRY["QuantizationModifier"].extension_fields()) <= LEGACY_ONLY
    res = compile_text("m_modifiers:\n  - !QuantizationModifier\n    start_epoch: 1\n"
                       "    quantize_conv_activations: false\n    custom_quantizable_module_types: [SiLU]\n")
    assert "RC114" not in {d.code for d in res.diagnostics}
    res = compile_text("m_modifiers:\n  - !QuantizationModifier\n    int8_graph: true\n    scheme: {}\n")
    assert {"RC114", "RC311"} <= {d.code for d in res.diagnostics}


def test_renamed_targets_exist():
    assert set(RENAMED.values()) <= set(REGISTRY)
    assert not set(RENAMED) & set(REGISTRY)


def test_rules_documented_and_codes_catalogued():
    for rule in RULES:
        assert rule.__doc__ and len(rule.__doc__) > 40, rule.__name__
        assert rule.CODES and set(rule.CODES) <= set(CATALOG), rule.__name__


def test_every_code_in_source_is_catalogued():
    used = set()
    for p in SRC.rglob("*.py"):
        used |= set(re.findall(r'"(RC\d{3})"', p.read_text(encoding="utf-8")))
    assert used - set(CATALOG) == set()


def test_catalog_shape():
    for code, info in CATALOG.items():
        assert re.fullmatch(r"RC\d{3}", code)
        title, explanation = info
        assert title and explanation.endswith((".", ")"))


def test_no_python_eval_or_exec_in_front_end():
    pat = re.compile(r"(?<![\w.])(eval|exec)\s*\(")
    for p in SRC.rglob("*.py"):
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            code = re.sub(r"(['\"`]).*?\1", "", code)  # strings and docs mention eval(...) as text
            assert not pat.search(code), f"{p}:{i}: {line.strip()}"


def test_diagnostics_doc_in_sync():
    from recipec.diagnostics.docs import render

    doc = SRC.parent / "docs" / "diagnostics.md"
    assert doc.read_text(encoding="utf-8") == render(), "run: python -m recipec.diagnostics.docs > docs/diagnostics.md"


def test_yolo_names_snapshot_matches_yolo_names():
    """recipec/check/yolo_names.json equals what yolo.names computes (regenerate: python -m
    recipec.cli.model_facts)."""
    import json

    from recipec.check import model
    from recipec.cli.model_facts import build_table

    assert json.loads(model.TABLE.read_text(encoding="utf-8")) == build_table()


def test_model_checks_take_the_callers_model_facts():
    """The front end knows a model only through ModelFacts: a caller's own facts are checked against."""
    from recipec.check.model import ModelFacts
    from recipec.frontend import compile_recipe

    text = ("modifiers:\n  - !EpochRangeModifier\n    start_epoch: 0\n    end_epoch: 2\n"
            "  - !ConstantPruningModifier\n    params: [net.conv.weight]\n")
    facts = ModelFacts.from_lists("tiny", ["net.conv.weight", "net.fc.weight"], ["net", "net.conv"],
                                  ["net.conv.weight"])
    assert not [d for d in compile_recipe("r.yaml", text=text, model=facts).diagnostics if d.code.startswith("RC60")]
    other = ModelFacts.from_lists("other", ["body.weight"], ["body"], ["body.weight"])
    assert "RC602" in {d.code for d in compile_recipe("r.yaml", text=text, model=other).diagnostics}
