"""Checkpoint loading: real ultralytics files, our formats, fp16, and refusal of foreign code."""

from __future__ import annotations

import os
import pickle
import zipfile

import pytest
import torch

from yolo.checkpoint import CheckpointError, infer_cfg, load_checkpoint, load_model
from yolo.model import build_model


@pytest.fixture(scope="module")
def weights(external_dir):
    return external_dir / "weights"


def test_yolov5n_loads(weights):
    path = weights / "yolov5n.pt"
    ck = load_checkpoint(path)
    assert ck.source == "ultralytics" and ck.nc == 80 and ck.names[:2] == ["person", "bicycle"]
    assert ck.stride == [8.0, 16.0, 32.0] and ck.epoch == -1 and ck.yaml["width_multiple"] == 0.25
    assert all(t.dtype == torch.float32 for t in ck.state_dict.values() if t.is_floating_point())
    m = load_model(path)
    assert not m.training and m.cfg == "yolov5n" and m.nc == 80 and len(m.names) == 80
    assert sum(p.numel() for p in m.parameters()) == 1_872_157
    assert all(p.dtype == torch.float32 for p in m.parameters())
    sd = m.state_dict()
    assert set(sd) == set(ck.state_dict)
    for k, v in ck.state_dict.items():
        assert torch.equal(sd[k], v), k
    # Anchors in grid units: P3 (10, 13) px / 8.
    assert sd["model.24.anchors"][0, 0].tolist() == [1.25, 1.625]
    with torch.no_grad():
        out = m(torch.rand(1, 3, 64, 64))
    assert out.shape == (1, 3 * (64 + 16 + 4), 85) and torch.isfinite(out).all()


def test_nc2_checkpoint_and_transfer(weights):
    m = load_model(weights / "yolov5n_ppe_helmet_vest_nc2.pt", nc=2)
    assert m.nc == 2 and m.names == ["helmet", "vest"] and m.load_report["skipped"] == []
    assert m.model[24].m[0].weight.shape[0] == 3 * 7
    t = load_model(weights / "yolov5n.pt", nc=5)
    assert t.nc == 5 and len(t.load_report["skipped"]) == 6  # Detect's 3 weights + 3 biases
    ref = load_checkpoint(weights / "yolov5n.pt").state_dict
    assert torch.equal(t.state_dict()["model.23.cv3.conv.weight"], ref["model.23.cv3.conv.weight"])


def _save(obj, path):
    torch.save(obj, path)
    return path


