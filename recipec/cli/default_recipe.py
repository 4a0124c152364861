"""The recipe `recipec train --epochs N` uses when no `--recipe` is given: YOLOv5's own schedule, as recipe text.

Text, not IR: checkpoints store the recipe a run was trained with (``--resume`` compiles it again), and
`recipec plan` can show the same schedule from the file a run folder keeps.
"""

from __future__ import annotations

from typing import Any

DEFAULTS = {"lr0": 0.01, "lrf": 0.01, "warmup_epochs": 3.0, "warmup_bias_lr": 0.1}


def epoch_recipe(epochs: int, hyp: dict[str, Any] | None = None) -> str:
    """YOLOv5's schedule for `epochs` epochs with the hyperparameters `hyp`, as a recipe.

    A linear warm-up over `warmup_epochs` (weights and BN weights from 0, biases from `warmup_bias_lr`, to
    `lr0`), then a linear decay from `lr0` to `lr0 * lrf` at the last epoch (YOLOv5's default `linear_lr`).
    The warm-up is in epochs (YOLOv5 also warms for at least 100 iterations), and is shortened to half the
    run when the run is shorter than twice the warm-up. `recipec plan` shows the same schedule.
    """
    h = {**DEFAULTS, **(hyp or {})}
    lr0, lrf, bias_lr = float(h["lr0"]), float(h["lrf"]), float(h["warmup_bias_lr"])
    warm = min(float(h["warmup_epochs"]), epochs / 2)
    text = (f"# the schedule recipec train uses without --recipe (YOLOv5's warm-up + linear decay)\n"
            f"num_epochs: {epochs}\nwarmup_epochs: {warm!r}\nlr0: {lr0!r}\nfinal_lr: {lr0 * lrf!r}\n"
            + (f"warmup_bias_lr: {bias_lr!r}\n" if warm > 0 else "")
            + "modifiers:\n"
            "  - !EpochRangeModifier\n    start_epoch: 0.0\n    end_epoch: eval(num_epochs)\n")
    if warm > 0:
        text += ("  - !LearningRateFunctionModifier\n    lr_func: linear\n    start_epoch: 0.0\n"
                 "    end_epoch: eval(warmup_epochs)\n    init_lr: 0.0\n    final_lr: eval(lr0)\n"
                 "    param_groups: [0, 1]\n"
                 "  - !LearningRateFunctionModifier\n    lr_func: linear\n    start_epoch: 0.0\n"
                 "    end_epoch: eval(warmup_epochs)\n    init_lr: eval(warmup_bias_lr)\n    final_lr: eval(lr0)\n"
                 "    param_groups: [2]\n")
    text += ("  - !LearningRateFunctionModifier\n    lr_func: linear\n    start_epoch: eval(warmup_epochs)\n"
             "    end_epoch: eval(num_epochs)\n    init_lr: eval(lr0)\n    final_lr: eval(final_lr)\n")
    return text
