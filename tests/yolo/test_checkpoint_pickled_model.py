"""An ultralytics-style checkpoint (pickled module objects under `models.yolo` / `models.common`),
made here without ultralytics code, so the inert-stand-in path is tested even without ../shared."""

from __future__ import annotations

import sys
import types

import pytest
import torch
from torch import nn

from yolo import layers
from yolo.checkpoint import CheckpointError, load_checkpoint, load_model
from yolo.model import YoloModel, build_model

RENAME = {YoloModel: ("models.yolo", "Model"), layers.Detect: ("models.yolo", "Detect"),
          layers.Conv: ("models.common", "Conv"), layers.C3: ("models.common", "C3"),
          layers.Bottleneck: ("models.common", "Bottleneck"), layers.SPPF: ("models.common", "SPPF"),
          layers.Concat: ("models.common", "Concat")}


@pytest.fixture()
def fake_ultralytics(monkeypatch):
    """Register throwaway `models.yolo` / `models.common` modules holding look-alike classes."""
    made = {}
    for mod_name in ("models", "models.yolo", "models.common"):
        monkeypatch.setitem(sys.modules, mod_name, types.ModuleType(mod_name))
    for ours, (mod_name, cls_name) in RENAME.items():
        cls = type(cls_name, (ours,), {"__module__": mod_name, "__qualname__": cls_name})
        setattr(sys.modules[mod_name], cls_name, cls)
        made[ours] = cls
    return made


def _as_ultralytics(model: YoloModel, classes) -> nn.Module:
    for m in model.modules():
        if isinstance(m, layers.Bottleneck) and m.add is not None:
            m._modules["add"] = None  # ultralytics adds inline; no module
        if type(m) in classes:
            m.__class__ = classes[type(m)]
    del model.arch  # only plain attributes, tensors and modules remain
    return model


def test_pickled_model_objects_load_as_state(fake_ultralytics, tmp_path):
    torch.manual_seed(0)
    ref = build_model("yolov5n", nc=4, names=["a", "b", "c", "d"]).eval()
    expect = {k: v.clone() for k, v in ref.state_dict().items()}
    fake = _as_ultralytics(ref, fake_ultralytics).half()
    fake.yaml = {"nc": 4, "depth_multiple": 0.33, "width_multiple": 0.25}
    torch.save({"epoch": 7, "model": fake, "ema": None, "recipe": "r", "date": "x"}, tmp_path / "u.pt")
    ck = load_checkpoint(tmp_path / "u.pt")
    assert ck.source == "ultralytics" and ck.epoch == 7 and ck.recipe == "r" and ck.names == ["a", "b", "c", "d"]
    assert list(ck.state_dict) == list(expect)
    m = load_model(tmp_path / "u.pt")
    assert m.cfg == "yolov5n" and m.nc == 4
    for k, v in expect.items():
        want = v.half().float() if v.is_floating_point() else v
        assert torch.equal(m.state_dict()[k], want), k


def test_pickled_object_of_unknown_class_is_refused(fake_ultralytics, tmp_path):
    class Sneaky(nn.Module):
        pass

    Sneaky.__module__, Sneaky.__qualname__ = "models.common", "Sneaky"
    sys.modules["models.common"].Sneaky = Sneaky
    ref = _as_ultralytics(build_model("yolov5n", nc=1), fake_ultralytics)
    ref.model[0].act = Sneaky()
    torch.save({"model": ref}, tmp_path / "s.pt")
    with pytest.raises(CheckpointError, match=r"models\.common\.Sneaky"):
        load_model(tmp_path / "s.pt")