def test_fp16_plain_and_recipec_state_dicts(tmp_path):
    torch.manual_seed(0)
    ref = build_model("yolov5n", nc=3).eval()
    sd = ref.state_dict()
    half = {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
    m = load_model(_save(half, tmp_path / "half.pt"))
    assert m.cfg == "yolov5n" and m.nc == 3
    assert all(p.dtype == torch.float32 for p in m.parameters())
    torch.testing.assert_close(m.state_dict()["model.0.conv.weight"], sd["model.0.conv.weight"].half().float())
    ours = {"format": "recipec", "format_version": 1, "model": sd, "nc": 3, "names": ["a", "b", "c"],
            "cfg": "yolov5n", "recipe": "modifiers: []", "epoch": 4, "masks": {}, "ema": None}
    ck = load_checkpoint(_save(ours, tmp_path / "ours.pt"))
    assert ck.source == "recipec" and ck.recipe == "modifiers: []" and ck.epoch == 4
    m2 = load_model(tmp_path / "ours.pt")
    assert m2.names == ["a", "b", "c"]
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(m2(x), ref(x))
    assert infer_cfg(build_model("yolov5m").state_dict()) == "yolov5m"


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _zip_pickle(path, payload: bytes):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", payload)
        z.writestr("archive/version", "3\n")
    return path


def test_malicious_pickles_are_refused(tmp_path):
    marker = tmp_path / "pwned"
    # Through torch.save (a real torch zip) and as a hand-made zip with protocol 2.
    _save({"model": _Evil(marker)}, tmp_path / "evil1.pt")
    _zip_pickle(tmp_path / "evil2.pt", pickle.dumps({"model": _Evil(marker)}, protocol=2))
    for name in ("evil1.pt", "evil2.pt"):
        with pytest.raises(CheckpointError, match=r"refusing to load.*(posix|os)\.system"):
            load_model(tmp_path / name)
    assert not marker.exists()
    # A class outside the allowlist, even under the ultralytics package name.
    _zip_pickle(tmp_path / "focus.pt", b"\x80\x02cmodels.common\nFocus\nq\x00)\x81q\x01.")
    with pytest.raises(CheckpointError, match=r"models\.common\.Focus"):
        load_checkpoint(tmp_path / "focus.pt")
    # builtins callables are refused too.
    _zip_pickle(tmp_path / "getattr.pt", b"\x80\x02c__builtin__\ngetattr\nq\x00.")
    with pytest.raises(CheckpointError, match="getattr"):
        load_checkpoint(tmp_path / "getattr.pt")


def test_bad_files(tmp_path, weights):
    with pytest.raises(CheckpointError, match="not found"):
        load_model(tmp_path / "nope.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(CheckpointError, match="not a torch zip"):
        load_model(tmp_path / "text.pt")
    data = (weights / "yolov5n.pt").read_bytes()
    (tmp_path / "trunc.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        load_model(tmp_path / "trunc.pt")
    _save({"model.0.conv.weight": torch.zeros(16, 3, 6, 6)}, tmp_path / "partial.pt")
    with pytest.raises(CheckpointError):
        load_model(tmp_path / "partial.pt")
    _save({"something": 1}, tmp_path / "nomodel.pt")
    with pytest.raises(CheckpointError, match="no model found"):
        load_model(tmp_path / "nomodel.pt")
    fresh = load_model("yolov5n", nc=4)
    assert fresh.nc == 4 and not fresh.training
    with pytest.raises(CheckpointError, match="unknown YOLOv5"):
        load_model("yolov9z")


def test_v5_anchor_grid_ignored_and_storage_size_checked(tmp_path):
    torch.manual_seed(0)
    sd = build_model("yolov5n-v5", nc=2).state_dict()
    sd["model.24.anchor_grid"] = torch.zeros(3, 1, 3, 1, 1, 2)
    m = load_model(_save(sd, tmp_path / "v5.pt"))
    assert m.cfg == "yolov5n-v5" and "model.24.anchor_grid" not in m.state_dict()
    # A storage record shorter than its declared size is refused before it is read.
    _save({"w": torch.zeros(1000)}, tmp_path / "w.pt")
    with zipfile.ZipFile(tmp_path / "w.pt") as z:
        records = {n: z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(tmp_path / "short.pt", "w") as z:
        for n, b in records.items():
            z.writestr(n, b[:100] if n.endswith("/data/0") else b)
    with pytest.raises(CheckpointError, match="has 100 bytes, expected 4000"):
        load_checkpoint(tmp_path / "short.pt")


def test_refused_modules_are_not_imported(tmp_path):
    import subprocess
    import sys

    # `this` prints the Zen of Python when imported: refusing must not import it.
    path = _zip_pickle(tmp_path / "this.pt", b"\x80\x02cthis\ns\nq\x00.")
    code = ("import sys\nfrom yolo.checkpoint import load_checkpoint, CheckpointError\n"
            f"try:\n    load_checkpoint({str(path)!r})\nexcept CheckpointError as e:\n    print('refused:', e)\n"
            "assert 'this' not in sys.modules\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "refused:" in r.stdout and "this.s" in r.stdout and "Beautiful is better" not in r.stdout


def test_sparseml_qat_state_is_refused_clearly(tmp_path):
    sd = build_model("yolov5n", nc=2).state_dict()
    sd["model.0.conv.weight_fake_quant.scale"] = torch.ones(1)
    with pytest.raises(CheckpointError, match="quantization-aware"):
        load_model(_save(sd, tmp_path / "qat.pt"))
