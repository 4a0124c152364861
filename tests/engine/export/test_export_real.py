"""Quantized export of the real yolov5n: onnxruntime boxes agree with PyTorch on the shared images."""

from __future__ import annotations

import re

import pytest
import torch

from engine.export.onnx_export import export_onnx
from engine.export.verify import _images, verify
from engine.quant import QuantSpec, disable_observer, freeze_bn_stats, prepare_qat

SIZE = 320


def calibrated_export(m, spec: QuantSpec, imgs, path):
    """Prepare `m` for QAT with `spec`, calibrate the EMA observers on the images themselves (BN frozen),
    freeze the observers, export to `path`; returns the images as a batch."""
    prepare_qat(m, spec)
    m.train()
    freeze_bn_stats(m)
    x = _images(imgs, SIZE, SIZE)
    with torch.no_grad():
        for _ in range(3):
            m(x)
    disable_observer(m)
    m.eval()
    export_onnx(m, path, imgsz=SIZE)
    return x


def test_yolov5n_int8_boxes_agree_on_real_images(external_dir, tmp_path):
    import yolo

    imgs = sorted((external_dir / "images").glob("*.jpg"))
    if not imgs:
        pytest.skip("no shared images")
    m = yolo.load_model(external_dir / "weights" / "yolov5n.pt")
    with torch.no_grad():
        ref = m(_images(imgs, SIZE, SIZE))
    p = tmp_path / "y5n_int8.onnx"
    x = calibrated_export(m, QuantSpec(), imgs, p)
    r = verify(p, m, imgs)
    assert r.ok, r.table()
    assert r.boxes > 0  # the agreement is not vacuous
    with torch.no_grad():
        q = m(x)
    assert (q[..., 4] - ref[..., 4]).abs().max() < 0.2  # fake-quant stays close to float


def test_yolov5n_int8_graph_verifies_against_torch_noise_floor(external_dir, tmp_path):
    """The int8-graph layout (stem float) on real images: ORT differs from torch by about what torch differs from
    itself under one-ulp jitter, so verify passes; a model whose weights moved (x1.3 on one conv) fails."""
    import copy

    import yolo

    imgs = sorted((external_dir / "images").glob("*.jpg"))
    if not imgs:
        pytest.skip("no shared images")
    m = yolo.load_model(external_dir / "weights" / "yolov5n.pt")
    p = tmp_path / "y5n_int8_graph.onnx"
    calibrated_export(m, QuantSpec(quantize_silu=True, submodules=tuple(f"model.{i}" for i in range(1, 24))), imgs, p)
    r = verify(p, m, imgs)
    assert r.ok, r.table()
    raw = next(c for c in r.checks if c.name == "raw outputs (int8)")
    noise = [float(v) for v in re.findall(r"noise ([0-9.e+-]+)\)", raw.detail)]
    assert len(noise) == 3 and min(noise) > 0, raw.detail  # the jitter really reached the quantizers
    bad = copy.deepcopy(m)
    with torch.no_grad():
        bad.model[8].cv1.conv.weight.mul_(1.3)
    r = verify(p, bad, imgs)
    assert not r.ok
    failed = {c.name for c in r.checks if not c.ok}
    assert "per-layer sparsity" in failed and failed & {"raw outputs (int8)", "boxes after NMS"}, r.table()
