"""ONNX metadata: YOLOv5's layout (stride int, names dict text) written and read; the older JSON one read."""

import ast

import pytest

from yolo.onnx_meta import names_literal, parse_names, parse_strides


def test_names_literal_is_what_yolov5_writes_and_reads():
    text = names_literal(["person", "it's", 'say "hi"'])
    assert text.startswith("{0: 'person', 1: ")
    assert ast.literal_eval(text) == {0: "person", 1: "it's", 2: 'say "hi"'}
    assert parse_names(text) == ["person", "it's", 'say "hi"']


@pytest.mark.parametrize("text, names", [
    ('["a", "b"]', ["a", "b"]),                    # recipec exports before the YOLOv5 layout
    ("{0: 'a', 1: 'b'}", ["a", "b"]),
    ("{1: 'b', 0: 'a'}", ["a", "b"]),
    ("{0: 'a', 2: 'c'}", None),                    # ids not 0..n-1
    ("{0: 1}", None),
    ("__import__('os').system('true')", None),     # never evaluated
    ("[1, 2]", None), ("", None), (None, None), ("{", None),
])
def test_parse_names(text, names):
    assert parse_names(text) == names


@pytest.mark.parametrize("meta, strides", [
    ({"stride": "32", "strides": "[8, 16, 32]"}, [8, 16, 32]),
    ({"stride": "32"}, [32]),                      # a YOLOv5 export
    ({"stride": "[8, 16, 32]"}, [8, 16, 32]),      # an older recipec export
    ({"stride": "true"}, None), ({"stride": "0"}, None), ({"stride": "x"}, None), ({}, None),
])
def test_parse_strides(meta, strides):
    assert parse_strides(meta) == strides


def _constant_onnx(path, meta: dict[str, str]):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])
    y = helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 2, 7])
    nodes = [helper.make_node("ReduceMean", ["images"], ["m"], keepdims=0),
             helper.make_node("Mul", ["m", "zero"], ["z"]), helper.make_node("Add", ["const", "z"], ["output0"])]
    g = helper.make_graph(nodes, "c", [x], [y], initializer=[
        numpy_helper.from_array(np.zeros((1, 2, 7), np.float32), "const"),
        numpy_helper.from_array(np.zeros((), np.float32), "zero")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, path)
    return path


@pytest.mark.parametrize("meta", [
    {"names": "{0: 'a', 1: 'b'}", "stride": "32", "strides": "[8, 16, 32]"},  # recipec now
    {"names": '["a", "b"]', "stride": "[8, 16, 32]"},                           # recipec before
])
def test_onnx_model_reads_new_and_old_metadata(tmp_path, meta):
    from yolo.val import OnnxModel

    m = OnnxModel(_constant_onnx(tmp_path / "m.onnx", meta))
    assert m.names == ["a", "b"] and m.stride == 32 and m.nc == 2


def test_onnx_model_without_metadata(tmp_path):
    from yolo.val import OnnxModel

    m = OnnxModel(_constant_onnx(tmp_path / "m.onnx", {"names": "{0: 'a'}"}))  # 1 name, 2 classes: ignored
    assert m.names is None and m.stride == 32 and m.strides is None
