"""ONNX metadata: YOLOv5's layout (stride int, names dict text) written and read; the older JSON one read."""

import ast

import numpy as np
import pytest
from onnx_testutil import constant_onnx

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


@pytest.mark.parametrize("meta", [
    {"names": "{0: 'a', 1: 'b'}", "stride": "32", "strides": "[8, 16, 32]"},  # recipec now
    {"names": '["a", "b"]', "stride": "[8, 16, 32]"},                           # recipec before
])
def test_onnx_model_reads_new_and_old_metadata(tmp_path, meta):
    from yolo.val import OnnxModel

    m = OnnxModel(constant_onnx(tmp_path / "m.onnx", np.zeros((1, 2, 7)), meta=meta))
    assert m.names == ["a", "b"] and m.stride == 32 and m.nc == 2


def test_onnx_model_without_metadata(tmp_path):
    from yolo.val import OnnxModel

    # one name for two classes: ignored
    m = OnnxModel(constant_onnx(tmp_path / "m.onnx", np.zeros((1, 2, 7)), meta={"names": "{0: 'a'}"}))
    assert m.names is None and m.stride == 32 and m.strides is None
