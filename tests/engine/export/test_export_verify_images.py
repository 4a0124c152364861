"""What `recipec export` verifies on (--images, --data's val split, the checkpoint's data YAML, the shipped sample
images, in that order), that a verification which compared no box is not a PASS, and `--format json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from engine.export.images import MAX_IMAGES, ImagesError, bundled_images, pick_images, spread
from recipec.cli import build_app
from test_export_onnx import detecting, synthetic_images, tiny

TINY = {"depth_multiple": 0.33, "width_multiple": 0.125}
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_data(root: Path, n_val: int = 20) -> Path:
    """A data YAML whose val split holds `n_val` small images (labels are not needed to verify)."""
    for split, n in (("train", 1), ("val", n_val)):
        d = root / "images" / split
        d.mkdir(parents=True)
        for i in range(n):
            Image.new("RGB", (48, 40), (10 * i % 255, 80, 160)).save(d / f"im{i:02d}.png")
    y = root / "data.yaml"
    y.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames: [a, b]\n")
    return y


def save_ckpt(path: Path, model, data: str | None) -> Path:
    from engine.checkpoint import save_checkpoint

    save_checkpoint(path, {"model": model.state_dict(), "nc": 2, "names": ["a", "b"], "cfg": TINY,
                           "args": {"data": data} if data else {}, "phase": "dense"})
    return path


def tiny2(boxes: bool):
    import yolo

    torch.manual_seed(0)
    m = yolo.build_model(TINY, nc=2)
    return (detecting(m) if boxes else m).eval()


def run(*args):
    return CliRunner().invoke(build_app(), [str(a) for a in args])


# ---------------------------------------------------------------- which images


def test_spread_keeps_ends_and_order():
    files = [Path(f"{i:03d}.jpg") for i in range(87)]
    got = spread(files, 16)
    assert len(got) == 16 and got[0] == files[0] and got[-1] == files[-1] and got == sorted(got)
    assert len(set(got)) == 16
    assert spread(files[:5], 16) == files[:5]


def test_sample_images_ship_with_their_licence():
    imgs = bundled_images()
    assert len(imgs) >= 2 and sum(p.stat().st_size for p in imgs) <= 100_000
    folder = imgs[0].parent
    assert (folder / "LICENSE.BCCD-MIT.txt").is_file() and "MIT" in (folder / "LICENSE.BCCD-MIT.txt").read_text()
    prov = (folder / "PROVENANCE.md").read_text()
    assert all(p.name in prov for p in imgs)
    for p in imgs:
        with Image.open(p) as im:
            assert im.size == (640, 480)


def test_pick_order(tmp_path):
    data = make_data(tmp_path / "d")
    img = tmp_path / "d" / "images" / "val" / "im00.png"
    c = pick_images([img], str(data), str(data))
    assert c.source == "images" and c.paths == [img]
    c = pick_images(None, str(data), None)
    assert c.source == "data" and len(c.paths) == MAX_IMAGES and c.total == 20
    assert "16 of 20 val images of --data" in c.describe()
    c = pick_images(None, None, str(data))
    assert c.source == "checkpoint data" and "the checkpoint's data YAML" in c.describe()
    c = pick_images(None, None, str(tmp_path / "gone.yaml"))  # recorded, but not here: the samples, and why
    assert c.source == "bundled" and c.paths == bundled_images() and "gone.yaml" in c.note
    c = pick_images(None, None, None)
    assert c.source == "bundled" and c.note == "" and "shipped with recipec" in c.describe()


def test_pick_bad_input(tmp_path):
    with pytest.raises(ImagesError, match="--images not found"):
        pick_images([tmp_path / "nope.jpg"])
    with pytest.raises(ImagesError, match="--data: data YAML not found"):
        pick_images(None, str(tmp_path / "nope.yaml"))
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "data.yaml").write_text("path: .\ntrain: a\nval: missing\nnames: [x]\n")
    with pytest.raises(ImagesError, match="dataset for `val` not found"):
        pick_images(None, str(tmp_path / "e" / "data.yaml"))


# ---------------------------------------------------------------- no boxes, no PASS


def test_verify_with_no_torch_box_is_not_ok_when_boxes_are_required(tmp_path):
    from engine.export.onnx_export import export_onnx
    from engine.export.verify import verify

    m = tiny()  # random: detects nothing
    p = tmp_path / "m.onnx"
    export_onnx(m, p, imgsz=128)
    lax = verify(p, m, synthetic_images())
    assert lax.ok and lax.boxes == 0 and lax.images == 2
    strict = verify(p, m, synthetic_images(), require_boxes=True)
    box = next(c for c in strict.checks if c.name == "boxes after NMS")
    assert not strict.ok and not box.ok and box.detail.startswith("0 boxes compared: nothing to compare")
    d = detecting(tiny())
    export_onnx(d, p, imgsz=128)
    r = verify(p, d, synthetic_images(), require_boxes=True)
    assert r.ok and r.boxes > 0, r.table()
    assert r.to_json()["boxes"] == r.boxes and r.to_json()["ok"] is True


# ---------------------------------------------------------------- recipec export


def test_export_json_is_one_object_and_verifies_on_the_samples(tmp_path):
    ck = save_ckpt(tmp_path / "m.pt", tiny2(boxes=True), None)
    out = tmp_path / "m.onnx"
    r = run("export", "--weights", ck, "--imgsz", 64, "--out", out, "--format", "json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)  # stdout holds the object and nothing else
    assert d["onnx"] == str(out) and d["bytes"] == out.stat().st_size and d["quantized"] is False
    v = d["verify"]
    assert v["ok"] is True and v["images"] == len(bundled_images()) and v["boxes"] > 0
    assert {c["name"] for c in v["checks"]} >= {"onnx.checker", "boxes after NMS"}
    assert v["image_source"]["source"] == "bundled" and "exported" in r.stderr


def test_export_fails_when_nothing_is_detected(tmp_path):
    ck = save_ckpt(tmp_path / "m.pt", tiny2(boxes=False), None)
    r = run("export", "--weights", ck, "--imgsz", 64, "--out", tmp_path / "m.onnx", "--format", "json")
    assert r.exit_code == 1
    v = json.loads(r.stdout)["verify"]
    assert v["ok"] is False and v["boxes"] == 0
    assert "nothing to compare" in r.stderr and "Traceback" not in r.stderr
    t = run("export", "--weights", ck, "--imgsz", 64, "--out", tmp_path / "m.onnx")
    assert t.exit_code == 1 and "0 boxes compared" in t.stdout and "FAIL" in t.stdout


def test_export_verifies_on_data_then_the_checkpoints_data(tmp_path):
    data = make_data(tmp_path / "d", n_val=3)
    other = make_data(tmp_path / "o", n_val=2)
    ck = save_ckpt(tmp_path / "m.pt", tiny2(boxes=True), str(data))
    r = run("export", "--weights", ck, "--imgsz", 64, "--out", tmp_path / "a.onnx", "--format", "json")
    v = json.loads(r.stdout)["verify"]
    assert r.exit_code == 0 and v["images"] == 3 and v["image_source"]["source"] == "checkpoint data"
    r = run("export", "--weights", ck, "--imgsz", 64, "--out", tmp_path / "b.onnx", "--data", other)
    assert r.exit_code == 0, r.stderr
    assert f"verifying on all 2 val images of --data {other}" in " ".join(r.stdout.split())


def test_export_bad_data_exits_2_before_writing(tmp_path):
    ck = save_ckpt(tmp_path / "m.pt", tiny2(boxes=True), None)
    out = tmp_path / "m.onnx"
    r = run("export", "--weights", ck, "--imgsz", 64, "--out", out, "--data", tmp_path / "nope.yaml")
    assert r.exit_code == 2 and "--data: data YAML not found" in r.stderr and not out.exists()
    r = run("export", "--weights", ck, "--out", out, "--format", "xml")
    assert r.exit_code == 2 and "--format" in r.stderr
