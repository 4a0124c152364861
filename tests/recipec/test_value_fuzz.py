"""Issue 17: value-edge fuzzing (huge ints, 1e308, nan, inf, null, negative, 0, empty) of every field of every
modifier kind, through lint, compile and plan: no traceback, no run over 2 s. The whole sweep is slow; a
fixed sample runs by default. Counting script: `python tests/recipec/value_fuzz_testutil.py`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from value_fuzz_testutil import HUGE, cases, run_case

ALL = cases()
SAMPLE = ALL[::13]  # ~310 cases, every kind


def failures(sample, tmp_path, commands=("lint", "compile", "plan")) -> list[str]:
    bad = []
    for c in sample:
        for cmd, (outcome, dt, detail) in run_case(c, tmp_path, commands).items():
            if outcome != "clean":
                bad.append(f"{outcome} {cmd} {c.name} ({dt:.2f} s): {detail}")
    return bad


def test_every_kind_is_fuzzed():
    from recipec.modifiers import REGISTRY

    assert {c.kind for c in SAMPLE} >= set(REGISTRY)
    assert 250 <= len(SAMPLE) <= 400


def test_value_edges_sample(tmp_path):
    bad = failures(SAMPLE, tmp_path, ("compile", "plan"))
    assert not bad, "\n".join(bad[:20])


@pytest.mark.slow
def test_value_edges_every_field(tmp_path):
    bad = failures(ALL, tmp_path)
    assert not bad, f"{len(bad)} of {3 * len(ALL)} runs:\n" + "\n".join(bad[:40])


CLI_CASES = [
    ("lint", "end_epoch: " + HUGE, None),
    ("compile", "end_epoch: 1.0e308", None),
    ("plan", "end_epoch: 1.0e+308", None),
    ("plan", "end_epoch: eval(num_epochs)", ["--epochs", "1" + "0" * 400]),
    ("plan", "end_epoch: eval(num_epochs)", ["-S", "1" + "0" * 400]),
    ("lint", "end_epoch: eval(num_epochs)", ["--set", "num_epochs=1e400"]),
    ("plan", "end_epoch: .nan", None),
]


@pytest.mark.slow
@pytest.mark.parametrize("cmd,field,extra", CLI_CASES)
def test_value_edges_through_the_cli(tmp_path, cmd, field, extra):
    p = tmp_path / "r.yaml"
    p.write_text(f"num_epochs: 10\nm_modifiers:\n  - !EpochRangeModifier\n    start_epoch: 0\n    {field}\n")
    args = [cmd, str(p), *(extra or [])]
    if cmd == "plan" and "-S" not in args:
        args += ["-S", "3"]
    r = subprocess.run([sys.executable, "-m", "recipec", *args], capture_output=True, text=True, timeout=60)
    assert r.returncode in (1, 2), (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
