"""In-house QAT: QuantSpec, fake-quant + observers, Conv+BN fold modules, prepare / freeze / strip verbs."""

from engine.quant.fake_quant import ActFakeQuant, WeightFakeQuant
from engine.quant.fold import QATAdd, QATConv2d, QATConvBn, fold_conv_bn
from engine.quant.qat import (disable_observer, freeze_bn_stats, is_qat, load_qat_state_dict, prepare_from_state,
                              prepare_qat, qat_modules, qat_state_dict, strip_qat)
from engine.quant.spec import QuantSpec

__all__ = ["ActFakeQuant", "QATAdd", "QATConv2d", "QATConvBn", "QuantSpec", "WeightFakeQuant", "disable_observer",
           "fold_conv_bn", "freeze_bn_stats", "is_qat", "load_qat_state_dict", "prepare_from_state", "prepare_qat",
           "qat_modules", "qat_state_dict", "strip_qat"]
