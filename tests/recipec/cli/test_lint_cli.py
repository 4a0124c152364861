"""`recipec lint` / `explain` / `compile` as a user runs them: formats, exit codes, filters."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from conftest import REPO
from recipec.cli.commands import lint as L

SEED = REPO / "examples" / "recipes" / "yolov5s_transfer_pruned_quantized.yaml"
BAD = "m_modifiers:\n  - !EpochRangeModifier\n    start_epoch: 5\n    end_epoch: 2\nunused: 1\n"


def run(*args, env=None):
    r = subprocess.run([sys.executable, "-m", "recipec", *map(str, args)], capture_output=True, text=True,
                       timeout=60, env=env)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def lint_out(*paths, **kw):
    out = io.StringIO()
    rc = L.lint([str(p) for p in paths], out=out, **kw)
    return rc, out.getvalue()


@pytest.fixture
def bad(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(BAD)
    return p


def test_concise_lines_are_exact(bad):
    rc, out = lint_out(bad, fmt="concise")
    assert rc == 1
    assert out.splitlines() == [
        f"{bad}:4:16: RC303 end_epoch of 2 must be >= start_epoch of 5 for EpochRangeModifier, or -1",
        f"{bad}:5:1: RC210 variable `unused` is never used",
    ]


def test_json_objects(bad):
    rc, out = lint_out(bad, fmt="json")
    data = json.loads(out)
    assert rc == 1 and len(data) == 2
    assert set(data[0]) == {"code", "severity", "message", "path", "line", "col", "end_line", "end_col", "help",
                            "fixable", "fix"}
    assert (data[0]["code"], data[0]["line"], data[0]["col"], data[0]["end_col"]) == ("RC303", 4, 16, 17)


def test_sarif(bad):
    rc, out = lint_out(bad, fmt="sarif")
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    run0 = log["runs"][0]
    assert {r["id"] for r in run0["tool"]["driver"]["rules"]} == {"RC303", "RC210"}
    res = run0["results"][0]
    assert res["ruleId"] == "RC303" and res["level"] == "error"
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == 4


def test_github(bad):
    rc, out = lint_out(bad, fmt="github")
    first = out.splitlines()[0]
    assert first.startswith(f"::error file={bad},line=4,col=16,endLine=4,endColumn=17,title=RC303::RC303 ")
    assert out.splitlines()[1].startswith("::warning ")


def test_full_has_code_frame(bad):
    rc, out = lint_out(bad, fmt="full", color=False)
    assert "error[RC303]" in out and "4 |     end_epoch: 2" in out and "^" in out
    assert "Found 1 error(s) and 1 warning(s)." in out


EXT = ("m_modifiers:\n  - !EpochRangeModifier\n    start_epoch: 0.0\n    end_epoch: 4.0\n"
       "  - !QuantizationModifier\n    start_epoch: 2.0\n    int8_graph: true\n")


def test_extension_field_rendered(tmp_path):
    """RC114 (a recipec extension field): a warning at the field key, in every format; exit 0 unless --strict."""
    p = tmp_path / "ext.yaml"
    p.write_text(EXT)
    rc, out = lint_out(p, fmt="concise")
    assert rc == 0
    assert out.splitlines() == [f"{p}:7:5: RC114 `int8_graph` is a recipec extension of QuantizationModifier, "
                                "not a SparseML field; SparseML would refuse this recipe"]
    rc, out = lint_out(p, fmt="full", color=False)
    assert out.splitlines()[:7] == [
        "warning[RC114]: `int8_graph` is a recipec extension of QuantizationModifier, not a SparseML field; "
        "SparseML would refuse this recipe",
        f" --> {p}:7:5",
        "  |",
        "7 |     int8_graph: true",
        "  |     ^^^^^^^^^^",
        "  = help: recipec runs it; drop the field to keep the recipe loadable by SparseML",
        "",
    ]
    data = json.loads(lint_out(p, fmt="json")[1])
    assert [(d["code"], d["severity"], d["line"], d["col"], d["end_col"]) for d in data] == [
        ("RC114", "warning", 7, 5, 15)]
    assert lint_out(p, fmt="github")[1].startswith(f"::warning file={p},line=7,col=5,endLine=7,endColumn=15,"
                                                   "title=RC114::")
    assert lint_out(p, strict=True)[0] == 1
    assert lint_out(p, strict=True, ignore=["RC114"])[0] == 0


def test_exit_codes_strict_select_ignore(tmp_path):
    warn_only = tmp_path / "w.yaml"
    warn_only.write_text("unused: 1\nm_modifiers:\n  - !ConstantPruningModifier\n    params: __ALL_PRUNABLE__\n")
    assert lint_out(warn_only)[0] == 0
    assert lint_out(warn_only, strict=True)[0] == 1
    assert lint_out(warn_only, strict=True, ignore=["RC210"])[0] == 0
    assert lint_out(warn_only, strict=True, select=["RC3,RC4"])[0] == 0
    assert lint_out(warn_only, strict=True, select=["RC2"])[0] == 1
    with pytest.raises(L.UsageError):
        lint_out(warn_only, select=["XY1"])


def test_cli_exit_codes(bad, tmp_path):
    assert run("lint", SEED).returncode == 0
    assert run("lint", bad).returncode == 1
    assert run("lint", tmp_path / "missing.yaml").returncode == 2
    assert run("lint", "--format", "nope", bad).returncode == 2
    assert run("lint", "--bogus", bad).returncode == 2
    assert run("lint", "--select", "RC9999", bad).returncode == 2


def test_fast_path_matches_typer_path(bad):
    """cli.main's fast path and the typer command print the same and exit the same."""
    fast = run("lint", "--format", "concise", bad)
    code = ("import sys; from recipec.cli import build_app; app = build_app(); "
            "app(args=sys.argv[1:], prog_name='recipec')")
    slow = subprocess.run([sys.executable, "-c", code, "lint", "--format", "concise", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert (fast.returncode, fast.stdout) == (slow.returncode, slow.stdout)


def test_explain():
    r = run("explain", "RC203")
    assert r.returncode == 0 and r.stdout.startswith("RC203: variable cycle")
    assert run("explain", "rc999").returncode == 2
    assert "RC001" in run("explain", "--list").stdout


def test_compile_round_trip(tmp_path):
    from recipec.frontend import compile_recipe

    for fmt in ("yaml", "json"):
        r = run("compile", "--format", fmt, SEED)
        assert r.returncode == 0, r.stderr
        text = r.stdout
        if fmt == "json":
            from recipec.ir.canonical import json_to_yaml

            text = json_to_yaml(text)
        again = compile_recipe("c.yaml", text=text)
        orig = compile_recipe(SEED)
        assert again.recipe.modifiers == orig.recipe.modifiers
        assert again.recipe.version == orig.recipe.version


def test_compile_set_override():
    r = run("compile", "--format", "json", "--set", "num_epochs=30", SEED)
    data = json.loads(r.stdout)
    assert data["modifiers"][0]["fields"]["end_epoch"] == 30.0


def test_lint_never_imports_torch():
    code = ("import sys\nfrom recipec.cli import main\n"
            "try:\n    main(['lint', '--model', 'yolov5s', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'engine', 'typer', 'rich'})\n"
            "print(bad)\nsys.exit(1 if bad else 0)\n")
    r = subprocess.run([sys.executable, "-c", code, str(SEED)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
