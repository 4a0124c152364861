"""Export: dense, pruned and pruned-quantized tiny YOLOv5s export, pass verify, keep their zeros."""

from __future__ import annotations

import copy
import functools

import numpy as np
import onnx
import pytest
import torch

from engine.export.graph import conv_infos, metadata
from engine.export.onnx_export import ExportError, export_onnx
from engine.export.verify import verify
from engine.pruning import MaskSet, resolve_params
from engine.quant import QuantSpec, disable_observer, freeze_bn_stats, prepare_qat

TINY = {"depth_multiple": 0.33, "width_multiple": 0.125}
SIZE = 128


@functools.lru_cache(maxsize=1)
def _base():
    import yolo

    torch.manual_seed(0)
    m = yolo.build_model(TINY, nc=3)
    m.train()
    with torch.no_grad():  # realistic BN statistics
        for _ in range(2):
            m(torch.rand(2, 3, SIZE, SIZE))
    return m.eval()


def tiny():
    return copy.deepcopy(_base())


def detecting(m):
    """`m` with the Detect head's coarsest level pushed to fire (objectness and class logits raised), so that torch
    finds boxes on any image and verify's box agreement compares something (a random tiny model detects nothing)."""
    det = m.model[-1]
    with torch.no_grad():
        b = det.m[-1].bias.view(det.na, -1)
        b[:, 4] += 10.0
        b[:, 5:] += 4.0
    return m


def synthetic_images(n=2):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (100 + 20 * i, 160, 3), dtype=np.uint8) for i in range(n)]


def pruned(m, s=0.6):
    names = resolve_params(m, "__ALL_PRUNABLE__").names
    MaskSet(m, names).update(s, global_=False)
    return m


def quantized(m, spec=QuantSpec()):
    prepare_qat(m, spec)
    m.train()
    freeze_bn_stats(m)
    with torch.no_grad():
        for _ in range(3):
            m(torch.rand(2, 3, SIZE, SIZE))
    disable_observer(m)
    return m.eval()


def checks(report):
    return {c.name.split(" (")[0]: c.ok for c in report.checks}


def test_dense_export_verifies_and_has_metadata(tmp_path):
    m = tiny()
    p = tmp_path / "dense.onnx"
    export_onnx(m, p, imgsz=SIZE, metadata={"recipe_sha256": "abc"})
    r = verify(p, m, synthetic_images())
    assert r.ok, r.table()
    meta = metadata(onnx.load(p))
    # as YOLOv5's loader reads it: int(meta["stride"]), names as a dict literal; every level under `strides`
    assert meta["names"] == "{0: 'class0', 1: 'class1', 2: 'class2'}" and meta["stride"] == 32
    assert meta["strides"] == [8, 16, 32]
    import recipec

    proto = onnx.load(p)
    assert (proto.producer_name, proto.producer_version) == ("recipec", recipec.__version__)
    assert meta["imgsz"] == [SIZE, SIZE] and meta["recipe_sha256"] == "abc" and meta["quantized"] is False
    out = onnx.load(p).graph.output[0]
    dims = [d.dim_value for d in out.type.tensor_type.shape.dim]
    assert dims == [1, 3 * (16 * 16 + 8 * 8 + 4 * 4), 8]  # (B, N, 5 + nc), decode inside
    assert not any(n.op_type == "BatchNormalization" for n in onnx.load(p).graph.node)


def test_pruned_export_keeps_exact_zeros(tmp_path):
    m = pruned(tiny())
    p = tmp_path / "pruned.onnx"
    export_onnx(m, p, imgsz=SIZE)
    r = verify(p, m, synthetic_images())
    assert r.ok, r.table()
    infos = {c.module: c for c in conv_infos(onnx.load(p))}
    w = m.model[2].m[0].cv2.conv.weight
    assert np.array_equal(infos["model.2.m.0.cv2"].weight == 0, (w == 0).numpy())
    assert metadata(onnx.load(p))["sparsity"]["model.2.m.0.cv2.conv.weight"] == pytest.approx(0.6, abs=1e-3)


def test_pruned_quantized_export_qdq_int8_zeros(tmp_path):
    m = quantized(pruned(tiny()))
    p = tmp_path / "pq.onnx"
    info = export_onnx(m, p, imgsz=SIZE, batch=2)
    assert info["quantized"] and info["int8_weights"] == len(conv_infos(onnx.load(p)))
    r = verify(p, m, synthetic_images(3))
    assert r.ok, r.table()
    assert set(checks(r)) >= {"QDQ pairs", "per-layer sparsity", "boxes after NMS"}
    c = {c.module: c for c in conv_infos(onnx.load(p))}["model.2.m.0.cv2"]
    w = m.model[2].m[0].cv2.conv.weight
    assert c.int8_weight and c.weight.dtype == np.int8 and np.array_equal(c.weight == 0, (w == 0).numpy())
    ops = {n.op_type for n in onnx.load(p).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops


def test_verify_catches_a_broken_export(tmp_path):
    m = pruned(tiny())
    p = tmp_path / "x.onnx"
    export_onnx(m, p, imgsz=SIZE)
    other = copy.deepcopy(m)
    with torch.no_grad():
        other.model[2].m[0].cv2.conv.weight.add_(0.5)  # zeros gone
        other.model[-1].m[0].bias.add_(1.0)  # outputs differ
    r = verify(p, other, synthetic_images())
    assert not r.ok and not checks(r)["per-layer sparsity"] and not checks(r)["raw outputs"]


def test_quantized_refuses_low_opset(tmp_path):
    m = quantized(tiny())
    with pytest.raises(ExportError, match="opset >= 13"):
        export_onnx(m, tmp_path / "q.onnx", imgsz=SIZE, opset=12)
    with pytest.raises(ExportError, match="multiple of 32"):
        export_onnx(m, tmp_path / "q.onnx", imgsz=100)


def test_dynamic_export_runs_other_sizes(tmp_path):
    import onnxruntime as ort

    m = tiny()
    p = tmp_path / "dyn.onnx"
    export_onnx(m, p, imgsz=SIZE, dynamic=True)
    s = ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        ref = m(x)
    out = s.run(None, {"images": x.numpy()})[0]
    assert out.shape == tuple(ref.shape) and np.abs(out - ref.numpy()).max() < 1e-2


def test_agreement_dead_band_lets_borderline_boxes_flip():
    """int8 NMS agreement: a detection scoring within the margin of the 0.25 threshold may appear or vanish;
    a confident detection that vanishes, or changes class, still counts against the export."""
    from engine.export.verify import _agreement, _hysteresis_agreement

    box = lambda x, conf, cls=0: [x, 0.0, x + 10.0, 10.0, conf, cls]  # noqa: E731
    t = torch.tensor([box(0, 0.9), box(100, 0.27)])
    o = torch.tensor([box(1, 0.88), box(100, 0.22)])  # NMS at 0.20: the 0.27 box dropped to 0.22 in ORT
    assert _agreement(t, o[:1]) == 0.5  # without the dead band (NMS at 0.25): one of two lost
    assert _hysteresis_agreement(t, o, 0.25, 0.05) == 1.0
    assert _hysteresis_agreement(t, o[1:], 0.25, 0.05) == 0.0  # the confident box vanished
    assert _hysteresis_agreement(t, torch.tensor([box(1, 0.88, cls=3)]), 0.25, 0.05) == 0.0  # wrong class
    assert _hysteresis_agreement(torch.tensor([box(0, 0.9)]), torch.tensor([box(0, 0.9), box(50, 0.6)]),
                                 0.25, 0.05) == 2 / 3  # a confident extra box in ORT counts too
