"""`recipec plan`'s table: rich's box look drawn without rich (rich's per-cell layout was most of a long
plan's time), the last column wrapped at ", " to the width."""

from __future__ import annotations

import io
import subprocess
import sys

from recipec.plan.render_table import box_table, render_table
from recipec.plan.simulate import simulate
from recipec.plan.manager import PlanItem


def test_box_table_aligns_and_wraps_within_width():
    rows = [["0", "0.01", "off", "LRFunction#2, LRFunction#3, Constant#6"], ["10", "2e-06", "observing", "QAT#7"]]
    text = box_table(["epoch", "lr", "QAT", "active"], rows, [True, True, False, False], width=46)
    lines = text.split("\n")
    assert {len(x) for x in lines} == {len(lines[0])} and len(lines[0]) == 46
    assert lines[0].startswith("┏") and lines[2].startswith("┡") and lines[-1].startswith("└")
    assert lines[3] == "│     0 │  0.01 │ off       │ LRFunction#2,  │"
    assert lines[4] == "│       │       │           │ LRFunction#3,  │"
    assert lines[5] == "│       │       │           │ Constant#6     │"
    wide = box_table(["epoch", "lr", "QAT", "active"], rows, [True, True, False, False])
    assert len(wide.split("\n")) == 2 + 1 + 2 + 1  # no width: one line per row


def test_render_table_writes_text_and_skips_rich():
    plan = simulate([PlanItem("EpochRangeModifier", 0, 3, 0), PlanItem("QuantizationModifier", 2, -1, 1)], 5)
    out = io.StringIO()
    render_table(plan, out, title="t", width=80)
    text = out.getvalue()
    assert "│     2 │" in text and "QAT#2" in text and "timeline" in text
    code = ("import io, sys\n"
            "from recipec.plan.render_table import render_table\nfrom recipec.plan.simulate import simulate\n"
            "from recipec.plan.manager import PlanItem\n"
            "render_table(simulate([PlanItem('EpochRangeModifier', 0, 3, 0)], 5), io.StringIO())\n"
            "sys.exit('rich' in sys.modules)\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
