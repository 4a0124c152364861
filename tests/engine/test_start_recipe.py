"""`train --weights CKPT`: a recipe stored in the checkpoint that crashes the compiler is one clean error naming
the checkpoint (exit 2), never a traceback (#17 item 14)."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from recipec.cli import build_app
from yolo.data.synthetic import make_synthetic
from yolo.model import build_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")
BIG = "1" + "0" * 309  # a whole number too large for a float


@pytest.mark.parametrize("fmt", ["recipec", "ultralytics"])
def test_stored_recipe_that_crashes_the_compiler_names_the_checkpoint(tmp_path, monkeypatch, fmt):
    import recipec.frontend

    recipe = f"modifiers:\n  - !EpochRangeModifier\n    start_epoch: 0\n    end_epoch: {BIG}\n"
    payload = {"model": build_model("yolov5n", nc=3).state_dict(), "recipe": recipe}
    if fmt == "recipec":
        payload.update(format="recipec", format_version=1, nc=3, names=["a", "b", "c"], cfg="yolov5n", masks={})
    path = tmp_path / "ck.pt"
    torch.save(payload, path)
    data = make_synthetic(tmp_path / "data", n_train=1, n_val=1, seed=0, size_range=(64, 64))
    real = recipec.frontend.compile_recipe

    def crash_on_stored(source, *a, **k):  # whatever the front end still gets wrong must not escape
        if source == "<checkpoint recipe>":
            raise OverflowError("int too large to convert to float")
        return real(source, *a, **k)

    monkeypatch.setattr(recipec.frontend, "compile_recipe", crash_on_stored)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(build_app(), ["train", "-w", str(path), "--data", str(data), "--epochs", "1",
                                         "--imgsz", "64", "--batch", "1", "--no-progress"])
    assert r.exit_code == 2 and (r.exception is None or isinstance(r.exception, SystemExit)), (r.exception, r.output)
    assert f"error: the recipe stored in {path} cannot be compiled (OverflowError: int too" in r.output
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").rglob("*.pt"))
