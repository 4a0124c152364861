"""Pruning: parameter selection, mask creators and the MaskSet invariant (pure torch, model-agnostic)."""

from engine.pruning.mask_creators import (MaskType, UNSTRUCTURED, constant_mask, create_global_masks,
                                          create_mask, parse_mask_type)
from engine.pruning.maskset import LayerSparsity, MaskSet, format_table, sparsity_table
from engine.pruning.params import (ALL, ALL_PRUNABLE, PRUNABLE_TYPES, Resolution, in_scope,
                                   prunable_param_names, resolve_modules, resolve_params)

__all__ = ["ALL", "ALL_PRUNABLE", "PRUNABLE_TYPES", "LayerSparsity", "MaskSet", "MaskType", "Resolution",
           "UNSTRUCTURED", "constant_mask", "create_global_masks", "create_mask", "format_table", "in_scope",
           "parse_mask_type", "prunable_param_names", "resolve_modules", "resolve_params", "sparsity_table"]
