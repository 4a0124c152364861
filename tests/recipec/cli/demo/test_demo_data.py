"""`recipec demo --data`: the seed workflow on the user's dataset, dense transfer beside sparse transfer.

The fast suite runs the real-data path once on tiny synthetic inputs (a `--fast` synthetic demo provides a dense
checkpoint and a pruned one). Those models detect nothing, so the run must end in exit 1 with "nothing to
compare" (the --data demo never passes an export verification that compared no box); the stages, rows,
invariants and bad input are asserted. The passing path runs in the slow suite on the real yolov5n.pt and coco8;
the BCCD numbers are in the README (a 20-minute run, not a test).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from recipec.cli import build_app

ROWS = {"dense_transfer", "pruned", "sparse_transfer", "fp32_onnx", "int8_onnx"}


@pytest.fixture(scope="module")
def starts(tmp_path_factory):
    """A dense checkpoint, a pruned checkpoint (both trained on shapes-a) and task B's data YAML."""
    from recipec.cli.demo.run import fast_config, run_demo

    out = tmp_path_factory.mktemp("synthetic") / "run"
    res = run_demo(fast_config(out=out, threads=1, progress=False), log=lambda m: None, stage=lambda t: None)
    return {"dense": Path(res.runs["dense"]) / "weights" / "last.pt",
            "pruned": Path(res.runs["prune"]) / "weights" / "last.pt",
            "data_a": out / "data" / "shapes-a" / "data.yaml", "data_b": out / "data" / "shapes-b" / "data.yaml"}


def _demo(*args: str):
    return CliRunner().invoke(build_app(), ["demo", "--no-progress", "--threads", "1", "--imgsz", "64",
                                            "--batch", "4", *args])


@pytest.fixture(scope="module")
def sparse_run(starts, tmp_path_factory):
    out = tmp_path_factory.mktemp("real") / "run"
    r = _demo("--data", str(starts["data_b"]), "--weights", str(starts["dense"]), "--sparse-weights",
              str(starts["pruned"]), "--epochs", "4", "--out", str(out))
    return out, r


def test_data_demo_prints_dense_and_sparse_side_by_side(sparse_run):
    out, r = sparse_run
    for text in ("dense_transfer", "sparse_transfer", "int8_onnx", "fp32_onnx", "vs dense",
                 "sparse transfer vs dense transfer: mAP50", "INT8 vs FP32 ONNX", "sparsity kept exactly"):
        assert text in r.output, text
    assert r.output.count("Detect head re-initialised") <= 1  # said once, not once per stage


def test_a_model_that_detects_nothing_fails_verification(sparse_run):
    """Four epochs at 64 px detect nothing: 'verified' would mean nothing was compared, so exit 1."""
    out, r = sparse_run
    assert r.exit_code == 1, r.output
    assert "INT8 export verified: FAIL" in r.output and "FP32 export verified: FAIL" in r.output
    s = json.loads((out / "summary.json").read_text())
    assert s["ok"] is False and s["verify"]["int8"]["ok"] is False
    assert any("nothing to compare" in c["detail"] for c in s["verify"]["int8"]["checks"])


def test_data_demo_summary_json_has_the_documented_fields(sparse_run):
    out, _ = sparse_run
    s = json.loads((out / "summary.json").read_text())
    assert set(s["metrics"]) == ROWS
    for row in ROWS - {"pruned"}:  # the given sparse start has no upstream to measure it on
        assert 0 <= s["metrics"][row]["map50"] <= 1 and 0 <= s["metrics"][row]["map50_95"] <= 1
    assert s["metrics"]["pruned"]["map50"] is None
    assert s["sparsity"]["kept_exactly"] is True and 0.5 < s["sparsity"]["end"] < 1
    assert set(s["verify"]) == {"fp32", "int8"}
    assert s["onnx"]["fp32"]["ms"] > 0 and s["onnx"]["int8"]["ms"] > 0
    assert s["settings"]["epochs"] == 4 and s["runs"]["dense_transfer"].endswith("dense_transfer")


def test_every_zero_of_the_sparse_start_is_zero_in_the_int8_onnx(sparse_run, starts):
    """Recomputed from the files, independently of the demo's own count."""
    import onnx
    from onnx import numpy_helper

    from yolo.checkpoint import load_model

    out, _ = sparse_run
    pruned = {k: v.detach() for k, v in load_model(starts["pruned"]).named_parameters()}
    model = onnx.load(str(out / "export" / "sparse_transfer_int8.onnx"))
    zeros_onnx = sum(int((numpy_helper.to_array(t) == 0).sum()) for t in model.graph.initializer)
    zeros_start = sum(int((w == 0).sum()) for k, w in pruned.items() if k.endswith("conv.weight")
                      and not k.startswith("model.24"))
    assert zeros_onnx >= zeros_start > 0


