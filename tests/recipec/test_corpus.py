"""The shared corpus of 693 real recipes (`../shared/corpus`, see its INDEX.tsv).

- Legacy-format recipes that SparseML accepts lint with zero errors (warnings are fine).
- Those SparseML rejects (`data/corpus_rejects.tsv`, reviewed by hand) get their error at the
  recorded code and line.
- sparseml.core / llm-compressor recipes get exactly one RC106, Distiller schedules one RC107.

A sample runs by default; the whole sweep is marked slow.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from recipec.frontend import compile_recipe

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared"
INDEX = SHARED / "corpus" / "INDEX.tsv"


def _rows():
    if not INDEX.is_file():
        return []
    lines = INDEX.read_text(encoding="utf-8").splitlines()[1:]
    return [(ln.split("\t")[0], ln.split("\t")[6]) for ln in lines if ln.strip()]


def _rejects():
    out = {}
    for ln in (HERE / "data" / "corpus_rejects.tsv").read_text(encoding="utf-8").splitlines():
        if ln.startswith("#") or not ln.strip():
            continue
        f, code, line, _why = ln.split("\t")
        out[f] = (code, int(line))
    return out


ROWS = _rows()
REJECTS = _rejects()


def _sampled(name: str) -> bool:
    """A fixed ~1/6 sample, plus every YOLOv5 file and every expected reject."""
    return "yolov5" in name or name in REJECTS or zlib.crc32(name.encode()) % 6 == 0


def _params(sample: bool):
    rows = [r for r in ROWS if _sampled(r[0]) == sample or not sample]
    marks = [] if sample else [pytest.mark.slow]
    return [pytest.param(f, fmt, id=f.split("/")[-1][-60:], marks=marks) for f, fmt in rows]


def _check(corpus_dir: Path, name: str, fmt: str) -> None:
    res = compile_recipe(corpus_dir / name)
    errors = [d for d in res.diagnostics if d.severity == "error"]
    if fmt == "sparseml-legacy":
        if name in REJECTS:
            assert errors, f"{name}: SparseML rejects it but recipec found no error"
            assert (errors[0].code, errors[0].span.line) == REJECTS[name], [str(e) for e in errors[:3]]
        else:
            assert not errors, [f"{e.span}: {e.code} {e.message}" for e in errors]
    elif fmt == "sparseml-core":
        assert [d.code for d in res.diagnostics] == ["RC106"]
    elif fmt == "distiller":
        assert [d.code for d in res.diagnostics] == ["RC107"]
    else:  # pragma: no cover
        pytest.fail(f"unknown format {fmt}")


@pytest.mark.parametrize("name,fmt", _params(sample=True))
def test_corpus_sample(corpus_dir, name, fmt):
    _check(corpus_dir, name, fmt)


@pytest.mark.parametrize("name,fmt", _params(sample=False))
def test_corpus_all(corpus_dir, name, fmt):
    _check(corpus_dir, name, fmt)


def test_manifest_names_real_files(corpus_dir):
    names = {f for f, _ in ROWS}
    assert set(REJECTS) <= names and len(REJECTS) >= 8


def test_sparseml_yolov5_recipes(external_dir):
    """The SparseML YOLOv5 recipes: zero errors; the pruned_quantized ones draw RC401."""
    for p in sorted((external_dir / "recipes").glob("*.md")):
        res = compile_recipe(p)
        assert res.ok, [str(d) for d in res.errors]
        if "pruned_quantized" in p.name:
            assert "RC401" in {d.code for d in res.diagnostics}
