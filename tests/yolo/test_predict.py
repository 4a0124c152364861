"""Inference on the reference images with the published yolov5n, drawing, and `recipec predict`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from yolo.checkpoint import load_model
from yolo.predict import Detection, detect, draw, load_image, preprocess, scale_boxes, summarize


@pytest.fixture(scope="module")
def nano(external_dir):
    return load_model(external_dir / "weights" / "yolov5n.pt")


def test_bus_four_persons_one_bus(nano, external_dir):
    img = load_image(external_dir / "images" / "bus.jpg")
    assert img.shape == (1080, 810, 3)
    dets = detect(nano, img, imgsz=640, conf=0.25, iou=0.45)
    names = sorted(d.name for d in dets)
    assert names == ["bus", "person", "person", "person", "person"]
    bus = next(d for d in dets if d.name == "bus")
    x1, y1, x2, y2 = bus.xyxy
    assert x2 - x1 > 600 and 150 < y1 < 320 and 700 < y2 < 850  # the bus spans the frame's width
    assert all(0 <= v <= 1080 for d in dets for v in d.xyxy)
    assert summarize(dets).startswith("4 person")


def test_zidane_top_detections_are_persons_and_ties(nano, external_dir):
    dets = detect(nano, load_image(external_dir / "images" / "zidane.jpg"), conf=0.25)
    assert {d.name for d in dets} <= {"person", "tie"}
    assert sum(d.name == "person" for d in dets) == 2 and any(d.name == "tie" for d in dets)
    assert dets[0].name == "person" and dets[0].conf > 0.6
    # Raw eval output statistics: probabilities in [0, 1], a few confident cells, boxes inside the input.
    x, _, _ = preprocess(load_image(external_dir / "images" / "zidane.jpg"))
    assert tuple(x.shape) == (1, 3, 384, 640)
    with torch.no_grad():
        out = nano(x)[0]
    assert out.shape == (3 * (48 * 80 + 24 * 40 + 12 * 20), 85)
    assert ((out[:, 4:] >= 0) & (out[:, 4:] <= 1)).all()
    assert 5 <= int((out[:, 4] > 0.5).sum()) <= 200
    best = out[out[:, 4].argmax()]
    assert int(best[5:].argmax()) == 0 and 0 < best[0] < 640 and 0 < best[1] < 384


def test_letterbox_round_trip():
    img = np.zeros((300, 500, 3), np.uint8)
    x, ratio, pad = preprocess(img, 320)
    assert tuple(x.shape) == (1, 3, 192, 320) and float(x.max()) <= 1.0
    box = torch.tensor([[100.0, 50.0, 400.0, 250.0]])
    boxed = box.clone()
    boxed[:, [0, 2]] = boxed[:, [0, 2]] * ratio[0] + pad[0]
    boxed[:, [1, 3]] = boxed[:, [1, 3]] * ratio[1] + pad[1]
    torch.testing.assert_close(scale_boxes(boxed, ratio, pad, img.shape[:2]), box, atol=1e-3, rtol=0)
    wide = scale_boxes(torch.tensor([[-50.0, -50.0, 1e4, 1e4]]), ratio, pad, img.shape[:2])
    assert wide.tolist() == [[0.0, 0.0, 500.0, 300.0]]


def test_draw_marks_the_box():
    img = np.full((100, 120, 3), 128, np.uint8)
    im = draw(img, [Detection((20.0, 30.0, 80.0, 90.0), 0.9, 0, "person")])
    arr = np.asarray(im)
    assert arr.shape == img.shape
    assert tuple(arr[60, 20]) == (255, 56, 56) and tuple(arr[60, 50]) == (128, 128, 128)


def test_cli_predict(external_dir, tmp_path):
    from recipec.cli import build_app

    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8not really a jpeg")
    args = ["predict", "--weights", str(external_dir / "weights" / "yolov5n.pt"),
            str(external_dir / "images" / "bus.jpg"), str(bad), "--out", str(tmp_path / "out"), "--format", "json"]
    r = CliRunner().invoke(build_app(), args)
    assert r.exit_code == 2, r.output  # one unreadable image
    assert "broken.jpg: cannot read image" in r.output and "Traceback" not in r.output
    data = json.loads(r.stdout[r.stdout.index("["):])
    assert [d["name"] for d in data[0]["detections"]].count("person") == 4
    assert (tmp_path / "out" / "bus.jpg").is_file()
    r = CliRunner().invoke(build_app(), ["predict", "--weights", str(tmp_path / "none.pt"), str(bad)])
    assert r.exit_code == 2 and "weights file not found" in r.output
