"""verify's "sparsity" check: a pruned checkpoint whose zeros were refilled, or whose stored masks were flipped,
fails, naming the layer; an honest one passes (float and CLI)."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from engine.export.onnx_export import export_onnx
from engine.export.verify import verify
from engine.pruning import MaskSet, resolve_params
from recipec.cli import build_app
from test_export_onnx import SIZE, detecting, synthetic_images, tiny

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def pruned():
    """A tiny pruned model (60 % per layer), its masks (True = kept) and recorded sparsity."""
    m = detecting(tiny())
    names = resolve_params(m, "__ALL_PRUNABLE__").names
    MaskSet(m, names).update(0.6, global_=False)
    params = dict(m.named_parameters())
    masks = {n: params[n] != 0 for n in names}
    recorded = {n: 1.0 - float(masks[n].float().mean()) for n in names}
    return m, masks, recorded


def _refilled(m):
    """A copy of `m` whose pruned zeros hold small random values again."""
    g = torch.Generator().manual_seed(1)
    out = detecting(tiny())
    out.load_state_dict(m.state_dict())
    with torch.no_grad():
        for n, p in out.named_parameters():
            if n.endswith(".weight") and p.dim() == 4:
                z = p == 0
                p[z] = torch.randn(int(z.sum()), generator=g) * 0.01
    return out


def _sparsity(report):
    return next(c for c in report.checks if c.name == "sparsity")


def test_honest_pruned_export_passes(pruned, tmp_path):
    m, masks, recorded = pruned
    export_onnx(m, tmp_path / "p.onnx", imgsz=SIZE)
    c = _sparsity(verify(tmp_path / "p.onnx", m, synthetic_images(), masks=masks, recorded_sparsity=recorded))
    assert c.ok, c.detail
    assert "zero wherever the checkpoint's masks prune" in c.detail


def test_refilled_zeros_fail_naming_the_layer(pruned, tmp_path):
    m, masks, recorded = pruned
    bad = _refilled(m)
    export_onnx(bad, tmp_path / "r.onnx", imgsz=SIZE)  # exports at 0 % sparsity
    r = verify(tmp_path / "r.onnx", bad, synthetic_images(), masks=masks, recorded_sparsity=recorded)
    c = _sparsity(r)
    assert not c.ok and not r.ok
    assert "model.0.conv.weight: " in c.detail and "weights its mask prunes are nonzero" in c.detail
    # the recorded sparsity alone (no masks) catches it too
    c2 = _sparsity(verify(tmp_path / "r.onnx", bad, synthetic_images(), recorded_sparsity=recorded))
    assert not c2.ok and "model.0.conv.weight: sparsity 0.0%, the checkpoint recorded 6" in c2.detail


def test_flipped_masks_fail_naming_the_layer(pruned, tmp_path):
    m, masks, recorded = pruned
    export_onnx(m, tmp_path / "f.onnx", imgsz=SIZE)
    flipped = {n: ~k for n, k in masks.items()}
    c = _sparsity(verify(tmp_path / "f.onnx", m, synthetic_images(), masks=flipped, recorded_sparsity=recorded))
    assert not c.ok and "model.0.conv.weight: " in c.detail and "its mask prunes are nonzero" in c.detail


def test_export_command_fails_a_tampered_checkpoint(pruned, tmp_path):
    from engine.checkpoint import save_checkpoint

    m, masks, recorded = pruned
    common = {"nc": 3, "names": ["a", "b", "c"], "cfg": {"depth_multiple": 0.33, "width_multiple": 0.125},
              "sparsity": recorded, "phase": "pruned"}
    save_checkpoint(tmp_path / "ok.pt", {"model": m.state_dict(), "masks": masks, **common})
    save_checkpoint(tmp_path / "bad.pt", {"model": _refilled(m).state_dict(), "masks": masks, **common})
    runner = CliRunner()
    ok = runner.invoke(build_app(), ["export", "-w", str(tmp_path / "ok.pt"), "--imgsz", str(SIZE),
                                     "--out", str(tmp_path / "ok.onnx"), "--no-progress"])
    assert ok.exit_code == 0, ok.output
    assert "sparsity" in ok.output and "FAIL" not in ok.output
    bad = runner.invoke(build_app(), ["export", "-w", str(tmp_path / "bad.pt"), "--imgsz", str(SIZE),
                                      "--out", str(tmp_path / "bad.onnx"), "--no-progress"])
    assert bad.exit_code == 1, bad.output
    assert "FAIL" in bad.output and "model.0.conv.weight" in bad.output


RECIPE = """modifiers:
  - !GMPruningModifier
    start_epoch: 0.0
    end_epoch: 2.0
    update_frequency: 1.0
    init_sparsity: 0.05
    final_sparsity: 0.6
    params: __ALL_PRUNABLE__
