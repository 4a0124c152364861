"""QAT verbs: `prepare_qat`, `freeze_bn_stats`, `disable_observer`, `qat_state_dict`, `strip_qat`.

Separate calls, made by the engine at the plan's steps (QatSchedule: start, freeze_bn, disable_observer).

What `prepare_qat(model, spec)` swaps in place (module names and Parameter objects are preserved):
- every conv block with children `conv: Conv2d` + `bn: BatchNorm2d` (+ optional `act`, nothing else;
  YOLOv5's `Conv`) -> `QATConvBn` (BN folded, input fake-quant, per-channel weight fake-quant);
- every other `nn.Conv2d` (Detect head) -> `QATConv2d`;
- every module whose class is named `Add` with forward(a, b) -> `QATAdd` (both inputs fake-quantized);
only inside `spec.submodules` (dot-aware prefixes) and not of a type in `spec.exclude_module_types`.
This is the YOLOv5 idiom of SparseML's legacy modifier: one Q/DQ at each conv input (the SiLU output of
the block before), the residual add's inputs, no conv-output fake-quant unless asked. It also registers the
model's weight hooks (`engine/quant/weight_batch.py`: in a BN-live training forward, all conv weights are
fake-quantized in a few batched ops, with the same values); `strip_qat` removes them.

Checkpoints: `model.state_dict()` of a prepared model has only the float keys (ultralytics names; QAT
buffers are non-persistent); `qat_state_dict(model)` has the spec, per-module flags and qparams.
"""

from __future__ import annotations

import copy
from typing import Iterator

from torch import nn

from engine.pruning.params import in_scope
from engine.quant.fake_quant import ActFakeQuant, WeightFakeQuant
from engine.quant.fold import QATAdd, QATConv2d, QATConvBn
from engine.quant.spec import QuantSpec
from engine.quant.weight_batch import install as install_weight_hooks, uninstall as uninstall_weight_hooks

STATE_VERSION = 1
QAT_TYPES = (QATConvBn, QATConv2d, QATAdd)


def _is_conv_bn_block(m: nn.Module) -> bool:
    kids = dict(m.named_children())
    return (isinstance(kids.get("conv"), nn.Conv2d) and isinstance(kids.get("bn"), nn.BatchNorm2d)
            and set(kids) <= {"conv", "bn", "act"} and not isinstance(m, QAT_TYPES))


def _excluded(m: nn.Module, spec: QuantSpec) -> bool:
    return type(m).__name__ in spec.exclude_module_types


