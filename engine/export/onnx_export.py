"""`export_onnx`: a YOLOv5 (float, pruned or QAT) to an ONNX file that keeps sparsity and quantization.

Graph: input `images` (B, 3, H, W) float in [0, 1] -> output `output0` (B, N, 5 + nc), the decoded
eval-mode prediction (the Detect decode is inside the graph). BN is folded into the convs. QAT models
become a standard QDQ graph: QuantizeLinear/DequantizeLinear on activations (uint8, per tensor) and
int8 weight initializers (per channel, axis 0) feeding DequantizeLinear. Pruned weights are exact zeros
both in float initializers and in int8 ones. Exported with torch's TorchScript exporter
(`dynamo=False`), constant folding on, then post-processed here (int8 weights, metadata).

Metadata props (`onnx.ModelProto.metadata_props`, all strings), readable by YOLOv5's own loader: `names` (a
Python dict literal `{0: 'person', ...}`, as YOLOv5 writes it), `stride` (the largest, an int), `strides` (JSON
list of every level), `imgsz` (JSON [h, w]), `recipe_sha256`, `sparsity` (JSON {param name: fraction of zeros}),
`quantized` ("true"/"false"), `producer` ("recipec"), plus any `metadata` given. `producer_name` /
`producer_version` are recipec's. `yolo.onnx_meta` reads both this layout and the older JSON one.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

import recipec
from engine.export.modules import to_export_module
from engine.pruning.maskset import sparsity_table
from engine.pruning.params import prunable_param_names
from engine.quant.qat import is_qat
from yolo.onnx_meta import names_literal

MIN_QDQ_OPSET = 13


class ExportError(ValueError):
    """Bad export request (opset, shapes, model); the command prints it and exits non-zero."""


def _constants_to_initializers(model) -> None:
    """Constant nodes -> initializers; Identity of an initializer -> its input (uses renamed)."""
    from onnx import numpy_helper

    g = model.graph
    inits = {i.name for i in g.initializer}
    for node in list(g.node):
        if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
            t = numpy_helper.to_array(node.attribute[0].t)
            g.initializer.append(numpy_helper.from_array(t, node.output[0]))
            inits.add(node.output[0])
            g.node.remove(node)
    graph_outputs = {o.name for o in g.output}
    rename = {}
    for node in list(g.node):
        if node.op_type == "Identity" and node.input[0] in inits and node.output[0] not in graph_outputs:
            rename[node.output[0]] = node.input[0]
            g.node.remove(node)
    for node in g.node:
        for k, name in enumerate(node.input):
            if name in rename:
                node.input[k] = rename[name]


def _quantize_weight_initializers(model) -> int:
    """Replace `float initializer -> QuantizeLinear -> DequantizeLinear` by an int8 initializer -> DQ.

    Returns how many weights were converted. round-half-even like torch's fake quant.
    """
    from onnx import numpy_helper

    inits = {i.name: i for i in model.graph.initializer}
    consumers: dict[str, int] = {}
    for n in model.graph.node:
        for i in n.input:
            consumers[i] = consumers.get(i, 0) + 1
    drop, converted = [], 0
    for node in model.graph.node:
        if node.op_type != "QuantizeLinear" or node.input[0] not in inits or len(node.input) < 3:
            continue
        if node.input[1] not in inits or node.input[2] not in inits:
            continue
        w = numpy_helper.to_array(inits[node.input[0]]).astype(np.float32)
        s = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
        zp_t = numpy_helper.to_array(inits[node.input[2]])
        if zp_t.dtype != np.int8:
            continue
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        shape = [1] * w.ndim
        if s.ndim == 1 and s.size > 1:
            shape[axis] = -1
        q = np.clip(np.rint(w / s.reshape(shape)) + zp_t.astype(np.float32).reshape(shape), -128, 127).astype(np.int8)
        name = node.output[0]
        model.graph.initializer.append(numpy_helper.from_array(q, name))
        drop.append(node)
        if consumers.get(node.input[0], 0) == 1:
            model.graph.initializer.remove(inits.pop(node.input[0]))
        converted += 1
    for node in drop:
        model.graph.node.remove(node)
    return converted


def _dedupe_qdq(model) -> int:
    """Merge QuantizeLinear / DequantizeLinear nodes that read the same tensor with equal qparams (two
    quantizers observing one tensor, e.g. C3's cv1 and cv2, calibrate to the same scale): one Q per tensor
    lets onnxruntime fuse the producer into its QLinear* op (its QDQ selectors want a single Q consumer).
    Exact: identical inputs and parameters give identical outputs. Returns how many nodes were dropped."""
    from onnx import numpy_helper

    g = model.graph
    inits = {i.name: i for i in g.initializer}
    graph_outputs = {o.name for o in g.output}

    def val(name: str) -> bytes | None:
        if name not in inits:
            return None
        a = numpy_helper.to_array(inits[name])
        return a.dtype.str.encode() + repr(a.shape).encode() + a.tobytes()

    seen: dict[tuple, str] = {}
    rename: dict[str, str] = {}
    drop = []
    for node in g.node:
        for k, name in enumerate(node.input):
            if name in rename:
                node.input[k] = rename[name]
        if node.op_type not in ("QuantizeLinear", "DequantizeLinear") or node.output[0] in graph_outputs:
            continue
        params = tuple(val(i) for i in node.input[1:])
        if any(p is None for p in params):
            continue
        attrs = tuple(sorted((a.name, a.i) for a in node.attribute))
        key = (node.op_type, node.input[0], params, attrs)
        if key in seen:
            rename[node.output[0]] = seen[key]
            drop.append(node)
        else:
            seen[key] = node.output[0]
    for node in drop:
        g.node.remove(node)
    return len(drop)


def _set_meta(model, meta: dict[str, str]) -> None:
    del model.metadata_props[:]
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = str(k), str(v)


def export_onnx(model: nn.Module, path: str | Path, *, imgsz: int | tuple[int, int] = 640, batch: int = 1,
                dynamic: bool = False, opset: int = 17, qat: bool | None = None,
                metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """Export `model` (a YoloModel, possibly pruned / QAT-prepared) to `path`. Returns a summary dict.

    `qat`: None = detect from the model; True requires a QAT-prepared model. Raises ExportError on a bad
    request (opset < 13 with QAT, opset out of [11, 21], image size not a multiple of 32, batch < 1).
    """
    import onnx

    quantized = is_qat(model)
    if qat is True and not quantized:
        raise ExportError("qat=True but the model has no QAT modules (prepare it or load a QAT checkpoint)")
    h, w = (imgsz, imgsz) if isinstance(imgsz, int) else tuple(imgsz)
    if h % 32 or w % 32 or h <= 0 or w <= 0:
        raise ExportError(f"image size must be a positive multiple of 32, got {h}x{w}")
    if batch < 1:
        raise ExportError(f"batch must be >= 1, got {batch}")
    if not 11 <= opset <= 21:
        raise ExportError(f"opset {opset} is outside the supported range 11..21")
    if quantized and opset < MIN_QDQ_OPSET:
        raise ExportError(f"quantized (QAT) export needs opset >= {MIN_QDQ_OPSET} (per-channel "
                          f"DequantizeLinear); got --opset {opset}. Use --opset 13 or higher (default 17).")
    spec = getattr(model, "_qat_spec", None)
    if quantized and spec is not None and (spec.activation_bits != 8 or spec.weight_bits != 8):
        raise ExportError(f"ONNX QuantizeLinear holds 8-bit codes only; this model was trained with "
                          f"activation_bits={spec.activation_bits}, weight_bits={spec.weight_bits}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = prunable_param_names(model)
    table = sparsity_table(model, names)
    em = to_export_module(model)
    x = torch.zeros(batch, 3, h, w)
    dyn = {"images": {0: "batch", 2: "height", 3: "width"}, "output0": {0: "batch", 1: "anchors"}} if dynamic else None
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(em, (x,), str(path), dynamo=False, opset_version=opset, do_constant_folding=True,
                          input_names=["images"], output_names=["output0"], dynamic_axes=dyn)
    m = onnx.load(str(path))
    _constants_to_initializers(m)
    n_int8 = _quantize_weight_initializers(m) if quantized else 0
    if quantized:
        _dedupe_qdq(m)
    strides = [int(s) for s in getattr(model, "stride", torch.tensor([])).tolist()]
    meta = {
        "producer": "recipec",
        "names": names_literal(getattr(model, "names", [])),
        "stride": str(max(strides, default=32)),
        "strides": json.dumps(strides),
        "imgsz": json.dumps([h, w]),
        "quantized": "true" if quantized else "false",
        "sparsity": json.dumps({r.name: round(r.sparsity, 6) for r in table}),
    }
    for k, v in (metadata or {}).items():
        meta[str(k)] = v if isinstance(v, str) else json.dumps(v)
    meta.setdefault("recipe_sha256", "")
    _set_meta(m, meta)
    m.producer_name, m.producer_version = "recipec", recipec.__version__
    onnx.save(m, str(path))
    return {"path": str(path), "opset": opset, "quantized": quantized, "int8_weights": n_int8,
            "imgsz": [h, w], "batch": batch, "dynamic": dynamic, "sparsity": table}
