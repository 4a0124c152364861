"""`recipec lint --fix` over the real recipes of ../shared/corpus: every fixed file lints clean of the
fixable findings and compiles to the same IR except where the fix was meant to change it
(`fix_testutil.round_trip`). A fast sample by default; the whole corpus is `slow`."""

from __future__ import annotations

import pytest

from fix_testutil import round_trip

SAMPLE = (  # files with each kind of fix: renames, a tag colon, 1e-5, RC401 at 50/52, at 300/302, markdown
    "neuralmagic__sparseml/docs__recal-configs.md__block00.yaml",
    "neuralmagic__sparseml/docs__recal-configs.md__block02.yaml",
    "neuralmagic__sparseml/ac_dc_recipy.md",
    "neuralmagic__sparseml/integrations__ultralytics-yolov5__recipes__yolov5s.pruned_quantized.md",
)


def _recipes(corpus_dir):
    return sorted(p for p in corpus_dir.rglob("*") if p.suffix in (".yaml", ".yml", ".md")
                  and p.name != "README.md" and p.is_file())


@pytest.mark.parametrize("name", SAMPLE)
def test_fix_round_trip_sample(corpus_dir, name):
    path = corpus_dir / name
    if not path.exists():
        pytest.skip(f"{name} not in this corpus")
    n, _new = round_trip(path)
    assert n >= 1


def test_fix_round_trip_tag_colon_and_numbers(corpus_dir):
    """The first corpus files with a `- !Tag:` and with a plain `1e-5`, whichever they are."""
    seen = set()
    for path in _recipes(corpus_dir):
        text = path.read_text(encoding="utf-8", errors="replace")
        kind = "colon" if "Modifier:\n" in text else "number" if "e-5" in text or "e-6" in text else None
        if kind and kind not in seen:
            n, new = round_trip(path)
            if n:
                seen.add(kind)
        if len(seen) == 2:
            break
    assert seen == {"colon", "number"}


@pytest.mark.slow
def test_fix_round_trip_whole_corpus(corpus_dir):
    fixed = 0
    for path in _recipes(corpus_dir):
        n, _new = round_trip(path)
        fixed += n > 0
    assert fixed >= 50  # 58 files had a fixable finding when this test was written