"""


def test_recipe_promise_catches_refilled_zeros_without_masks(pruned, tmp_path, monkeypatch):
    from types import SimpleNamespace

    from engine.export.mask_check import recipe_targets
    from recipec.cli.commands.export import promised_sparsity
    from recipec.frontend import compile_recipe

    m, _masks, _recorded = pruned
    promised = recipe_targets(compile_recipe("r.yaml", text=RECIPE).recipe, m)
    assert promised["model.0.conv.weight"] == 0.6 and len(promised) == len(_masks)
    assert recipe_targets(None, m) == {}
    loaded = SimpleNamespace(model=m, finished=True, recipe_text=RECIPE)  # the CLI compiles the stored text
    assert promised_sparsity(loaded) == promised
    for bad_text, finished in (("modifiers: [", True), (RECIPE, False), ("", True)):
        assert promised_sparsity(SimpleNamespace(model=m, finished=finished, recipe_text=bad_text)) == {}
    with monkeypatch.context() as mp:  # the stored text is untrusted: a compiler crash on it promises nothing
        import recipec.frontend

        mp.setattr(recipec.frontend, "compile_recipe", lambda *a, **k: 1 / 0)
        assert promised_sparsity(loaded) == {}
    export_onnx(m, tmp_path / "p.onnx", imgsz=SIZE)
    ok = _sparsity(verify(tmp_path / "p.onnx", m, synthetic_images(), promised_sparsity=promised))
    assert ok.ok and "the recipe's targets met" in ok.detail, ok.detail
    bad = _refilled(m)  # masks and recorded sparsity deleted too: only the recipe is left to say what it was
    export_onnx(bad, tmp_path / "r.onnx", imgsz=SIZE)
    c = _sparsity(verify(tmp_path / "r.onnx", bad, synthetic_images(), promised_sparsity=promised))
    assert not c.ok and "model.0.conv.weight: sparsity 0.0%, its recipe promised 60.0%" in c.detail



GLOBAL = RECIPE.replace("!GMPruningModifier", "!GlobalMagnitudePruningModifier")


def test_global_pruning_promises_a_total_not_each_layer(tmp_path):
    from engine.export.mask_check import recipe_targets
    from recipec.frontend import compile_recipe

    m = detecting(tiny())
    names = resolve_params(m, "__ALL_PRUNABLE__").names
    MaskSet(m, names).update(0.6, global_=True)  # layers end far from 60 % each, 60 % together
    promised = recipe_targets(compile_recipe("g.yaml", text=GLOBAL).recipe, m)
    assert promised == {tuple(names): 0.6}
    per_layer = [float((m.get_parameter(n) == 0).float().mean()) for n in names]
    assert min(per_layer) < 0.55 < 0.65 < max(per_layer)  # a per-layer promise would fail this honest model
    export_onnx(m, tmp_path / "g.onnx", imgsz=SIZE)
    ok = _sparsity(verify(tmp_path / "g.onnx", m, synthetic_images(), promised_sparsity=promised))
    assert ok.ok and "1 global target(s) met in total" in ok.detail, ok.detail
    bad = _refilled(m)
    export_onnx(bad, tmp_path / "b.onnx", imgsz=SIZE)
    c = _sparsity(verify(tmp_path / "b.onnx", bad, synthetic_images(), promised_sparsity=promised))
    assert not c.ok and f"{len(names)} weights of a global pruning modifier: 0.0% zeros in total" in c.detail


def test_a_mapping_promises_the_first_key_that_selects_a_weight():
    from engine.export.mask_check import recipe_targets
    from recipec.frontend import compile_recipe

    text = RECIPE.replace(
        "final_sparsity: 0.6\n    params: __ALL_PRUNABLE__",
        "final_sparsity: {0.5: ['re:model.0.*'], 0.9: ['re:model.*conv.weight']}\n    params: []")
    m = detecting(tiny())
    promised = recipe_targets(compile_recipe("d.yaml", text=text).recipe, m)
    assert promised["model.0.conv.weight"] == 0.5 and promised["model.1.conv.weight"] == 0.9