def _set_child(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def prepare_qat(model: nn.Module, spec: QuantSpec) -> nn.Module:
    """Swap quantizable modules for their QAT versions in place; returns `model`. Idempotent-safe:
    raises if the model is already prepared. Raises ValueError if `submodules` names no module."""
    if is_qat(model):
        raise ValueError("model is already prepared for QAT")
    names = {n for n, _ in model.named_modules()}
    if spec.submodules is not None:
        missing = [s for s in spec.submodules if s not in names]
        if missing:
            raise ValueError(f"QAT submodules not found in the model: {', '.join(missing)}")
    todo: list[tuple[str, nn.Module]] = []
    skip: tuple[str, ...] = ()
    for name, m in model.named_modules():
        if not name or (skip and name.startswith(skip)):
            continue
        if not in_scope(name, spec.submodules) or _excluded(m, spec):
            continue
        if _is_conv_bn_block(m) and "Conv2d" not in spec.exclude_module_types:
            todo.append((name, QATConvBn(m, spec)))
            skip = skip + (name + ".",)
        elif type(m) is nn.Conv2d:
            todo.append((name, QATConv2d.from_conv(m, spec)))
        elif type(m).__name__ == "Add" and spec.quantize_add_inputs:
            todo.append((name, QATAdd(m, spec)))
    for name, new in todo:
        new.train(model.training)
        _set_child(model, name, new)
    model._qat_spec = spec  # plain attribute: read by qat_state_dict / export
    install_weight_hooks(model, [m for _, m in todo if isinstance(m, QATConvBn)])
    return model


def qat_modules(model: nn.Module) -> Iterator[tuple[str, nn.Module]]:
    for n, m in model.named_modules():
        if isinstance(m, QAT_TYPES):
            yield n, m


def is_qat(model: nn.Module) -> bool:
    return any(True for _ in qat_modules(model))


def _fake_quants(model: nn.Module) -> Iterator[nn.Module]:
    for m in model.modules():
        if isinstance(m, (ActFakeQuant, WeightFakeQuant)):
            yield m


def freeze_bn_stats(model: nn.Module) -> None:
    """Stop BN running-stat updates in every QATConvBn (switch to the folded running-stats forward)."""
    for _, m in qat_modules(model):
        if isinstance(m, QATConvBn):
            m.bn_frozen = True
            m.bn.eval()


def disable_observer(model: nn.Module) -> None:
    """Freeze every scale / zero point at its current value (activations and weights)."""
    for fq in _fake_quants(model):
        fq.observer_enabled = False


def qat_state_dict(model: nn.Module) -> dict:
    """Spec, flags and qparams of every fake-quant, keyed by module name (float weights NOT included)."""
    spec = getattr(model, "_qat_spec", None)
    buffers = {}
    for name, m in model.named_modules():
        if isinstance(m, (ActFakeQuant, WeightFakeQuant)):
            buffers[name] = {"observer_enabled": m.observer_enabled, "fake_quant_enabled": m.fake_quant_enabled,
                             **{k: b.detach().cpu().clone() for k, b in m.named_buffers(recurse=False)}}
    return {"version": STATE_VERSION, "spec": spec.to_dict() if spec else None,
            "bn_frozen": sorted(n for n, m in qat_modules(model) if isinstance(m, QATConvBn) and m.bn_frozen),
            "fake_quant": buffers}


def load_qat_state_dict(model: nn.Module, state: dict) -> None:
    """Restore qparams/flags into a model prepared with the same spec (call `prepare_qat` first)."""
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"unsupported QAT state version {state.get('version')!r} (expected {STATE_VERSION})")
    mods = dict(model.named_modules())
    fq = state["fake_quant"]
    missing = [n for n in fq if not isinstance(mods.get(n), (ActFakeQuant, WeightFakeQuant))]
    extra = [n for n, m in mods.items() if isinstance(m, (ActFakeQuant, WeightFakeQuant)) and n not in fq]
    if missing or extra:
        raise ValueError(f"QAT state does not match the model: missing in model {missing[:3]}, "
                         f"missing in state {extra[:3]}")
    for n, d in fq.items():
        m = mods[n]
        m.observer_enabled = bool(d["observer_enabled"])
        m.fake_quant_enabled = bool(d["fake_quant_enabled"])
        for k, b in m.named_buffers(recurse=False):
            b.copy_(d[k])
        m.refresh()
    frozen = set(state.get("bn_frozen", ()))
    for n, m in qat_modules(model):
        if isinstance(m, QATConvBn) and n in frozen:
            m.bn_frozen = True
            m.bn.eval()


def prepare_from_state(model: nn.Module, state: dict) -> nn.Module:
    """`prepare_qat` with the stored spec, then `load_qat_state_dict` (resume / export)."""
    prepare_qat(model, QuantSpec.from_dict(state["spec"]))
    load_qat_state_dict(model, state)
    return model


def strip_qat(model: nn.Module, inplace: bool = False) -> nn.Module:
    """The float model (original module classes, ultralytics names, trained weights, BN not folded)."""
    if not inplace:
        model = copy.deepcopy(model)
    for name, m in list(qat_modules(model)):
        _set_child(model, name, m.strip())
    uninstall_weight_hooks(model)
    if hasattr(model, "_qat_spec"):
        del model._qat_spec
    return model

