"""Time `recipec plan` internals on a 300-epoch YOLOv5-style recipe at 1000 steps per epoch.

Prints one JSON line: compile seconds, build_plan seconds (300k steps x 3 groups), JSON render
seconds and size. Usage: `python bench/plan_time.py [--epochs 300] [--steps-per-epoch 1000]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

RECIPE = """
num_epochs: {epochs}
init_lr: 0.01
final_lr: 0.002
training_modifiers:
  - !EpochRangeModifier
    start_epoch: 0
    end_epoch: eval(num_epochs)
  - !LearningRateFunctionModifier
    start_epoch: 3
    end_epoch: eval(num_epochs)
    lr_func: cosine
    init_lr: eval(init_lr)
    final_lr: eval(final_lr)
  - !LearningRateFunctionModifier
    start_epoch: 0
    end_epoch: 3
    lr_func: linear
    init_lr: 0.0
    final_lr: eval(init_lr)
    param_groups: [0, 1]
  - !LearningRateFunctionModifier
    start_epoch: 0
    end_epoch: 3
    lr_func: linear
    init_lr: 0.1
    final_lr: eval(init_lr)
    param_groups: [2]
  - !SetLearningRateModifier
    start_epoch: eval(num_epochs - 2)
    learning_rate: 0.000002
pruning_modifiers:
  - !GMPruningModifier
    params: __ALL_PRUNABLE__
    init_sparsity: 0.05
    final_sparsity: 0.8
    start_epoch: 4
    end_epoch: eval(num_epochs / 3)
    update_frequency: 0.2
quantization_modifiers:
  - !QuantizationModifier
    start_epoch: eval(num_epochs - 2)
    freeze_bn_stats_epoch: eval(num_epochs - 1)
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--steps-per-epoch", type=int, default=1000)
    ap.add_argument("--json", action="store_true", help="also time the JSON rendering")
    a = ap.parse_args(argv)
    from recipec.frontend import compile_recipe
    from recipec.plan import build_plan

    t0 = time.perf_counter()
    res = compile_recipe("bench.yaml", text=RECIPE.format(epochs=a.epochs), model="none")
    t1 = time.perf_counter()
    if not res.ok:
        print(res.diagnostics, file=sys.stderr)
        return 1
    plan = build_plan(res.recipe, a.steps_per_epoch)
    t2 = time.perf_counter()
    out = {"epochs": plan.epochs, "steps_per_epoch": a.steps_per_epoch,
           "total_steps": plan.total_steps, "compile_s": round(t1 - t0, 4),
           "build_plan_s": round(t2 - t1, 4),
           "torch_imported": "torch" in sys.modules}
    if a.json:
        from recipec.plan.render_json import plan_to_json

        s = plan_to_json(plan)
        out["json_s"] = round(time.perf_counter() - t2, 4)
        out["json_mb"] = round(len(s) / 1e6, 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
