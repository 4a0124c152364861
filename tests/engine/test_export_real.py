"""Quantized export of the real yolov5n: onnxruntime boxes agree with PyTorch on the shared images."""

from __future__ import annotations

import pytest
import torch

from engine.export.onnx_export import export_onnx
from engine.export.verify import _images, verify
from engine.quant import QuantSpec, disable_observer, freeze_bn_stats, prepare_qat

SIZE = 320


def test_yolov5n_int8_boxes_agree_on_real_images(external_dir, tmp_path):
    import yolo

    imgs = sorted((external_dir / "images").glob("*.jpg"))
    if not imgs:
        pytest.skip("no shared images")
    m = yolo.load_model(external_dir / "weights" / "yolov5n.pt")
    with torch.no_grad():
        ref = m(_images(imgs, SIZE, SIZE))
    prepare_qat(m, QuantSpec())
    m.train()
    freeze_bn_stats(m)
    x = _images(imgs, SIZE, SIZE)
    with torch.no_grad():
        for _ in range(3):  # calibrate the EMA observers on the images themselves
            m(x)
    disable_observer(m)
    m.eval()
    p = tmp_path / "y5n_int8.onnx"
    export_onnx(m, p, imgsz=SIZE)
    r = verify(p, m, imgs)
    assert r.ok, r.table()
    boxes = next(c for c in r.checks if c.name == "boxes after NMS")
    assert not boxes.detail.startswith("0 torch boxes")  # the agreement is not vacuous
    with torch.no_grad():
        q = m(x)
    assert (q[..., 4] - ref[..., 4]).abs().max() < 0.2  # fake-quant stays close to float
