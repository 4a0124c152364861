"""Golden files for the rendered output (full, concise, json, sarif, github) of a bad recipe.

Regenerate after an intended change with `RECIPEC_UPDATE_GOLDEN=1 pytest tests/recipec/test_golden.py`
and review the diff.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from recipec.commands.lint import lint

HERE = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("RECIPEC_UPDATE_GOLDEN") == "1"
SUFFIX = {"full": "txt", "concise": "txt", "json": "json", "sarif": "json", "github": "txt"}


@pytest.mark.parametrize("fmt", sorted(SUFFIX))
def test_golden(fmt, monkeypatch):
    monkeypatch.chdir(HERE)  # paths in the output are relative and stable
    out = io.StringIO()
    rc = lint(["bad_recipe.yaml"], fmt=fmt, color=False, out=out)
    assert rc == 1
    golden = HERE / f"bad_recipe.{fmt}.{SUFFIX[fmt]}"
    if UPDATE or not golden.exists():
        golden.write_text(out.getvalue(), encoding="utf-8")
    assert out.getvalue() == golden.read_text(encoding="utf-8")
