"""Golden files for the rendered output (full, concise, json, sarif, github) of a bad recipe.

Regenerate after an intended change with `RECIPEC_UPDATE_GOLDEN=1 pytest tests/recipec/diagnostics/test_golden.py`
and review the diff.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from conftest import check_golden
from recipec.cli.commands.lint import lint

HERE = Path(__file__).resolve().parent / "golden"
SUFFIX = {"full": "txt", "concise": "txt", "json": "json", "sarif": "json", "github": "txt"}


@pytest.mark.parametrize("fmt", sorted(SUFFIX))
def test_golden(fmt, monkeypatch):
    monkeypatch.chdir(HERE)  # paths in the output are relative and stable
    out = io.StringIO()
    rc = lint(["bad_recipe.yaml"], fmt=fmt, color=False, out=out)
    assert rc == 1
    check_golden(HERE / f"bad_recipe.{fmt}.{SUFFIX[fmt]}", out.getvalue(), f"lint's {fmt} rendering")
