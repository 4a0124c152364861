"""Check rules: each one a module with `CODES` and `check(recipe, model) -> Iterable[Diagnostic]`.

`RULES` is the explicit registry (tests iterate over it); the rule module's docstring is its
documentation. `run_checks` runs every rule and returns their diagnostics.
"""

from __future__ import annotations

from recipec.check import (
    distillation_layers,
    epoch_range_present,
    epoch_window,
    lr_function_args,
    lr_overlap,
    lr_range,
    lr_scheduler_args,
    mask_type,
    model_names,
    model_param_groups,
    not_runnable,
    pruning_options,
    qat_during_pruning,
    qat_epochs,
    regex_prefix,
    set_lr_overwritten,
    sparsity_overlap,
    sparsity_range,
    unused_variables,
    update_frequency,
)
from recipec.check.model import ModelFacts
from recipec.diagnostics import Diagnostic

RULES = (
    epoch_window,
    sparsity_range,
    lr_range,
    update_frequency,
    lr_scheduler_args,
    lr_function_args,
    mask_type,
    pruning_options,
    qat_epochs,
    set_lr_overwritten,
    lr_overlap,
    qat_during_pruning,
    epoch_range_present,
    unused_variables,
    distillation_layers,
    regex_prefix,
    not_runnable,
    model_names,
    model_param_groups,
    sparsity_overlap,
)


def run_checks(recipe, model: str | ModelFacts | None = "auto") -> list[Diagnostic]:
    """Every rule's findings; `model`: a bundled model's name, "auto", "none", or the caller's `ModelFacts`."""
    out: list[Diagnostic] = []
    for rule in RULES:
        out.extend(rule.check(recipe, model))
    return out
