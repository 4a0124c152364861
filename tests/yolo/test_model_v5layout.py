"""The v5.0 layout (Focus stem, SPP): the layer names SparseML's 2021 YOLOv5 recipes use."""

from __future__ import annotations

import copy
import re

import pytest
import torch

from yolo.arch import ArchError, detect_layout, parse_cfg, resolve
from yolo.checkpoint import infer_cfg, load_model
from yolo.layers import Focus
from yolo.model import build_model
from yolo.names import param_infos, param_names, state_dict_keys


def test_v5_counts_and_names():
    assert sum(p.numel for p in param_infos("yolov5s-v5")) == 7_276_605  # published v5.0 yolov5s
    keys = state_dict_keys("yolov5s-v5")
    assert "model.0.conv.conv.weight" in keys and "model.8.cv2.conv.weight" in keys
    assert "model.9.m.0.cv1.conv.weight" in keys and "model.4.m.2.cv1.conv.weight" in keys
    assert "model.4.m.2.cv1.conv.weight" not in state_dict_keys("yolov5s")  # v6: 2 bottlenecks
    assert parse_cfg("yolov5l_v5.0.yaml") == ("l", "v5") and parse_cfg("yolov5l") == ("l", "v6")
    with torch.device("meta"):
        m = build_model("yolov5s-v5")
    assert list(m.state_dict()) == keys and m.cfg == "yolov5s-v5"


@pytest.mark.parametrize("recipe,cfg", [("yolov5s.pruned.md", "yolov5s-v5"), ("yolov5s.pruned_quantized.md",
                                        "yolov5s-v5"), ("yolov5l.pruned.md", "yolov5l-v5")])
def test_2021_recipes_name_v5_params(external_dir, recipe, cfg):
    named = set(re.findall(r"model\.\d[\w.]*\.(?:weight|bias)", (external_dir / "recipes" / recipe).read_text()))
    assert len(named) > 50
    assert named <= set(param_names(cfg))
    assert not named <= set(param_names(cfg.removesuffix("-v5")))


def test_focus_space_to_depth_order():
    f = Focus(1, 8, 1)
    seen = {}

    def hook(mod, inp, out):
        seen["x"] = inp[0]

    f.conv.conv.register_forward_hook(hook)
    x = torch.arange(16.0).view(1, 1, 4, 4)
    f(x)
    got = seen["x"][0, :, 0, 0].tolist()  # the first 2x2 block: (0,0)=0, (1,0)=4, (0,1)=1, (1,1)=5
    assert got == [0.0, 4.0, 1.0, 5.0]


def test_v5_yaml_dict_and_state_dict_inference(external_dir, tmp_path):
    import yaml

    v6 = yaml.safe_load((external_dir / "configs" / "yolov5s.yaml").read_text())
    v5 = copy.deepcopy(v6)
    v5["backbone"][0] = [-1, 1, "Focus", [64, 3]]
    v5["backbone"][4][1] = 9
    v5["backbone"][8] = [-1, 1, "SPP", [1024, [5, 9, 13]]]
    v5["backbone"][9] = [-1, 3, "C3", [1024, False]]
    assert detect_layout(v6) == "v6" and detect_layout(v5) == "v5"
    assert resolve(v5).name == "yolov5s-v5"
    bad = copy.deepcopy(v5)
    bad["backbone"][8][2] = "ASPP"
    with pytest.raises(ArchError, match="unsupported YOLOv5 layout"):
        resolve(bad)
    torch.manual_seed(0)
    ref = build_model("yolov5n-v5", nc=2).eval()
    assert infer_cfg(ref.state_dict()) == "yolov5n-v5"
    torch.save({"model": ref.state_dict(), "yaml": {**v5, "width_multiple": 0.25, "nc": 2}, "nc": 2,
                "checkpoint_recipe": "version: 1.1.0"}, tmp_path / "sparseml_style.pt")
    m = load_model(tmp_path / "sparseml_style.pt")
    assert m.cfg == "yolov5n-v5" and m.checkpoint_recipe == "version: 1.1.0"
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(m(x), ref(x))
