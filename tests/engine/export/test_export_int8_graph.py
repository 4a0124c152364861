"""QuantSpec.quantize_silu (the int8-graph layout): QAT semantics, the exported Q/DQ structure, and the
fused int8 graph onnxruntime builds from it (checked on its optimized model file)."""

from __future__ import annotations

import collections
import functools

import onnx
import pytest
import torch
from torch import nn

from engine.export.graph import silu_qdq
from engine.export.onnx_export import export_onnx
from engine.export.verify import verify
from engine.quant import QATAdd, QATConvBn, QuantSpec, prepare_qat, qat_modules, qat_state_dict
from engine.quant.fake_quant import is_quantized
from engine.quant.qat import load_qat_state_dict

from test_export_onnx import SIZE, pruned, quantized, synthetic_images, tiny

SPEC = QuantSpec(quantize_silu=True)


@functools.lru_cache(maxsize=1)
def _exported(tmp: str):
    m = quantized(pruned(tiny()), SPEC)
    path = f"{tmp}/g.onnx"
    export_onnx(m, path, imgsz=SIZE)
    return m, path


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return _exported(str(tmp_path_factory.mktemp("int8graph")))


def test_spec_roundtrip_and_default_off():
    assert QuantSpec().quantize_silu is False
    assert QuantSpec.from_dict(SPEC.to_dict()) == SPEC


def test_qat_block_quantizes_out_sigmoid_silu_and_skips_requantizing():
    m = prepare_qat(tiny(), SPEC)
    blocks = [b for _, b in qat_modules(m) if isinstance(b, QATConvBn)]
    assert blocks and all(b.oq is not None and b.sq is not None and b.mq is not None for b in blocks)
    assert all(b.oq is not None for _, b in qat_modules(m) if isinstance(b, QATAdd))
    m.train()
    with torch.no_grad():
        m(torch.rand(2, 3, SIZE, SIZE))
    stem, second = m.model[0], m.model[1]
    assert float(stem.aq.min_val) != float("inf")  # the image is quantized once at the stem
    assert float(second.aq.min_val) == float("inf")  # fed a quantized tensor: its input quantizer never ran
    m.eval()
    x = torch.rand(1, 3, SIZE, SIZE)
    with torch.no_grad():
        y = stem(x)
        assert is_quantized(y)
        # the output sits on the SiLU quantizer's uint8 grid
        s, z = stem.mq.qparams()
        codes = y / s + z
        assert torch.allclose(codes, codes.round(), atol=1e-3)
        # the QAT forward equals the explicit Sigmoid/Mul fake-quant chain
        sig = torch.sigmoid(stem.oq(_conv_out(stem, x)))
        ref = stem.mq(stem.oq(_conv_out(stem, x)) * stem.sq(sig))
    assert torch.equal(y, ref)


def _conv_out(b, x):
    import torch.nn.functional as F

    from engine.quant.fake_quant import quantize_bias
    w, bias = b.folded()
    # the bias sits on onnxruntime's int32 grid: input scale * per-channel weight scale
    return F.conv2d(b.aq(x), b.wq(w), quantize_bias(bias, b.aq.scale * b.wq.scale), b.conv.stride, b.conv.padding)


def test_bias_on_int32_grid_in_the_export(exported):
    m, path = exported
    from onnx import numpy_helper

    g = onnx.load(path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    block = m.model[0]
    conv = next(n for n in g.node if n.op_type == "Conv" and n.name.startswith("/model.0/"))
    b = inits[conv.input[2]]
    grid = block.aq.qparams()[0] * block.wq.scale.numpy()
    assert abs(b / grid - (b / grid).round()).max() < 1e-3


def test_qat_state_roundtrip_with_new_quantizers():
    m = quantized(tiny(), SPEC)
    st = qat_state_dict(m)
    assert any(k.endswith(".sq") for k in st["fake_quant"]) and any(k.endswith(".mq") for k in st["fake_quant"])
    m2 = prepare_qat(tiny(), SPEC)
    load_qat_state_dict(m2, st)
    m2.eval()
    x = torch.rand(1, 3, SIZE, SIZE)
    with torch.no_grad():
        assert torch.equal(m(x), m2(x))


def test_export_verifies_with_silu_qdq(exported):
    m, path = exported
    r = verify(path, m, synthetic_images())
    assert r.ok, r.table()
    assert "SiLU Q/DQ" in [c.name for c in r.checks]
    found = silu_qdq(onnx.load(path))
    want = [n for n, b in qat_modules(m) if isinstance(b, QATConvBn) and isinstance(b.act, nn.SiLU)]
    assert want and all(found.get(n) for n in want)
    assert not found.get("model.24", False)  # the Detect decode's sigmoid stays float


def test_one_quantize_per_tensor_and_params(exported):
    g = onnx.load(exported[1]).graph
    keys = collections.Counter((n.input[0], n.input[1], n.input[2]) for n in g.node if n.op_type == "QuantizeLinear")
    assert keys and max(keys.values()) == 1
    per_tensor = collections.Counter(n.input[0] for n in g.node if n.op_type == "QuantizeLinear")
    assert max(per_tensor.values()) == 1  # every tensor is quantized at most once


def test_onnxruntime_builds_the_int8_graph(exported, tmp_path):
    import onnxruntime as ort

    m, path = exported
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    so.optimized_model_filepath = str(tmp_path / "opt.onnx")
    ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    ops = collections.Counter(n.op_type for n in onnx.load(str(tmp_path / "opt.onnx")).graph.node)
    n_conv = sum(1 for _ in m.modules() if isinstance(_, nn.Conv2d))
    n_silu = sum(1 for _, b in qat_modules(m) if isinstance(b, QATConvBn))
    assert ops["QLinearConv"] == n_conv and ops["Conv"] == 0
    assert ops["QLinearSigmoid"] == n_silu and ops["QLinearMul"] == n_silu
    assert ops["QLinearConcat"] > 0 and ops["QLinearAdd"] > 0


def test_every_concat_before_the_decode_runs_in_int8(exported, tmp_path):
    """Upsample / MaxPool outputs carry their input's Q/DQ (`GridPreserving`), so every concat of the network
    (neck concats with an upsampled input, SPPF's concat of max-pools) becomes QLinearConcat; only the float
    Detect decode keeps float Concat nodes."""
    import onnxruntime as ort

    m, path = exported
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    so.optimized_model_filepath = str(tmp_path / "opt.onnx")
    ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    nodes = onnx.load(str(tmp_path / "opt.onnx")).graph.node
    detect = f"/model.{len(m.model) - 1}/"
    kinds = {type(x).__name__ for x in m.modules()}
    assert {"Upsample", "MaxPool2d"} <= kinds  # the tiny model has both
    float_concats = [n.name for n in nodes if n.op_type == "Concat" and detect not in n.name]
    assert float_concats == []
    assert sum(n.op_type == "QLinearConcat" for n in nodes) == sum(
        n.op_type == "Concat" for n in onnx.load(path).graph.node if detect not in n.name)
