"""Plan completeness: per-group targets of a mapping final_sparsity, and the schedules of pruning modifiers
`recipec train` does not run (AC/DC, OBS, RigL...), marked as such in JSON and in the table."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from recipec.frontend import compile_recipe
from recipec.plan import build_plan
from recipec.plan.pruning_kinds import acdc_sparsity
from recipec.plan.render_json import plan_to_dict
from recipec.plan.render_table import render_table

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def plan():
    res = compile_recipe(DATA / "every_pruning.yaml", model="none")
    assert res.ok, res.diagnostics
    return build_plan(res.recipe, 2)


def test_acdc_alternates_and_ends_compressed():
    """SparseML 1.8: even phases dense, odd compressed, the last phase (within update_frequency of the end)
    and the end update compressed (start 5, end 85, every 5, as in SparseML's AC/DC recipe)."""
    got = {e: acdc_sparsity(e, 5, 85, 5, 0.9) for e in range(5, 86, 5)}
    assert [got[e] for e in (5, 10, 15, 20, 70, 75, 80, 85)] == [0.0, 0.9, 0.0, 0.9, 0.9, 0.0, 0.9, 0.9]
    # an even (dense) phase that is the last one is compressed: start 0, end 10, every 2 -> 8..10 compressed
    assert [acdc_sparsity(e, 0, 10, 2, 0.5) for e in (0, 2, 4, 6, 8, 9.5, 10)] == [0.0, 0.5, 0.0, 0.5, 0.5, 0.5, 0.5]
    assert acdc_sparsity(7.5, 5, 85, 5, 0.9) == 0.0 and acdc_sparsity(12.0, 5, 85, 5, 0.9) == 0.9


def test_acdc_in_the_plan(plan):
    acdc = next(p for p in plan.pruning if p.kind == "ACDCPruningModifier")
    # start 2, end 10, every 2 epochs at S = 2: 0 / 0.8 / 0 / 0.8, then compressed to the end
    assert acdc.update_steps == {4: 0.0, 8: 0.8, 12: 0.0, 16: 0.8, 20: 0.8}
    assert not acdc.runs and acdc.leave_enabled and acdc.sparsity_at(23) == 0.8


def test_per_group_targets_in_mapping_order(plan):
    gmp = plan.pruning[0]
    assert gmp.group_finals == (0.9, 0.95, 0.97) and gmp.runs
    assert gmp.targets_at(1) is None and gmp.targets_at(2) == (0.05, 0.05, 0.05)
    y = gmp.progress[4]
    assert gmp.targets_at(4) == pytest.approx(tuple(y * (f - 0.05) + 0.05 for f in (0.9, 0.95, 0.97)))
    assert gmp.targets_at(10) == (0.9, 0.95, 0.97)
    assert gmp.sparsity_at(10) == 0.97  # the scalar (what the engine's per-parameter targets start from)


def test_json_lists_groups_and_marks_not_run(plan):
    doc = plan_to_dict(plan)
    assert doc["pruning"] == [
        {"modifier": "GMPruningModifier#2", "runs": True, "groups": [0.9, 0.95, 0.97]},
        {"modifier": "ACDCPruningModifier#3", "runs": False},
        {"modifier": "OBSPruningModifier#4", "runs": False},
        {"modifier": "RigLPruningModifier#5", "runs": False}]
    assert doc["steps"][0]["sparsity"] == [None, None, 0.1, None]
    assert doc["steps"][23]["sparsity"] == [[0.9, 0.95, 0.97], 0.8, 0.6, 0.7]


def test_table_shows_ranges_and_not_run(plan):
    out = io.StringIO()
    render_table(plan, out)
    text = out.getvalue()
    assert "sparsity ACDC#3 (not run)" in text and "sparsity GMP#2 " in text
    assert "0.9-0.97" in text
    assert "not run by recipec train (SparseML's schedule shown): ACDC#3, OBS#4, RigL#5" in text
