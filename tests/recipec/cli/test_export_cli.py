"""`recipec export` / `recipec bench` end to end on a tiny pruned + QAT recipec checkpoint."""

from __future__ import annotations

import json

import onnx
import pytest
import torch
from typer.testing import CliRunner

from recipec.cli import build_app
from test_export_onnx import detecting

TINY = {"depth_multiple": 0.33, "width_multiple": 0.125}


@pytest.fixture(scope="module")
def qat_ckpt(tmp_path_factory):
    import yolo
    from engine.checkpoint import save_checkpoint
    from engine.pruning import MaskSet, resolve_params
    from engine.quant import QuantSpec, disable_observer, freeze_bn_stats, prepare_qat, qat_state_dict

    torch.manual_seed(0)
    m = detecting(yolo.build_model(TINY, nc=2))  # verify needs torch detections to compare
    masks = MaskSet(m, resolve_params(m, "__ALL_PRUNABLE__").names)
    masks.update(0.5)
    prepare_qat(m, QuantSpec(submodules=tuple(f"model.{i}" for i in range(24))))
    m.train()
    with torch.no_grad():
        for _ in range(3):
            m(torch.rand(2, 3, 64, 64))
    freeze_bn_stats(m)
    disable_observer(m)
    p = tmp_path_factory.mktemp("ck") / "last.pt"
    save_checkpoint(p, {"model": m.state_dict(), "nc": 2, "names": ["a", "b"], "cfg": TINY,
                        "masks": masks.state_dict()["masks"], "qat": {"started": True, "state": qat_state_dict(m)},
                        "recipe_sha256": "f00d", "phase": "pruned_quantized"})
    return p


def run(*args):
    return CliRunner().invoke(build_app(), list(args))


def test_export_qat_checkpoint_verifies(qat_ckpt, tmp_path):
    out = tmp_path / "m.onnx"
    r = run("export", "--weights", str(qat_ckpt), "--imgsz", "64", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "INT8 QDQ" in r.output and "QDQ pairs" in r.output and "FAIL" not in r.output
    meta = {p.key: p.value for p in onnx.load(out).metadata_props}
    assert meta["recipe_sha256"] == "f00d" and meta["names"] == "{0: 'a', 1: 'b'}" and meta["stride"] == "32"
    # Detect head excluded by `submodules`: its convs stay float
    assert not any(n.op_type == "DequantizeLinear" and "model.24" in n.name for n in onnx.load(out).graph.node)
    b = run("bench", str(out), "--iters", "2", "--imgsz", "64")
    assert b.exit_code == 0 and "onnxruntime" in b.output and "unstructured sparsity" in b.output
    j = CliRunner().invoke(build_app(), ["bench", str(out), "--iters", "2", "--img-size", "64", "--batch-size", "1",
                                         "--format", "json"])
    assert j.exit_code == 0, j.output
    rep = json.loads(j.stdout)  # one JSON object and nothing else on stdout
    assert rep["model"] == str(out) and rep["results"][0]["engine"] == "onnxruntime"
    assert rep["results"][0]["input"] == [1, 3, 64, 64] and rep["results"][0]["median_ms"] > 0


@pytest.mark.parametrize("args, msg", [
    (["--opset", "12"], "opset >= 13"),
    (["--imgsz", "100"], "multiple of 32"),
])
def test_export_bad_input_exit_2(qat_ckpt, tmp_path, args, msg):
    r = run("export", "--weights", str(qat_ckpt), "--out", str(tmp_path / "x.onnx"), "--no-verify", *args)
    assert r.exit_code == 2 and msg in r.output and "Traceback" not in r.output


def test_export_missing_weights_and_bench_missing_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("export", "--weights", str(tmp_path / "nope.pt"))
    assert r.exit_code == 2 and "not found" in r.output
    r = run("export", "--weights", "yolov5s", "--img", "64")  # used to export a random model
    assert r.exit_code == 2 and "yolov5s: no such file" in r.output and "--init random" in r.output
    assert not (tmp_path / "yolov5s.onnx").exists()
    b = run("bench", str(tmp_path / "nope.onnx"))
    assert b.exit_code == 2 and "not found" in b.output
    (tmp_path / "bad.onnx").write_text("not a model")
    b = run("bench", str(tmp_path / "bad.onnx"))
    assert b.exit_code == 2 and "cannot run" in b.output
