"""`recipec val` and `recipec data` through the CLI: output formats, exit codes, clear errors."""

import json

import pytest

from recipec.cli import main
from yolo.data.synthetic import make_synthetic


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def run(capsys, *args):
    with pytest.raises(SystemExit) as e:
        main(list(args))
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # val writes its plots to runs/val/exp* under the current folder


@pytest.fixture(scope="module")
def syn(tmp_path_factory):
    return make_synthetic(tmp_path_factory.mktemp("clisyn"), n_train=2, n_val=3, seed=0)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A randomly initialised yolov5n for the 3 synthetic classes, as a file (val refuses a bare scale name)."""
    import torch

    from yolo.model import build_model

    path = tmp_path_factory.mktemp("fresh") / "fresh3.pt"
    torch.manual_seed(0)
    torch.save(build_model("yolov5n", nc=3).state_dict(), path)
    return str(path)


def test_val_json_on_coco8(external_dir, tmp_path, capsys):
    y = tmp_path / "c8.yaml"
    y.write_text(f"path: {external_dir / 'coco8'}\nval: images/val\nnc: 80\n")
    code, out, err = run(capsys, "val", "--weights", str(external_dir / "weights/yolov5n.pt"), "--data", str(y),
                         "--imgsz", "320", "--batch", "4", "--format", "json")
    assert code == 0, err
    rep = json.loads(out)
    assert {"images", "instances", "precision", "recall", "map50", "map50_95", "per_class"} <= set(rep)
    assert rep["images"] == 4 and rep["instances"] == 17 and rep["map50"] > 0.4
    assert rep["per_class"][0]["name"] == "class0"


def test_val_table_on_a_fresh_model(syn, fresh, capsys):
    code, out, err = run(capsys, "val", "--weights", fresh, "--data", str(syn), "--img-size", "128",
                         "--conf-thres", "0.1", "--iou-thres", "0.5", "--batch-size", "2")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["Class", "Images", "Instances", "P", "R", "mAP50", "mAP50-95"]
    assert lines[1].split()[:2] == ["all", "3"]
    assert lines[-1].startswith("Speed:")


@pytest.mark.parametrize("args, msg", [
    (["--data", "missing.yaml"], "data YAML not found"),
    (["--imgsz", "100"], "multiple of 32"),
    (["--format", "xml"], "--format"),
    (["--weights", "nope.pt"], "checkpoint not found"),
    (["--weights", "nope.onnx"], "ONNX model not found"),
    (["--weights", "yolov5n"], "--weights yolov5n: no such file"),
    (["--device", "tpu"], "expected auto, cpu, cuda"),
])
def test_val_bad_input_exits_2_with_a_message(syn, fresh, capsys, args, msg):
    base = {"--weights": fresh, "--data": str(syn)}
    opts = dict(zip(args[::2], args[1::2]))
    argv = ["val"] + [x for k, v in {**base, **opts}.items() for x in (k, v)]
    code, out, err = run(capsys, *argv)
    assert code == 2 and msg in err and "Traceback" not in err


def test_val_nc_mismatch_and_missing_data(syn, fresh, tmp_path, capsys, external_dir):
    code, _, err = run(capsys, "val", "--weights", str(external_dir / "weights/yolov5n.pt"), "--data", str(syn))
    assert code == 2 and "80 classes" in err and "nc=3" in err
    y = tmp_path / "d.yaml"
    y.write_text("path: gone\nval: images/val\nnc: 80\ndownload: https://example.com/x.zip\n")
    code, _, err = run(capsys, "val", "--weights", fresh, "--data", str(y))
    assert code == 2 and "gone/images/val" in err and "https://example.com/x.zip" in err


def test_data_voc_command(external_dir, tmp_path, capsys):
    code, out, err = run(capsys, "data", "voc", str(external_dir / "voc_sample_dog/VOCdevkit"), "--out",
                         str(tmp_path / "voc"), "--names", "dog")
    assert code == 0, err
    assert out.strip() == str(tmp_path / "voc" / "data.yaml")
    assert "trainval2007: 30 images" in err and "classes (--names): dog" in err
    code, _, err = run(capsys, "data", "voc", str(tmp_path / "none"), "--out", str(tmp_path / "x"))
    assert code == 2 and "source folder not found" in err


def test_data_synthetic_command(tmp_path, capsys):
    code, out, _ = run(capsys, "data", "synthetic", str(tmp_path / "s"), "--task", "shapes-b", "--train", "2",
                       "--val", "1")
    assert code == 0 and out.strip().endswith("data.yaml")
    assert len(list((tmp_path / "s/images/train").iterdir())) == 2
    code, _, err = run(capsys, "data", "synthetic", str(tmp_path / "t"), "--task", "nope")
    assert code == 2 and "unknown --task" in err


def test_val_onnx_static_input(syn, tmp_path, capsys):
    """A static-shape ONNX model that always predicts one class-0 box per image."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    preds = np.zeros((1, 2, 8), np.float32)
    preds[0, 0, :5] = [64, 64, 60, 60, 0.9]
    preds[0, 0, 5] = 1.0
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 128, 128])
    y = helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 2, 8])
    nodes = [helper.make_node("ReduceMean", ["images"], ["m"], keepdims=0),
             helper.make_node("Mul", ["m", "zero"], ["z"]), helper.make_node("Add", ["const", "z"], ["output0"])]
    g = helper.make_graph(nodes, "c", [x], [y], initializer=[numpy_helper.from_array(preds, "const"),
                                                              numpy_helper.from_array(np.zeros((), np.float32), "zero")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "m.onnx")
    code, out, err = run(capsys, "val", "--weights", str(tmp_path / "m.onnx"), "--data", str(syn), "--format", "json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["images"] == 3 and 0.0 <= rep["map50"] <= 1.0
    assert "forces square inference" in err and "--dynamic" in err  # said, not silent
    assert "--imgsz 128 --batch 1 (square batches)" in err


def test_val_writes_its_plots_into_a_numbered_run_folder(syn, fresh, tmp_path, capsys):
    for want in ("exp", "exp2"):
        code, _, err = run(capsys, "val", "--weights", fresh, "--data", str(syn), "--imgsz", "64",
                           "--project", str(tmp_path / "v"))
        assert code == 0, err
        d = tmp_path / "v" / want
        assert f"plots saved to {d}" in err
        for f in ("confusion_matrix.png", "PR_curve.png", "F1_curve.png", "P_curve.png", "R_curve.png",
                  "val_batch0_labels.jpg", "val_batch0_pred.jpg"):
            assert (d / f).is_file(), f
    code, _, err = run(capsys, "val", "--weights", fresh, "--data", str(syn), "--imgsz", "64", "--no-plots",
                       "--project", str(tmp_path / "v"))
    assert code == 0 and not (tmp_path / "v" / "exp3").exists() and "evaluating the float model" in err


def test_val_reports_bad_input_and_still_runs(tmp_path, fresh, capsys):
    y = make_synthetic(tmp_path / "bad", n_train=1, n_val=3, seed=0)
    (tmp_path / "bad/images/val/broken.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "bad/labels/val/000001.txt").write_text("7 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2\n")
    code, out, err = run(capsys, "val", "--weights", fresh, "--data", str(y), "--imgsz", "64", "--conf", "0.5")
    assert code == 0, err
    assert "broken.png" in err and "class_out_of_range" in err and "bad_fields" in err and "000001.txt" in err
    assert err.count("broken.png") == 1
    assert out.splitlines()[1].split()[:2] == ["all", "3"]


def test_data_voc_space_separated_years_and_sets(external_dir, tmp_path, capsys):
    devkit = str(external_dir / "voc_sample_dog/VOCdevkit")
    code, out, err = run(capsys, "data", "voc", devkit, "--out", str(tmp_path / "v"), "--years", "2007", "--sets",
                         "trainval", "test")
    assert code == 0, err
    assert "trainval2007: 30 images" in err and "test2007: 10 images" in err
    code, _, err = run(capsys, "data", "voc", "--sets", "test", devkit, "--out", str(tmp_path / "w"))
    assert code == 0 and "trainval2007" not in err and "test2007: 10 images" in err
    code, _, err = run(capsys, "data", "voc", devkit, "--out", str(tmp_path / "x"), "--years", "2007", "2012")
    assert code == 2 and "VOC2012" in err


def test_a_bad_malloc_setting_is_one_error_line(syn, fresh, capsys, monkeypatch):
    monkeypatch.setenv("RECIPEC_MALLOC", "fast")
    code, out, err = run(capsys, "val", "--weights", fresh, "--data", str(syn), "--imgsz", "128")
    assert code == 2 and out == ""
    assert err.strip() == "error: RECIPEC_MALLOC='fast': expected 'keep' or 'system'"
