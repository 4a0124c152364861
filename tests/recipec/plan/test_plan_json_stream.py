"""Issue 17 item 10: `recipec plan --format json` streams in blocks; memory does not grow with the run length,
and the blocks join to exactly the document a one-block rendering gives."""

from __future__ import annotations

import tracemalloc

import pytest

from recipec.frontend import compile_recipe
from recipec.plan import build_plan
from recipec.plan import render_json

RECIPE = """
num_epochs: 6
training_modifiers:
  - !EpochRangeModifier {start_epoch: 0, end_epoch: eval(num_epochs)}
  - !LearningRateFunctionModifier
    start_epoch: 0
    end_epoch: 5.5
    lr_func: cosine
    init_lr: 0.01
    final_lr: 0.001
p_modifiers:
  - !GMPruningModifier
    params: __ALL_PRUNABLE__
    init_sparsity: 0.05
    final_sparsity: 0.8
    start_epoch: 1
    end_epoch: 3
    update_frequency: 0.37
  - !GMPruningModifier
    params: []
    init_sparsity: 0.05
    final_sparsity: {0.5: ["re:model.2.*"], 0.7: ["re:model.4.*"]}
    start_epoch: 0
    end_epoch: 4
    update_frequency: 0.01
q_modifiers:
  - !QuantizationModifier
    start_epoch: 4.3
    freeze_bn_stats_epoch: 4.9
    disable_quantization_observer_epoch: 5.2
"""


def plan_at(S: int):
    res = compile_recipe("r.yaml", text=RECIPE, model="none")
    assert res.ok, res.diagnostics
    return build_plan(res.recipe, S)


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_blocks_join_to_the_same_document(monkeypatch, chunk):
    p = plan_at(23)  # 138 steps: block edges fall on and between update steps and QAT changes
    whole = render_json.plan_to_json(p)
    monkeypatch.setattr(render_json, "CHUNK", chunk)
    assert render_json.plan_to_json(p) == whole
    doc = render_json.plan_to_dict(p)
    steps = doc["steps"]
    assert [s["qat"] for s in steps] == [p.qat_state_at(i) for i in range(p.total_steps)]
    assert [s["sparsity"][0] for s in steps] == [p.pruning[0].sparsity_at(i) for i in range(p.total_steps)]


def test_memory_does_not_grow_with_the_run():
    p = plan_at(50_000)  # 300k steps; a per-step list of rows was ~60 MB here
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        size = 0
        for part in render_json.iter_json(p):
            size += len(part)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert size > 300_000 * 100
    assert peak < 8_000_000, f"peak {peak / 1e6:.1f} MB while rendering"
