"""Plan-level diagnostic codes (RC5xx), registered into the lint catalog.

Each entry: code -> (title, explanation). `register(catalog)` adds them to a catalog dict
without touching existing codes; `recipec.diagnostics.codes` calls it (or the plan command
does) so `recipec explain RC5xx` knows them.
"""

from __future__ import annotations

PLAN_CODES: dict[str, tuple[str, str]] = {
    "RC501": ("window-rounds-to-zero-steps",
              "The modifier's start and end fall on the same optimizer step at this "
              "steps_per_epoch, so it starts and ends in one update: an LR function writes one "
              "value, a pruning modifier jumps straight to final_sparsity."),
    "RC502": ("lr-uncovered-tail",
              "LR modifiers drive the LR earlier in the run but none acts on the last steps. "
              "SparseML (and YOLOv5 with a recipe) then holds the last value written; the native "
              "scheduler is disabled, so nothing decays the LR there."),
    "RC503": ("final-sparsity-never-applied",
              "A pruning modifier applies final_sparsity only at the first step with "
              "epoch >= end_epoch. When that step lies at or past the end of the run (the "
              "manager's max_epochs), the final target is never applied."),
    "RC504": ("pruning-update-frequency-too-coarse",
              "With this update_frequency the regular updates stop far below final_sparsity and "
              "the end update jumps the rest of the way in one step."),
    "RC505": ("modifier-starts-after-end",
              "The modifier starts at or after the end of the run (max_epochs), so it never "
              "acts. With --epochs, a start that does not depend on num_epochs stays where it "
              "was while the end of the run moves."),
    "RC506": ("set-lr-overwritten",
              "SetLearningRateModifier writes once. Another LR modifier that is still running "
              "(and runs later in the manager order) overwrites the value on the following "
              "step, so the set LR is used for only a few steps."),
    "RC507": ("lr-off-grid-end",
              "The LR function's end_epoch does not fall on a step. SparseML evaluates the "
              "function at the first step past the end, beyond final_lr, and holds that "
              "extrapolated value."),
    "RC508": ("inverse-cubic-off-grid-end",
              "inverse_cubic with an end_epoch between two steps: at the end step x > 1 and "
              "SparseML 1.8 computes a complex number and crashes (TypeError). recipec applies "
              "the intended final_sparsity there."),
    "RC509": ("pruning-zero-length-window",
              "start_epoch == end_epoch divides by zero in SparseML's interpolation "
              "(ZeroDivisionError at the first update). It is not a one-shot prune."),
    "RC510": ("several-quantization-modifiers",
              "More than one QuantizationModifier: the plan follows the earliest one."),
    "RC511": ("modifier-fails-at-runtime",
              "SparseML would raise while running this modifier at this steps_per_epoch or "
              "with this optimizer (for example a StepLR step_size that rounds to 0 steps, a "
              "MultiStepLR milestone outside (start_epoch, end_epoch), a cyclic_linear cycle "
              "of at most one step, a SetWeightDecayModifier param group the optimizer does not "
              "have). The plan leaves the modifier's effect out."),
    "RC512": ("no-run-length",
              "No modifier sets an epoch, so the manager's max_epochs is undefined and the plan "
              "has no steps. Add an EpochRangeModifier."),
}


def register(catalog: dict) -> dict:
    """Add the plan codes to `catalog` (code -> (title, explanation)) without overwriting."""
    for code, entry in PLAN_CODES.items():
        catalog.setdefault(code, entry)
    return catalog
