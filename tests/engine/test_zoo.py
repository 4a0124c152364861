"""SparseZoo stub parsing and offline resolution (SPEC §6.2, §7)."""

from __future__ import annotations

import pytest

from engine import zoo

V1 = "zoo:cv/detection/yolov5-s/pytorch/ultralytics/coco/pruned_quant-aggressive_94"


def test_v1_parts():
    s = zoo.parse_stub(V1 + "?recipe_type=transfer_learn")
    assert s.version == 1
    assert s.parts["architecture"] == "yolov5" and s.parts["sub_architecture"] == "s"
    assert s.parts["dataset"] == "coco" and s.parts["sparse_tag"] == "pruned_quant-aggressive_94"
    assert s.path == V1[4:] and s.recipe_name == "transfer_learn"


def test_v1_training_scheme():
    s = zoo.parse_stub("zoo:cv/detection/yolov5-s/pytorch/ultralytics/coco-voc/pruned75_quant-none")
    assert s.parts["training_scheme"] == "voc"


def test_v2():
    s = zoo.parse_stub("zoo:yolov5-s-coco-pruned75_quantized?checkpoint=preqat")
    assert (s.version, s.path, s.params) == (2, "yolov5-s-coco-pruned75_quantized", {"checkpoint": "preqat"})


@pytest.mark.parametrize(
    "text, fragment",
    [
        (V1 + "?a=b?c=d", "only one '?'"),
        (V1 + "?colour=red", "String argument colour not found"),
        (V1 + "?checkpoint=latest", "has value latest"),
        (V1 + "?deployment=onnx", "has value onnx"),
        ("zoo:cv/detection/yolov5-s", "Invalid SparseZoo stub"),
        (V1 + "?recipe", "expected key=value"),
    ],
)
def test_errors(text, fragment):
    with pytest.raises(zoo.ZooError, match=fragment.replace("?", r"\?")):
        zoo.parse_stub(text)


def _cache(tmp_path, stub_path, ckpt=True, recipes=("recipe.md", "recipe_transfer_learn.md")):
    d = tmp_path / stub_path
    (d / "training").mkdir(parents=True)
    (d / "training" / "model.pt").write_bytes(b"final")
    if ckpt:
        (d / "training" / "model.ckpt.pt").write_bytes(b"preqat")
    (d / "recipe").mkdir()
    for r in recipes:
        (d / "recipe" / r).write_text(r)
    return d


def test_transfer_rule(tmp_path, monkeypatch):
    monkeypatch.setenv(zoo.ZOO_ENV, str(tmp_path))
    d = _cache(tmp_path, V1[4:])
    assert zoo.resolve_weights(V1) == d / "training" / "model.pt"
    assert zoo.resolve_weights(V1, "./my_transfer_recipe.yaml") == d / "training" / "model.ckpt.pt"
    assert zoo.resolve_weights(V1 + "?recipe_type=transfer_learn") == d / "training" / "model.ckpt.pt"
    assert zoo.resolve_weights(V1 + "?recipe_type=transfer_learn", "ft.yaml") == d / "training" / "model.pt"
    assert zoo.resolve_weights(V1 + "?checkpoint=preqat") == d / "training" / "model.ckpt.pt"


def test_transfer_rule_falls_back_without_ckpt(tmp_path, monkeypatch):
    monkeypatch.setenv(zoo.ZOO_ENV, str(tmp_path))
    d = _cache(tmp_path, V1[4:], ckpt=False)
    assert zoo.resolve_weights(V1, "transfer.md") == d / "training" / "model.pt"


def test_recipe_selection(tmp_path, monkeypatch):
    monkeypatch.setenv(zoo.ZOO_ENV, str(tmp_path))
    d = _cache(tmp_path, V1[4:])
    assert zoo.resolve_recipe(V1) == d / "recipe" / "recipe.md"
    assert zoo.resolve_recipe(V1 + "?recipe_type=transfer_learn") == d / "recipe" / "recipe_transfer_learn.md"
    assert zoo.resolve_recipe(V1 + "?recipe_type=transfer") == d / "recipe" / "recipe_transfer_learn.md"
    with pytest.warns(UserWarning, match="falling back to first listed recipe"):
        assert zoo.resolve_recipe(V1 + "?recipe=xyz") == d / "recipe" / "recipe.md"


def test_no_recipes(tmp_path, monkeypatch):
    monkeypatch.setenv(zoo.ZOO_ENV, str(tmp_path))
    _cache(tmp_path, V1[4:], recipes=())
    with pytest.raises(zoo.ZooError, match="No recipes found"):
        zoo.resolve_recipe(V1)


def test_unreachable_message(tmp_path, monkeypatch):
    monkeypatch.delenv(zoo.ZOO_ENV, raising=False)
    monkeypatch.setattr(zoo, "_sparsezoo_folder", lambda stub, what: None)
    with pytest.raises(zoo.ZooError, match="unreachable.*local file.*RECIPEC_ZOO_DIR"):
        zoo.resolve_weights(V1)
    monkeypatch.setenv(zoo.ZOO_ENV, str(tmp_path))
    with pytest.raises(zoo.ZooError, match="does not exist"):
        zoo.resolve_recipe(V1)
