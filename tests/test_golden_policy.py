"""Golden files are never written by a plain test run: a missing one fails, and only RECIPEC_UPDATE_GOLDEN=1 writes."""

from __future__ import annotations

import pytest

import conftest


def test_a_missing_golden_fails_and_is_not_written(tmp_path, monkeypatch):
    monkeypatch.setattr(conftest, "UPDATE_GOLDEN", False)
    gold = tmp_path / "x.txt"
    with pytest.raises(AssertionError, match="missing golden x.txt"):
        conftest.check_golden(gold, "text")
    assert not gold.exists()


def test_a_changed_output_fails_and_the_flag_rewrites(tmp_path, monkeypatch):
    gold = tmp_path / "g" / "x.txt"
    monkeypatch.setattr(conftest, "UPDATE_GOLDEN", True)
    conftest.check_golden(gold, "old")
    monkeypatch.setattr(conftest, "UPDATE_GOLDEN", False)
    with pytest.raises(AssertionError, match="changed"):
        conftest.check_golden(gold, "new")
    assert gold.read_text() == "old"
