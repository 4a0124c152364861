"""Architecture table, torch-free names, and the built model's shapes and parameter counts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from yolo.arch import ArchError, resolve, scale_of
from yolo.names import module_types, param_infos, param_names, prunable_param_names, state_dict_keys

# Published parameter counts (nc=80).
PUBLISHED = {"n": 1_872_157, "s": 7_235_389, "m": 21_190_557, "l": 46_563_709, "x": 86_749_405}


@pytest.mark.parametrize("scale", list(PUBLISHED))
def test_param_counts_without_torch(scale):
    assert sum(p.numel for p in param_infos(f"yolov5{scale}")) == PUBLISHED[scale]


def test_names_do_not_import_torch():
    code = "import sys, yolo.names, yolo; yolo.names.param_names(); assert 'torch' not in sys.modules, 'torch'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_ultralytics_key_examples():
    keys = state_dict_keys("yolov5s")
    for k in ("model.0.conv.weight", "model.0.bn.running_mean", "model.2.m.0.cv1.conv.weight",
              "model.9.cv2.conv.weight", "model.24.m.0.weight", "model.24.m.2.bias", "model.24.anchors"):
        assert k in keys
    assert "model.24.anchors" not in param_names("yolov5s")


def test_kinds_and_prunable():
    kinds = {p.name: (p.kind, p.group) for p in param_infos("yolov5n")}
    assert kinds["model.0.conv.weight"] == ("conv", "weights")
    assert kinds["model.0.bn.weight"] == ("bn", "bn")
    assert kinds["model.0.bn.bias"] == ("bias", "biases")
    assert kinds["model.24.m.1.bias"] == ("bias", "biases")
    pr = prunable_param_names("yolov5n")
    assert "model.24.m.0.weight" in pr and all(n.endswith(".weight") for n in pr)
    assert len(pr) == 60  # 57 Conv blocks + 3 Detect convs


def test_depth_width_multiples():
    for scale, reps, c0 in (("n", 1, 16), ("s", 1, 32), ("m", 2, 48), ("l", 3, 64), ("x", 4, 80)):
        arch = resolve(f"yolov5{scale}")
        assert arch.layers[2].repeats == reps and arch.layers[0].c_out == c0
        assert arch.layers[6].repeats == 3 * reps
    # Head C3 has no shortcut -> no Add module; backbone C3 has one.
    types = module_types("yolov5s")
    assert types["model.2.m.0.add"] == "Add" and "model.13.m.0.add" not in types


def test_nc_changes_only_detect():
    a, b = state_dict_keys("yolov5s", 80), state_dict_keys("yolov5s", 2)
    assert a == b
    shapes = {p.name: p.shape for p in param_infos("yolov5s", 2)}
    assert shapes["model.24.m.0.weight"] == (21, 128, 1, 1)


def test_bad_cfg():
    with pytest.raises(ArchError, match="unknown YOLOv5 configuration"):
        resolve("yolov5q")
    with pytest.raises(ArchError, match="nc must be"):
        resolve("yolov5s", 0)
    assert scale_of("weights/yolov5m.pt") == "m"


def test_yaml_dict_and_layout_check(external_dir):
    import yaml

    cfg = yaml.safe_load((external_dir / "configs" / "yolov5s.yaml").read_text())
    arch = resolve(cfg)
    assert arch.name == "yolov5s" and arch.nc == 80
    assert arch == resolve("yolov5s")
    cfg["backbone"][0][2] = "Focus"
    with pytest.raises(ArchError, match="layer 0 is Focus"):
        resolve(cfg)
