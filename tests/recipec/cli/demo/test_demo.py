"""`recipec demo --fast`: the whole pipeline runs offline and keeps the invariants it prints.

One run of the CLI (module-scoped, about 20 s on one thread) is shared by the tests. Accuracy is not
asserted (the fast budget trains for a handful of steps); the pipeline, the exact-zeros invariant, the
verified exports and the table are.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from recipec.cli.demo.run import DemoError, compare_zeros, prepare_out
from recipec.cli import build_app


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "run"
    r = CliRunner().invoke(build_app(), ["demo", "--fast", "--threads", "1", "--no-progress", "--out", str(out)])
    return out, r


def test_fast_demo_exits_zero_and_prints_the_table(fast_run):
    out, r = fast_run
    assert r.exit_code == 0, r.output
    for text in ("mAP50", "dense", "pruned", "transfer", "int8 onnx", "fp32 onnx", "latency",
                 "sparsity kept exactly", "INT8 export verified: PASS", "FP32 export verified: PASS"):
        assert text in r.output, text


def test_summary_json_records_every_stage(fast_run):
    out, _ = fast_run
    s = json.loads((out / "summary.json").read_text())
    assert s["ok"] is True
    assert set(s["metrics"]) == {"dense", "pruned", "transfer", "fp32 onnx", "int8 onnx"}
    assert {s["metrics"][k]["task"] for k in ("dense", "pruned")} == {"shapes-a"}
    assert {s["metrics"][k]["task"] for k in ("transfer", "fp32 onnx", "int8 onnx")} == {"shapes-b"}
    assert s["onnx"]["int8"]["bytes"] < s["onnx"]["fp32"]["bytes"] / 3  # int8 weights
    assert s["onnx"]["int8"]["median_ms"] > 0 and s["onnx"]["fp32"]["median_ms"] > 0
    assert all(c["ok"] for v in s["verify"].values() for c in v["checks"])
    assert any(c["name"] == "QDQ pairs" for c in s["verify"]["int8"]["checks"])
    assert (out / "demo.log").stat().st_size > 0 and (out / ".recipec-demo").is_file()


def test_pruned_start_is_really_sparse_and_every_zero_survives_transfer(fast_run):
    """Recomputed here from the checkpoints, independently of the demo's own count."""
    out, _ = fast_run
    from yolo.checkpoint import load_model

    pruned = dict(load_model(out / "prune" / "weights" / "last.pt").named_parameters())
    final = dict(load_model(out / "transfer" / "weights" / "last.pt").named_parameters())
    s = json.loads((out / "summary.json").read_text())["sparsity"]
    zeros = kept = 0
    for name, w in pruned.items():
        if not name.endswith("conv.weight") or final[name].shape != w.shape:
            continue
        z = w.detach() == 0
        zeros += int(z.sum())
        kept += int((final[name].detach()[z] == 0).sum())
    assert zeros > 0.5 * sum(w.numel() for n, w in pruned.items() if n.endswith("conv.weight"))  # GMP reached its targets
    assert kept == zeros
    assert s["zeros_before"] >= zeros and s["kept_exactly"] is True
    assert s["reinitialised"] == ["model.24.m.0.weight", "model.24.m.1.weight", "model.24.m.2.weight"]


def test_the_int8_onnx_holds_the_pruned_zeros(fast_run):
    out, _ = fast_run
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(out / "export" / "transfer_int8.onnx"))
    ints = [numpy_helper.to_array(i) for i in m.graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert ints, "no int8 weight initializers"
    total = sum(a.size for a in ints)
    assert sum(int((a == 0).sum()) for a in ints) > 0.5 * total


def test_compare_zeros_reports_a_lost_zero():
    """The invariant check can fail: a zero that came back is named."""
    from torch import nn

    a = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 5, 1))
    with torch.no_grad():
        a[0].weight[0] = 0
    b = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 5, 1))
    b.load_state_dict(a.state_dict())
    assert compare_zeros(a, b)["kept_exactly"] is True
    with torch.no_grad():
        b[0].weight[0, 0, 0, 0] = 0.5
    r = compare_zeros(a, b)
    assert r["kept_exactly"] is False and r["lost_in"] == ["0.weight"]
    assert r["zeros_kept"] == r["zeros_before"] - 1


def test_refuses_a_foreign_non_empty_out_folder(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(DemoError, match="did not make"):
        prepare_out(tmp_path)
    r = CliRunner().invoke(build_app(), ["demo", "--fast", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "did not make" in r.output
    assert (tmp_path / "mine.txt").read_text() == "keep me"


@pytest.mark.parametrize("args, msg", [
    (["--prune-epochs", "3"], "--prune-epochs must be >= 8"),
    (["--transfer-epochs", "2"], "--transfer-epochs must be >= 4"),
    (["--imgsz", "100"], "multiple of 32"),
    (["--threads", "0"], "--threads must be >= 1"),
    (["--weights", "no/such/file.pt"], "no such file"),
])
def test_bad_arguments_exit_2_without_traceback(tmp_path, args, msg):
    r = CliRunner().invoke(build_app(), ["demo", "--fast", "--out", str(tmp_path / "o"), *args])
    assert r.exit_code == 2, r.output
    assert msg in r.output and "Traceback" not in r.output


def test_demo_recipes_exist_and_lint_clean():
    from recipec.cli.demo.run import check_recipes
    from recipec.frontend import compile_recipe

    for name, path in check_recipes().items():
        res = compile_recipe(path)
        assert res.ok, (name, [d.message for d in res.diagnostics])
    assert Path(check_recipes()["dense"]).name.startswith("demo_")
