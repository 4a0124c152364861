"""A tiny ONNX model for tests: it ignores its input and always outputs the given predictions."""

from __future__ import annotations

import numpy as np


def constant_onnx(path, preds: np.ndarray, hw: tuple[int, int] = (64, 64), meta: dict[str, str] | None = None):
    """Save a model with a static (1, 3, H, W) input and the constant output `preds` (1, N, 5 + nc)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    preds = np.asarray(preds, np.float32)
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, *hw])
    y = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(preds.shape))
    nodes = [helper.make_node("ReduceMean", ["images"], ["m"], keepdims=0),
             helper.make_node("Mul", ["m", "zero"], ["z"]), helper.make_node("Add", ["const", "z"], ["output0"])]
    g = helper.make_graph(nodes, "c", [x], [y], initializer=[numpy_helper.from_array(preds, "const"),
                                                              numpy_helper.from_array(np.zeros((), np.float32), "zero")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    for k, v in (meta or {}).items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, path)
    return path
