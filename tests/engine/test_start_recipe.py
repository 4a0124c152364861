"""`train --weights CKPT`: a recipe stored in the checkpoint that crashes the compiler is one clean error."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from engine.start import StartError, load_start
from yolo.model import build_model

BIG = "1" + "0" * 309  # a whole number too large for a float


@pytest.mark.parametrize("fmt", ["recipec", "ultralytics"])
def test_stored_recipe_that_crashes_the_compiler_names_the_checkpoint(tmp_path, monkeypatch, fmt):
    import recipec.frontend

    recipe = f"modifiers:\n  - !EpochRangeModifier\n    start_epoch: 0\n    end_epoch: {BIG}\n"
    sd = build_model("yolov5n", nc=2).state_dict()
    payload = {"model": sd, "recipe": recipe}
    if fmt == "recipec":
        payload.update(format="recipec", format_version=1, nc=2, names=["a", "b"], cfg="yolov5n", masks={})
    path = tmp_path / "ck.pt"
    torch.save(payload, path)

    def crash(*_a, **_k):  # whatever the front end still gets wrong must not escape as a traceback
        raise OverflowError("int too large to convert to float")

    monkeypatch.setattr(recipec.frontend, "compile_recipe", crash)
    a = SimpleNamespace(weights=str(path), recipe=None)
    with pytest.raises(StartError, match=rf"the recipe stored in {path} cannot be compiled \(OverflowError: int too"):
        load_start(a, None, SimpleNamespace(nc=2, names=["a", "b"]), lambda m: None)
