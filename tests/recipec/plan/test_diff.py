"""`recipec diff A B`: schedules step by step, modifiers field by field; golden table and JSON.

Regenerate the goldens only on purpose: `RECIPEC_UPDATE_GOLDEN=1 python -m pytest tests/recipec/plan/test_diff.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import REPO, check_golden
from recipec.plan.diff import diff_texts
from recipec.plan.render_diff import epoch_ranges, render_diff_json, render_diff_text

GOLDEN = REPO / "tests" / "golden" / "diffs"
PAIRS = {  # name: (A, B, steps per epoch), paths relative to the repository
    "transfer_pruned_vs_quantized": ("examples/recipes/yolov5s_transfer_pruned.yaml",
                                     "examples/recipes/yolov5s_transfer_pruned_quantized.yaml", 7),
    "every_pruning": ("tests/recipec/plan/data/every_pruning.yaml", "tests/recipec/plan/data/every_pruning_b.yaml", 2),
}


def _diff(a, b, S, **kw):
    return diff_texts(a, (REPO / a).read_text(), b, (REPO / b).read_text(), steps_per_epoch=S, **kw)


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("fmt", ["txt", "json"])
def test_golden_diff(name, fmt):
    d = _diff(*PAIRS[name])
    text = render_diff_text(d) if fmt == "txt" else render_diff_json(d)
    check_golden(GOLDEN / f"{name}.{fmt}", text, f"diff {name}")


def test_first_differences_of_the_seed_pair():
    d = _diff(*PAIRS["transfer_pruned_vs_quantized"])
    assert not d.same_schedule and d.epochs == (50, 52)
    by = {s.what: s for s in d.series}
    qat = by["QAT"]
    assert (qat.first_step, qat.a, qat.b, qat.epochs) == (350, "run over", "observing", (50, 51))
    assert by["lr[0] bn"].epochs[0] == 2  # the cosine to num_epochs stretches from epoch 2 on
    changes = {(m.change, m.kind) for m in d.modifiers}
    assert ("added", "QuantizationModifier") in changes and ("added", "SetLearningRateModifier") in changes
    ep = next(m for m in d.modifiers if m.kind == "EpochRangeModifier")
    (f,) = ep.fields
    assert (f.name, f.a, f.b, f.a_span.line, f.b_span.line) == ("end_epoch", 50.0, 52.0, 18, 27)


def test_same_schedule_and_epochs_override():
    a = PAIRS["transfer_pruned_vs_quantized"][1]
    d = _diff(a, a, 5)
    assert d.same_schedule and not d.series and not d.modifiers
    d = _diff(a, a, 5, epochs=20)
    assert d.same_schedule and d.epochs == (20, 20)


def test_epoch_ranges():
    assert epoch_ranges([0, 1, 2, 5, 7, 8]) == "0-2, 5, 7-8" and epoch_ranges([]) == ""


def run(*args):
    from recipec.cli import build_app

    return CliRunner().invoke(build_app(), ["diff", *map(str, args)])


def test_cli_exit_codes(tmp_path):
    a, b, _S = PAIRS["transfer_pruned_vs_quantized"]
    a, b = REPO / a, REPO / b
    assert run(a, a, "-S", 3).exit_code == 0
    r = run(a, b, "-S", 3, "--format", "json")
    assert r.exit_code == 1 and json.loads(r.stdout)["same_schedule"] is False
    bad = tmp_path / "bad.yaml"
    bad.write_text("m_modifiers:\n  - !EpochRangeModifier\n    start_epoch: 5\n    end_epoch: 2\n")
    fixed = tmp_path / "fixed.yaml"  # no num_epochs for --epochs to set
    fixed.write_text("m_modifiers:\n  - !EpochRangeModifier\n    start_epoch: 0.0\n    end_epoch: 5.0\n")
    assert run(fixed, fixed).exit_code == 0
    for args in ((a, tmp_path / "none.yaml"), (a, bad), (a, b, "--format", "xml"), (a, b, "-S", 0),
                 (a, fixed, "--epochs", 3)):
        r = run(*args)
        assert r.exit_code == 2, (args, r.output)
        assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
