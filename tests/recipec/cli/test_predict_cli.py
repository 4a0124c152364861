"""`recipec predict` as YOLOv5's detect: --source files/folders/globs, .onnx weights, run folders, --save-txt."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_testutil import constant_onnx
from PIL import Image
from typer.testing import CliRunner


def run(*args):
    from recipec.cli import build_app

    return CliRunner().invoke(build_app(), ["predict", *map(str, args)])


@pytest.fixture
def work(tmp_path):
    """Two images (a.png 128x64, b.jpg) and a text file; an ONNX model that always finds one class-1 box."""
    src = tmp_path / "imgs"
    src.mkdir()
    Image.new("RGB", (128, 64), (90, 90, 90)).save(src / "a.png")
    Image.new("RGB", (64, 64), (20, 90, 20)).save(src / "b.jpg")
    (src / "notes.txt").write_text("not an image")
    preds = np.zeros((1, 1, 7), np.float32)
    preds[0, 0, :5] = [32, 32, 32, 16, 0.9]  # xywh in the 64x64 input, objectness
    preds[0, 0, 6] = 1.0                     # class 1
    model = constant_onnx(tmp_path / "m.onnx", preds, meta={"names": "{0: 'cat', 1: 'dog'}", "stride": "32"})
    return tmp_path, src, model


def test_folder_onnx_run_folders_and_labels(work):
    tmp, src, model = work
    r = run("--source", src, "--weights", model, "--project", tmp / "runs", "--save-txt", "--save-conf")
    assert r.exit_code == 0, r.output
    exp = tmp / "runs" / "exp"
    assert sorted(p.name for p in exp.iterdir()) == ["a.jpg", "b.jpg", "labels"]
    assert (exp / "a.jpg").read_bytes()[:2] == b"\xff\xd8"  # JPEG, not PNG
    # 128x64 letterboxed to 64x64 (ratio 0.5, 16 px pad on top): the box is the image's centre half
    assert (exp / "labels" / "a.txt").read_text() == "1 0.5 0.5 0.5 0.5 0.9\n"
    assert "1 dog" in r.stdout

    r = run("--source", f"{src}/*.png", "--weights", model, "--project", tmp / "runs", "--save-txt")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp / "runs" / "exp2").iterdir()) == ["a.jpg", "labels"]
    assert (tmp / "runs" / "exp2" / "labels" / "a.txt").read_text() == "1 0.5 0.5 0.5 0.5\n"

    r = run(src / "b.jpg", "--weights", model, "--project", tmp / "runs", "--exist-ok")
    assert r.exit_code == 0 and not (tmp / "runs" / "exp3").exists()


@pytest.mark.parametrize("source, msg", [
    ("nowhere.jpg", "nowhere.jpg: no such file or folder"),
    ("{tmp}/imgs/*.gif", "no file matches this pattern"),
    ("{tmp}", "no images in this folder"),
])
def test_bad_source(work, source, msg):
    tmp, _, model = work
    r = run("--source", source.format(tmp=tmp), "--weights", model, "--project", tmp / "runs")
    assert r.exit_code == 2 and msg in r.output and "Traceback" not in r.output
    assert not (tmp / "runs").exists()


def test_scale_name_is_refused(work):
    tmp, src, _ = work
    r = run("--source", src, "--weights", "yolov5n", "--project", tmp / "runs")
    assert r.exit_code == 2 and "yolov5n: no such file" in r.output and "--init random" in r.output


def test_cuda_without_cuda(work, monkeypatch):
    import torch

    from yolo.model import build_model

    tmp, src, _ = work
    torch.save(build_model("yolov5n", nc=2).state_dict(), tmp / "fresh.pt")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    r = run("--source", src, "--weights", tmp / "fresh.pt", "--device", "cuda:0", "--project", tmp / "runs")
    assert r.exit_code == 2 and "CUDA is not available" in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1
