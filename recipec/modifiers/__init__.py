"""Every SparseML PyTorch modifier kind, one module each, and `REGISTRY` (tag name -> spec class).

Tests iterate over `REGISTRY`, so a new kind added here is tested automatically. `RENAMED` maps
obsolete or misspelt tag names seen in real recipes to the kind meant.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from recipec.modifiers.base import ModifierSpec

# Tag name -> module (in recipec/modifiers/) that defines the spec class of that name.
MODULES: dict[str, str] = {
    "EpochRangeModifier": "epoch_range",
    "SetLearningRateModifier": "set_lr",
    "LearningRateFunctionModifier": "lr_function",
    "LearningRateModifier": "lr_scheduler",
    "SetWeightDecayModifier": "set_weight_decay",
    "TrainableParamsModifier": "trainable_params",
    "SetParamModifier": "set_param",
    "GradualParamModifier": "gradual_param",
    "SparsificationLoggingModifier": "sparsification_logging",
    "ConstantPruningModifier": "constant_pruning",
    "GMPruningModifier": "gm_pruning",
    "MagnitudePruningModifier": "magnitude_pruning",
    "GlobalMagnitudePruningModifier": "global_magnitude_pruning",
    "LayerPruningModifier": "layer_pruning",
    "StructuredPruningModifier": "structured_pruning",
    "MovementPruningModifier": "movement_pruning",
    "MFACPruningModifier": "mfac_pruning",
    "OBSPruningModifier": "obs_pruning",
    "ACDCPruningModifier": "acdc_pruning",
    "RigLPruningModifier": "rigl_pruning",
    "TopKASTPruningModifier": "topkast_pruning",
    "PowerpropagationModifier": "powerpropagation",
    "LayerThinningModifier": "layer_thinning",
    "QuantizationModifier": "quantization",
    "DistillationModifier": "distillation",
    "PerLayerDistillationModifier": "per_layer_distillation",
}


class _Registry(Mapping):
    """Tag name -> spec class, importing each kind's module on first use.

    A lint of a typical recipe touches 4-6 kinds; importing all 26 dataclass modules would cost
    about a fifth of `recipec lint`'s run time. Iterating (as tests do) loads everything.
    """

    def __init__(self, modules: dict[str, str]):
        self._modules = modules
        self._loaded: dict[str, type[ModifierSpec]] = {}

    def __getitem__(self, name: str) -> type[ModifierSpec]:
        cls = self._loaded.get(name)
        if cls is None:
            mod = importlib.import_module(f"recipec.modifiers.{self._modules[name]}")
            cls = self._loaded[name] = getattr(mod, name)
        return cls

    def __contains__(self, name) -> bool:
        return name in self._modules

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __repr__(self) -> str:
        return f"REGISTRY({', '.join(self._modules)})"


REGISTRY: Mapping[str, type[ModifierSpec]] = _Registry(MODULES)


def __getattr__(name: str):
    """`from recipec.modifiers import GMPruningModifier` works too."""
    if name in MODULES:
        return REGISTRY[name]
    raise AttributeError(f"module 'recipec.modifiers' has no attribute {name!r}")


# The kinds that write the learning rate (category "learning_rate"; a test holds this equal to the specs'), the
# one table the planner, the checks and the engine's LR runtime share.
LR_KINDS: tuple[str, ...] = ("LearningRateFunctionModifier", "SetLearningRateModifier", "LearningRateModifier")

# Tag names found in real recipes that SparseML does not register, and what was meant.
RENAMED: dict[str, str] = {
    "GradualKSModifier": "GMPruningModifier",
    "ConstantKSModifier": "ConstantPruningModifier",
    "MagnutidePruningModifier": "MagnitudePruningModifier",
    "LegacyGMPruningModifier": "GMPruningModifier",
}

__all__ = ["REGISTRY", "RENAMED", "MODULES", "LR_KINDS", "ModifierSpec"]
