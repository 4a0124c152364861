"""`train --weights CKPT`: the starting checkpoint is read once; its masks, QAT state and stored recipe come from
that one read (the front end compiles the recipe afterwards, outside the engine)."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from engine.start import load_start
from yolo.model import build_model


def test_a_recipec_checkpoint_is_read_once_with_its_masks_qat_and_recipe(tmp_path, monkeypatch):
    import engine.checkpoint as ck

    sd = build_model("yolov5n", nc=2).state_dict()
    mask = sd["model.0.conv.weight"] != 0
    path = tmp_path / "ck.pt"
    torch.save({"model": sd, "format": "recipec", "format_version": 1, "nc": 2, "names": ["a", "b"],
                "cfg": "yolov5n", "masks": {"model.0.conv.weight": mask}, "qat": {"started": True},
                "recipe": "modifiers: []\n"}, path)

    def no_second_read(*_a, **_k):
        raise AssertionError("the checkpoint was read a second time")

    monkeypatch.setattr(ck, "load_checkpoint", no_second_read)
    monkeypatch.setattr(torch, "load", no_second_read)
    start = load_start(str(path), None, SimpleNamespace(nc=2, names=["a", "b"]), lambda m: None)
    assert start.own and start.qat == {"started": True} and start.recipe_text == "modifiers: []\n"
    assert torch.equal(start.masks["model.0.conv.weight"], mask) and start.model.names == ["a", "b"]
