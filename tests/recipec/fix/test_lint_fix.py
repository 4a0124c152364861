"""`recipec lint --fix [--diff] [--unsafe-fixes]`: span-based rewrites, nothing else in the file changes."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
import yaml

from conftest import REPO
from recipec.cli.commands import lint as L
from recipec.fix import find_fixes
from recipec.fix.edits import Edit, apply_edits
from recipec.fix.numbers import dotted
from recipec.frontend import compile_recipe

SEED = REPO / "examples" / "recipes" / "yolov5s_transfer_pruned_quantized.yaml"

BAD = """\
# every fixable mistake at once
lr: &lr 1e-5   # anchored: only the number changes
modifiers:
  - !EpochRangeModifier:
    start_epoch: 0.0
    end_epoch: 10.0

  - !GradualKSModifier
    init_sparsity: 0.05
    final_sparsity: 0.8
    start_epoch: 0.0
    end_epoch: 5.0
    update_frequency: 1.0
    params: __ALL_PRUNABLE__

  - !SetLearningRateModifier
    start_epoch: 2.0
    learning_rate: 5e-4

  - !LearningRateFunctionModifier {start_epoch: 0, end_epoch: 4.0, lr_func: linear, init_lr: *lr, final_lr: 1e-6}
"""
SAFE = (BAD.replace("&lr 1e-5", "&lr 1.0e-5").replace("!EpochRangeModifier:", "!EpochRangeModifier")
        .replace("!GradualKSModifier", "!GMPruningModifier").replace("5e-4", "5.0e-4")
        .replace("final_lr: 1e-6", "final_lr: 1.0e-6"))
UNSAFE = SAFE.replace("end_epoch: 4.0, lr_func", "end_epoch: 2.0, lr_func")


def lint_out(*paths, **kw):
    out = io.StringIO()
    rc = L.lint([str(p) for p in paths], out=out, **kw)
    return rc, out.getvalue()


def codes(path) -> list[str]:
    return [d.code for d in compile_recipe(path).diagnostics]


@pytest.fixture
def bad(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(BAD)
    return p


@pytest.mark.parametrize("raw,new", [("1e-5", "1.0e-5"), ("2E5", "2.0E+5"), (".5e3", "0.5e+3"),
                                     ("1.e5", "1.0e+5"), ("-3e+2", "-3.0e+2"), ("1_0e-2", "1_0.0e-2")])
def test_dotted_numbers_are_floats_for_pyyaml(raw, new):
    assert dotted(raw) == new
    assert yaml.safe_load(f"v: {raw}")["v"] == raw  # the trap: a string
    assert yaml.safe_load(f"v: {new}")["v"] == float(raw.replace("_", ""))


def test_fix_rewrites_only_the_fixed_spans(bad):
    rc, _out = lint_out(bad, fix=True)
    assert bad.read_text() == SAFE  # comments, flow style, anchors and blank lines kept
    assert rc == 0  # RC401 is a warning; the errors (unknown tags) are fixed
    left = codes(bad)
    assert "RC109" not in left and "RC213" not in left and "RC401" in left


def test_diff_writes_nothing_and_exits_1(bad):
    rc, out = lint_out(bad, fix=True, diff=True)
    assert rc == 1 and bad.read_text() == BAD
    assert out.startswith(f"--- a/{bad}\n+++ b/{bad}\n")
    assert "-  - !GradualKSModifier\n+  - !GMPruningModifier\n" in out
    assert "end_epoch: 2.0" not in out  # unsafe: not without --unsafe-fixes
    rc, out = lint_out(bad, diff=True, unsafe_fixes=True)
    assert rc == 1 and "end_epoch: 2.0" in out and "plan diff of the unsafe fixes" in out
    bad.write_text(SAFE.replace("end_epoch: 4.0, lr_func", "end_epoch: 2.0, lr_func"))
    assert lint_out(bad, diff=True, unsafe_fixes=True) == (0, "")  # nothing left to fix


def test_unsafe_fix_and_its_plan_diff(bad):
    rc, out = lint_out(bad, fix=True, unsafe_fixes=True)
    assert bad.read_text() == UNSAFE
    assert "RC401" not in codes(bad)
    assert "plan diff of the unsafe fixes (100 steps per epoch)" in out
    assert "end_epoch: 4.0 (A 20:5) -> 2.0 (B 20:5)" not in out  # spans are the field's, not the modifier's
    assert "end_epoch: 4.0 (A 20:" in out and "-> 2.0 (B 20:" in out
    assert "lr[0] bn" in out and "schedule: different" in out


def test_seed_rc401_fix_copies_the_variable(tmp_path):
    p = tmp_path / "seed.yaml"
    p.write_bytes(SEED.read_bytes())
    lint_out(p, fix=True, unsafe_fixes=True)
    old, new = SEED.read_text().splitlines(), p.read_text().splitlines()
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    assert changed == [("    end_epoch: eval(num_epochs)", "    end_epoch: eval(quantization_start_epoch)")]
    assert codes(p).count("RC401") == 0


def test_json_says_fixable(bad):
    data = json.loads(lint_out(bad, fmt="json")[1])
    got = {(d["code"], d["line"]): (d["fixable"], d["fix"]) for d in data}
    assert got[("RC109", 4)] == (True, "safe") and got[("RC109", 8)] == (True, "safe")
    assert got[("RC213", 2)] == (True, "safe")
    assert got[("RC401", 16)] == (True, "unsafe")
    assert got[("RC404", 16)] == (False, None)


def test_crlf_bom_and_markdown_are_kept(tmp_path):
    p = tmp_path / "card.md"
    body = "---\nmodifiers:\n  - !ConstantKSModifier\n    params: __ALL_PRUNABLE__\n---\n\n# notes: 1e-5 here is prose\n"
    p.write_bytes(b"\xef\xbb\xbf" + body.replace("\n", "\r\n").encode())
    lint_out(p, fix=True)
    assert p.read_bytes() == b"\xef\xbb\xbf" + body.replace("\n", "\r\n").replace(
        "ConstantKSModifier", "ConstantPruningModifier").encode()


def test_unknown_name_without_a_sure_fix_is_left(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("modifiers:\n  - !FakeModifier\n    start_epoch: 0\n  - !SetLearningRateModifier\n"
                 "    start_epoch: 0\n    learning_rate: '1e-5'\n")
    res = compile_recipe(p)
    assert not find_fixes(res.recipe, res.recipe.text, res.diagnostics)  # a guess; quoted text


def test_edits_apply_only_where_the_text_matches():
    text = "a: 1e-5\nb: 2e-5\n"
    new, done = apply_edits(text, [Edit(1, 4, 1, 8, "1e-5", "1.0e-5"), Edit(2, 4, 2, 8, "XXXX", "y"),
                                   Edit(1, 5, 1, 6, "e", "E")])
    assert new == "a: 1.0e-5\nb: 2e-5\n" and len(done) == 1  # a moved text and an overlap are dropped


def test_explain_says_fixable():
    from recipec.diagnostics.codes import explain

    assert "Fix (unsafe, `recipec lint --fix --unsafe-fixes`)" in explain("RC401")
    assert "Fix (safe, `recipec lint --fix`)" in explain("RC213")
    assert "Fix" not in explain("RC203")


def test_cli_fix_flags(bad):
    r = subprocess.run([sys.executable, "-m", "recipec", "lint", "--fix", "--diff", str(bad)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "+  - !GMPruningModifier" in r.stdout and "would fix 5 (RC109 x2, RC213 x3)" in r.stderr
    assert "1 unsafe fix(es) not applied (RC401)" in r.stderr
    r = subprocess.run([sys.executable, "-m", "recipec", "lint", "--fix", str(tmp := bad.parent / "none.yaml")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
