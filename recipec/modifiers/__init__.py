"""Every SparseML PyTorch modifier kind, one module each, and `REGISTRY` (tag name -> spec class).

Tests iterate over `REGISTRY`, so a new kind added here is tested automatically. `RENAMED` maps
obsolete or misspelt tag names seen in real recipes to the kind meant.
"""

from __future__ import annotations

from recipec.modifiers.acdc_pruning import ACDCPruningModifier
from recipec.modifiers.base import ModifierSpec
from recipec.modifiers.constant_pruning import ConstantPruningModifier
from recipec.modifiers.distillation import DistillationModifier
from recipec.modifiers.epoch_range import EpochRangeModifier
from recipec.modifiers.global_magnitude_pruning import GlobalMagnitudePruningModifier
from recipec.modifiers.gm_pruning import GMPruningModifier
from recipec.modifiers.gradual_param import GradualParamModifier
from recipec.modifiers.layer_pruning import LayerPruningModifier
from recipec.modifiers.layer_thinning import LayerThinningModifier
from recipec.modifiers.lr_function import LearningRateFunctionModifier
from recipec.modifiers.lr_scheduler import LearningRateModifier
from recipec.modifiers.magnitude_pruning import MagnitudePruningModifier
from recipec.modifiers.mfac_pruning import MFACPruningModifier
from recipec.modifiers.movement_pruning import MovementPruningModifier
from recipec.modifiers.obs_pruning import OBSPruningModifier
from recipec.modifiers.per_layer_distillation import PerLayerDistillationModifier
from recipec.modifiers.powerpropagation import PowerpropagationModifier
from recipec.modifiers.quantization import QuantizationModifier
from recipec.modifiers.rigl_pruning import RigLPruningModifier
from recipec.modifiers.set_lr import SetLearningRateModifier
from recipec.modifiers.set_param import SetParamModifier
from recipec.modifiers.set_weight_decay import SetWeightDecayModifier
from recipec.modifiers.sparsification_logging import SparsificationLoggingModifier
from recipec.modifiers.structured_pruning import StructuredPruningModifier
from recipec.modifiers.topkast_pruning import TopKASTPruningModifier
from recipec.modifiers.trainable_params import TrainableParamsModifier

REGISTRY: dict[str, type[ModifierSpec]] = {
    "EpochRangeModifier": EpochRangeModifier,
    "SetLearningRateModifier": SetLearningRateModifier,
    "LearningRateFunctionModifier": LearningRateFunctionModifier,
    "LearningRateModifier": LearningRateModifier,
    "SetWeightDecayModifier": SetWeightDecayModifier,
    "TrainableParamsModifier": TrainableParamsModifier,
    "SetParamModifier": SetParamModifier,
    "GradualParamModifier": GradualParamModifier,
    "SparsificationLoggingModifier": SparsificationLoggingModifier,
    "ConstantPruningModifier": ConstantPruningModifier,
    "GMPruningModifier": GMPruningModifier,
    "MagnitudePruningModifier": MagnitudePruningModifier,
    "GlobalMagnitudePruningModifier": GlobalMagnitudePruningModifier,
    "LayerPruningModifier": LayerPruningModifier,
    "StructuredPruningModifier": StructuredPruningModifier,
    "MovementPruningModifier": MovementPruningModifier,
    "MFACPruningModifier": MFACPruningModifier,
    "OBSPruningModifier": OBSPruningModifier,
    "ACDCPruningModifier": ACDCPruningModifier,
    "RigLPruningModifier": RigLPruningModifier,
    "TopKASTPruningModifier": TopKASTPruningModifier,
    "PowerpropagationModifier": PowerpropagationModifier,
    "LayerThinningModifier": LayerThinningModifier,
    "QuantizationModifier": QuantizationModifier,
    "DistillationModifier": DistillationModifier,
    "PerLayerDistillationModifier": PerLayerDistillationModifier,
}

# Tag names found in real recipes that SparseML does not register, and what was meant.
RENAMED: dict[str, str] = {
    "GradualKSModifier": "GMPruningModifier",
    "ConstantKSModifier": "ConstantPruningModifier",
    "MagnutidePruningModifier": "MagnitudePruningModifier",
    "LegacyGMPruningModifier": "GMPruningModifier",
}

__all__ = ["REGISTRY", "RENAMED", "ModifierSpec"] + sorted(REGISTRY)
