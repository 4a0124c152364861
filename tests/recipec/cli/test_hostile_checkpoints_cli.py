"""val / export / train / predict on hostile checkpoints: one `error:` line and exit 2, never a traceback, a hang
or a huge allocation (#17 items 11-13)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from recipec.cli import build_app
from yolo.data.synthetic import make_synthetic
from yolo.model import build_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")
BASE = {"depth_multiple": 0.33, "width_multiple": 0.25}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    sd = build_model("yolov5n", nc=3).state_dict()

    def ours(**kw):
        return {"format": "recipec", "format_version": 1, "model": sd, "nc": 3, "names": ["a", "b", "c"],
                "cfg": "yolov5n", **kw}

    child: nn.Module = nn.Identity()
    for _ in range(40):
        parent = nn.Sequential()
        parent._modules["a"] = parent._modules["b"] = child
        child = parent
    cases = {"dup40": {"model": child}, "nc1e9": ours(nc=10**9), "width400": ours(cfg={**BASE, "width_multiple": 400}),
             "depth1e6": ours(cfg={**BASE, "depth_multiple": 1e6}),
             "depthnan": ours(cfg={**BASE, "depth_multiple": float("nan")})}
    for name, obj in cases.items():
        torch.save(obj, d / f"{name}.pt")
    (d / "empty.pt").write_bytes(b"")
    (d / "random.pt").write_bytes(bytes(range(7, 256)) * 9)
    data = make_synthetic(d / "data", n_train=1, n_val=1, seed=0, size_range=(64, 64))
    return d, data


CASES = ["dup40", "nc1e9", "width400", "depth1e6", "depthnan", "empty", "random"]


@pytest.mark.parametrize("command", ["val", "export", "train", "predict"])
def test_hostile_checkpoint_is_one_clean_error(files, tmp_path, monkeypatch, command):
    d, data = files
    monkeypatch.chdir(tmp_path)
    img = next((data.parent / "images" / "val").iterdir())
    for case in CASES:
        if command == "train" and case == "nc1e9":  # the data's nc builds the model; the head is re-initialised
            continue
        w = str(d / f"{case}.pt")
        args = {"val": ["val", "-w", w, "--data", str(data), "--imgsz", "64"],
                "export": ["export", "-w", w, "--imgsz", "64", "--out", str(tmp_path / "x.onnx")],
                "train": ["train", "-w", w, "--data", str(data), "--epochs", "1", "--imgsz", "64", "--batch", "1",
                          "--project", str(tmp_path / "runs"), "--no-progress"],
                "predict": ["predict", str(img), "-w", w, "--imgsz", "64", "--out", str(tmp_path / "pred")]}[command]
        r = CliRunner().invoke(build_app(), args)
        assert r.exit_code == 2 and (r.exception is None or isinstance(r.exception, SystemExit)), \
            (case, r.exit_code, r.exception, r.output)
        assert "error:" in r.output and "Traceback" not in r.output, (case, r.output)
        assert not (tmp_path / "x.onnx").exists()
