"""`recipec val` on hostile ONNX models: outputs too large for the input are refused before NMS (before the
run when the output shape is static), and a model that outputs NaN is an error, not mAP 0."""

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from recipec.cli import main
from yolo.data.synthetic import make_synthetic
from yolo.val import OnnxModel


def _constant_model(path, rows: int, value: float = 0.0, static: bool = True, nc: int = 80):
    """images (1, 3, 64, 64) -> a constant (1, rows, 5 + nc) output; shapes declared static or symbolic."""
    shape = helper.make_tensor("s", TensorProto.INT64, [3], [1, rows, 5 + nc])
    fill = helper.make_tensor("v", TensorProto.FLOAT, [1], [value])
    dims = [1, rows, 5 + nc] if static else ["b", "n", "k"]
    g = helper.make_graph([helper.make_node("ConstantOfShape", ["s"], ["output0"], value=fill)], "g",
                          [helper.make_tensor_value_info("images", TensorProto.FLOAT,
                                                         [1, 3, 64, 64] if static else ["b", 3, "h", "w"])],
                          [helper.make_tensor_value_info("output0", TensorProto.FLOAT, dims)], [shape])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, path)
    return path


def test_static_output_too_large_for_the_input_is_refused_before_a_session(tmp_path, monkeypatch):
    # The attack: 250 bytes declaring a 2M x 85 output (9.9 GB in val before the error; onnxruntime alone
    # folds the constant into a 680 MB buffer when the session is made).
    import onnxruntime

    def no_session(*_a, **_k):
        raise AssertionError("a session was made")

    monkeypatch.setattr(onnxruntime, "InferenceSession", no_session)
    p = _constant_model(tmp_path / "big.onnx", 2_000_000)
    with pytest.raises(ValueError, match=r"2000000 candidates per image, more than .* for a 64x64 input"):
        OnnxModel(p)
    dyn = _constant_model(tmp_path / "dyn.onnx", 2_000_000, static=False)  # dims inferred; val's --imgsz
    with pytest.raises(ValueError, match=r"2000000 candidates per image, more than .* for a 640x640 input"):
        OnnxModel(dyn, imgsz=640)


def test_dynamic_output_too_large_is_refused_before_nms(tmp_path):
    m = OnnxModel(_constant_model(tmp_path / "dyn.onnx", 5000, static=False))
    with pytest.raises(RuntimeError, match=r"5000 candidates per image, more than"):
        m(torch.zeros(1, 3, 64, 64))
    ok = OnnxModel(_constant_model(tmp_path / "ok.onnx", 252, static=False))  # 3 x (8x8 + 4x4 + 2x2)
    assert ok(torch.zeros(1, 3, 64, 64)).shape == (1, 252, 85)


def test_nan_outputs_fail_val_loudly(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = make_synthetic(tmp_path / "syn", n_train=1, n_val=2, seed=0, size_range=(64, 64))
    p = _constant_model(tmp_path / "nan.onnx", 252, value=float("nan"), nc=3)
    with pytest.raises(SystemExit) as e:
        main(["val", "--weights", str(p), "--data", str(data), "--imgsz", "64"])
    err = capsys.readouterr().err
    assert e.value.code == 1
    assert "error: the model output NaN or inf for 2 of 2 images" in err and "Traceback" not in err
