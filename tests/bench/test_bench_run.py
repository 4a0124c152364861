"""bench/run.py: the one-command harness's JSON keys and table (the full --quick run is slow-marked)."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KEYS = {"lint_s", "plan_s", "step_s", "train_images_per_s", "val_nms_share", "onnx_latency_ms"}


def _load():
    spec = importlib.util.spec_from_file_location("bench_run", REPO / "bench" / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_unknown_skip_part_is_a_usage_error(capsys):
    assert _load().main(["--skip", "lint,bogus"]) == 2
    assert "bogus" in capsys.readouterr().err


def test_table_shows_every_part_and_missing_values():
    r = {"device": "cpu", "quick": True, "threads": 2, "load_before": [1.0, 1, 1], "load_after": [2.0, 1, 1],
         "lint_s": 0.5, "lint_cpu_s": 0.2, "plan_s": 0.9, "plan_cpu_s": 0.4,
         "step_s": {"dense": 0.1, "masks": 0.102, "gmp": None, "qat": 0.12},
         "step_ratio": {"dense": 1.0, "masks": 1.02, "gmp": None, "qat": 1.2},
         "masks_ab": {"min": 0.99, "median": 1.004},
         "step_config": {"cfg": "yolov5n", "imgsz": 320, "batch": 8},
         "train_images_per_s": None, "train_note": "no data",
         "onnx_latency_ms": {"fp32": 10.0, "int8": 5.0, "int8_sparseml": 4.0}, "onnx_ratio": 0.5,
         "onnx_ratio_sparseml": 0.4, "onnx_imgsz": 320}
    text = _load().table(r)
    for needle in ("recipec lint", "1.020", "median 1.0040x   goal <= 1.03", "no data", "int8 5.00 ms", "load 1.00 -> 2.00"):
        assert needle in text, needle
    assert " - " in text.split("gmp")[1].splitlines()[0] + " "


@pytest.mark.slow
def test_quick_run_writes_the_documented_json_keys(tmp_path):
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--json", str(out)],
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert KEYS <= set(res)
    assert set(res["step_s"]) == {"dense", "masks", "gmp", "qat"}
    assert res["lint_s"] > 0 and res["step_s"]["dense"] > 0
    if res["onnx_latency_ms"] is not None:
        assert {"fp32", "int8"} <= set(res["onnx_latency_ms"])


def test_goals_say_met_missed_or_not_measured(tmp_path):
    mod = _load()
    r = {"device": "cpu", "quick": True, "threads": 2, "load_before": [1.0, 1, 1], "load_after": [1.0, 1, 1],
         "lint_s": 0.5, "lint_cpu_s": 0.12, "plan_s": 0.9, "plan_cpu_s": 1.4, "front_end_runs": 7,
         "step_ratio": {"dense": 1.0, "masks": 1.05, "qat": 1.25}, "step_ratio_paired": {"dense": 1.0, "qat": 1.45},
         "masks_ab": {"min": 1.0, "median": 1.02}}
    rows = {label: met for label, _, _, _, met in mod.goal_rows(r)}
    assert rows == {"masks step / same step, no masks (median)": True, "QAT step / dense (paired median, BN live)": False,
                    "recipec plan 300k steps (process CPU)": False, "recipec lint (process CPU)": True,
                    "recipec val / reference val.py (wall)": None,
                    "recipec val NMS / inference (per image)": None}
    text = mod.table(r)
    assert "1.450x   goal <= 1.30x   MISSED" in text and "0.120 s   goal <= 0.15 s   met" in text
    assert "not measured" in text.split("reference val.py")[1]
    summary = tmp_path / "summary.json"
    assert mod.reference_val(summary) == {}  # reference_val.sh not run: no row value
    summary.write_text(json.dumps({"wall_ratio_ours_over_ref": 0.8}))
    assert mod.reference_val(summary)["reference_val_ratio"] == 0.8


def test_val_nms_share_line_and_goal():
    mod = _load()
    base = {"device": "cpu", "quick": False, "threads": 2, "load_before": [1.0, 1, 1], "load_after": [1.0, 1, 1]}
    r = {**base, "val_nms_share": 0.021, "val_speed_ms": {"preprocess": 1.0, "inference": 100.0, "nms": 2.1},
         "val_map50": 0.5492, "val_map50_95": 0.3505, "val_wall_s": 40.0,
         "val_config": {"cfg": "yolov5n", "data": "coco128", "imgsz": 640, "batch": 16}}
    text = mod.table(r)
    assert "NMS 2.10 ms, inference 100.0 ms per image" in text and "mAP50 0.5492" in text
    assert "0.021x   goal <= 0.05x   met" in text
    r.update(val_nms_share=0.08)
    assert "0.080x   goal <= 0.05x   MISSED" in mod.table(r)
    text = mod.table({**base, "val_nms_share": None, "val_note": "no coco data"})
    assert "no coco data" in text and "not measured" in text.split("NMS / inference (per image)")[1]