def _voc(folder: Path, data_yaml: Path) -> None:
    """Rewrite a YOLO-format synthetic dataset as Pascal VOC XML (flat folder: images/ + annotations/)."""
    from yolo.data.yaml import list_images, load_data_yaml

    cfg = load_data_yaml(data_yaml)
    (folder / "images").mkdir(parents=True)
    (folder / "annotations").mkdir()
    for split in ("train", "val"):
        for img in list_images(cfg, split):
            im = Image.open(img).convert("RGB")
            w, h = im.size
            im.save(folder / "images" / f"{split}_{img.stem}.jpg", quality=95)
            root = ET.Element("annotation")
            ET.SubElement(root, "filename").text = f"{split}_{img.stem}.jpg"
            size = ET.SubElement(root, "size")
            ET.SubElement(size, "width").text, ET.SubElement(size, "height").text = str(w), str(h)
            label = img.parents[2] / "labels" / split / f"{img.stem}.txt"
            for line in label.read_text().splitlines():
                c, x, y, bw, bh = line.split()
                x, y, bw, bh = float(x) * w, float(y) * h, float(bw) * w, float(bh) * h
                obj = ET.SubElement(root, "object")
                ET.SubElement(obj, "name").text = cfg.names[int(c)]
                box = ET.SubElement(obj, "bndbox")
                for k, v in (("xmin", x - bw / 2 + 1), ("ymin", y - bh / 2 + 1), ("xmax", x + bw / 2),
                             ("ymax", y + bh / 2)):
                    ET.SubElement(box, k).text = f"{v:.0f}"
            ET.ElementTree(root).write(folder / "annotations" / f"{split}_{img.stem}.xml")


@pytest.mark.slow
def test_data_demo_on_a_voc_folder_with_upstream_pruning(starts, tmp_path):
    """The other branch: DATA is a flat VOC folder (split by --val-fraction), the start is pruned on --upstream."""
    voc = tmp_path / "voc"
    _voc(voc, starts["data_b"])
    out = tmp_path / "run"
    r = _demo("--data", str(voc), "--weights", str(starts["dense"]), "--upstream", str(starts["data_a"]),
              "--epochs", "4", "--prune-epochs", "8", "--out", str(out))
    assert r.exit_code in (0, 1) and "Traceback" not in r.output, r.output  # 1: nothing detected at 64 px
    s = json.loads((out / "summary.json").read_text())
    assert set(s["metrics"]) == ROWS and s["metrics"]["pruned"]["task"] == "upstream"
    assert s["metrics"]["pruned"]["map50"] is not None and s["sparsity"]["start"] > 0.5
    assert (out / "data" / "data.yaml").is_file() and s["sparsity"]["kept_exactly"] is True


@pytest.mark.slow
def test_data_demo_passes_with_real_weights_on_coco8(external_dir, tmp_path):
    """The passing path: COCO yolov5n.pt pruned on coco128 (8 epochs at 160 px keep it detecting), coco8 as data
    (same 80 classes: no head re-initialised)."""
    import yaml

    names = yaml.safe_load((external_dir / "configs" / "coco128.yaml").read_text())["names"]
    sets = {"coco8": ("images/train", "images/val"), "coco128": ("images/train2017", "images/train2017")}
    for name, (train, val) in sets.items():
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump({"path": str(external_dir / name), "train": train,
                                                                "val": val, "names": names}))
    out = tmp_path / "run"
    r = _demo("--data", str(tmp_path / "coco8.yaml"), "--weights", str(external_dir / "weights" / "yolov5n.pt"),
              "--upstream", str(tmp_path / "coco128.yaml"), "--epochs", "4", "--prune-epochs", "8",
              "--imgsz", "160", "--batch", "16", "--out", str(out))
    assert r.exit_code == 0, r.output
    s = json.loads((out / "summary.json").read_text())
    assert s["ok"] is True and s["verify"]["int8"]["ok"] and s["verify"]["fp32"]["ok"]
    assert s["metrics"]["sparse_transfer"]["map50"] > 0.05 and s["sparsity"]["end"] > 0.5
    assert "INT8 export verified: PASS" in r.output and "Detect head re-initialised" not in r.output


@pytest.mark.parametrize("args, msg", [
    (["--data", "{data_b}"], "--data needs --weights"),
    (["--data", "{data_b}", "--weights", "{dense}"], "--upstream UP.yaml"),
    (["--data", "{data_b}", "--weights", "{dense}", "--upstream", "{data_a}", "--sparse-weights", "{pruned}"],
     "not both"),
    (["--data", "{data_b}", "--weights", "{dense}", "--sparse-weights", "{dense}"], "not a sparse start"),
    (["--data", "{empty}", "--weights", "{dense}", "--upstream", "{data_a}"], "not VOC-format"),
    (["--data", "{tmp}/nope", "--weights", "{dense}", "--upstream", "{data_a}"], "no such file"),
    (["--data", "{data_b}", "--weights", "{tmp}/nope.pt", "--upstream", "{data_a}"], "no such file"),
    (["--data", "{data_b}", "--weights", "{dense}", "--upstream", "{tmp}/nope.yaml"], "--upstream"),
    (["--data", "{data_b}", "--weights", "{dense}", "--upstream", "{data_a}", "--epochs", "2"], "--epochs must be"),
    (["--data", "{data_b}", "--weights", "{dense}", "--upstream", "{data_a}", "--fast"], "--fast"),
    (["--upstream", "{data_a}"], "go with --data"),
])
def test_bad_input_exits_2_and_writes_nothing(starts, tmp_path, args, msg):
    (tmp_path / "empty").mkdir()
    fill = {**{k: str(v) for k, v in starts.items()}, "tmp": str(tmp_path), "empty": str(tmp_path / "empty")}
    out = tmp_path / "out"
    r = _demo(*[a.format(**fill) for a in args], "--out", str(out))
    assert r.exit_code == 2, r.output
    assert msg in r.output and "Traceback" not in r.output
    assert not out.exists()
