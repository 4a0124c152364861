"""Every bad input of issue 2 gets a diagnostic with a position, exit 1, no traceback, nothing executed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def lint(path, *args):
    r = subprocess.run([sys.executable, "-m", "recipec", "lint", "--format", "json", *args, str(path)],
                       capture_output=True, text=True, timeout=60)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, json.loads(r.stdout or "[]")


def write(tmp_path, name, data):
    p = tmp_path / name
    if isinstance(data, bytes):
        p.write_bytes(data)
    else:
        p.write_text(data, encoding="utf-8")
    return p


CANARY = "RECIPEC_CANARY_FILE"

BAD = {
    "empty.yaml": ("", "RC005", 1),
    "only_comment.yaml": ("# nothing here\n", "RC005", 1),
    "list_of_scalars.yaml": ("just text\n", "RC015", 1),
    "syntax.yaml": ("a: [1, 2\nb: 3\n", "RC006", 2),
    "tabs.yaml": ("m_modifiers:\n\t- !EpochRangeModifier\n", "RC006", 2),
    "non_utf8.yaml": (b"a: 1\nb: \xff\xfe\n", "RC008", 2),
    "python_tag.yaml": ("a: !!python/object/apply:os.system ['touch " + CANARY + "']\n", "RC009", 1),
    "python_name.yaml": ("a: !!python/name:os.system\n", "RC009", 1),
    "alias_bomb.yaml": ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)), "RC012", None),
    "deep.yaml": ("a: " + "[" * 5000 + "]" * 5000 + "\n", "RC013", 1),
    "import.yaml": ("n: eval(__import__('os').system('touch " + CANARY + "'))\n", "RC201", 1),
    "power.yaml": ("n: eval(10 ** 10 ** 10)\n", "RC208", 1),
    "divzero.yaml": ("n: eval(1/0)\n", "RC207", 1),
    "nofront.md": ("# A recipe card\n\nNo front matter here.\n", "RC003", 1),
    "undefined_alias.yaml": ("a: *nowhere\n", "RC010", 1),
    "two_docs.yaml": ("a: 1\n---\nb: 2\n", "RC007", 2),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input(tmp_path, name, monkeypatch):
    text, code, line = BAD[name]
    monkeypatch.chdir(tmp_path)
    p = write(tmp_path, name, text)
    rc, diags = lint(p)
    assert rc == 1
    hits = [d for d in diags if d["code"] == code]
    assert hits, diags
    assert all(isinstance(d["line"], int) and d["line"] >= 1 and d["col"] >= 1 for d in diags)
    if line is not None:
        assert hits[0]["line"] == line
    assert not (tmp_path / CANARY).exists()  # nothing was executed


def test_ten_megabyte_file(tmp_path):
    p = write(tmp_path, "big.yaml", "a: " + "x" * (10 * 1024 * 1024) + "\n")
    rc, diags = lint(p)
    assert rc == 1 and diags[0]["code"] == "RC004" and diags[0]["line"] == 1


def test_missing_file_is_exit_2(tmp_path):
    rc, diags = lint(tmp_path / "nope.yaml")
    assert rc == 2 and diags[0]["code"] == "RC001"


def test_directory_argument_lints_recipes_inside(tmp_path):
    write(tmp_path, "a.yaml", "m_modifiers:\n  - !EpochRangeModifier {start_epoch: 0, end_epoch: 2}\n"
          "  - !ConstantPruningModifier\n    params: __ALL_PRUNABLE__\n")
    write(tmp_path, "b.yaml", "")
    rc, diags = lint(tmp_path)
    assert rc == 1 and [d["code"] for d in diags] == ["RC005"]


def test_bomb_is_fast(tmp_path):
    import time

    text, _, _ = BAD["alias_bomb.yaml"]
    from recipec.frontend import compile_recipe

    t = time.perf_counter()
    res = compile_recipe("bomb.yaml", text=text)
    assert time.perf_counter() - t < 2.0
    assert any(d.code == "RC012" for d in res.diagnostics)


FRAGMENTS = ["m_modifiers:\n", "  - !GMPruningModifier\n", "  - !EpochRangeModifier\n", "    start_epoch: ",
             "    end_epoch: ", "eval(", ")", "a", "1", "0.5", "-1", "1e-5", "&x ", "*x", "[", "]", "{", "}", ",", ":",
             "\n", " ", "params: ", "__ALL_PRUNABLE__", "a: ", "s_stage:\n", "  q_modifiers:\n", "!!python/object ",
             "---\n", "#", "final_sparsity: ", "param_groups: [0, 9]\n", "\t", "'", '"', "?", "|", "QuantizationModifier:\n",
             "- ", "null", "yes", "<<: *x\n"]


def test_front_end_never_raises_on_fragments():
    """Random recipe-shaped text: always diagnostics, never an exception."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from recipec.frontend import compile_recipe

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.sampled_from(FRAGMENTS), max_size=30), st.sampled_from(["x.yaml", "x.md"]))
    def run(parts, name):
        res = compile_recipe(name, text="".join(parts))
        assert all(d.span is not None for d in res.diagnostics)

    run()
