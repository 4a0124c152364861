"""Issue 17: a crash that still happens in any command is one line naming the input and asking for a
report, exit 2 (never 1, which means findings), and no traceback unless RECIPEC_DEBUG=1."""

from __future__ import annotations

import subprocess
import sys

import pytest

from recipec import cli

GOOD = "m_modifiers:\n  - !EpochRangeModifier {start_epoch: 0, end_epoch: 2}\n"


def boom(*_a, **_k):
    raise OverflowError("int too large to convert to float")


@pytest.fixture
def recipe(tmp_path):
    p = tmp_path / "R.yaml"
    p.write_text(GOOD)
    return p


@pytest.mark.parametrize("args", [["lint"], ["compile"], ["lint", "--format", "json"], ["plan", "-S", "3"]])
def test_crash_is_one_line_and_exit_2(monkeypatch, capsys, recipe, args):
    """lint/compile go through the fast path, plan through the typer app: one guard covers both."""
    import recipec.frontend

    monkeypatch.setattr(recipec.frontend, "compile_recipe", boom)
    monkeypatch.delenv("RECIPEC_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exc:
        cli.main([args[0], str(recipe), *args[1:]])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines() == [
        f"recipec: internal error while reading {recipe}: OverflowError: int too large to convert to float"
        " - please report this (RECIPEC_DEBUG=1 shows the traceback)"]


def test_crash_without_an_input_file(monkeypatch, capsys):
    import recipec.cli.commands.lint as L

    monkeypatch.setattr(L, "list_codes", lambda *a, **k: boom())
    with pytest.raises(SystemExit) as exc:
        cli.main(["explain", "--list"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("recipec: internal error in `recipec explain`: OverflowError") and "Traceback" not in err


def test_debug_shows_the_traceback(recipe):
    code = ("import recipec.frontend, recipec.cli\n"
            "def boom(*a, **k): raise OverflowError('int too large to convert to float')\n"
            "recipec.frontend.compile_recipe = boom\n"
            f"recipec.cli.main(['lint', {str(recipe)!r}])\n")
    for debug, shown in (("1", True), ("", False)):
        env = {"RECIPEC_DEBUG": debug, "PATH": "/usr/bin:/bin"}
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                           env={**__import__("os").environ, **env})
        assert r.returncode == 2
        assert ("Traceback" in r.stderr) == shown, r.stderr
        assert "please report this" in r.stderr
