"""The "sparsity" check of `verify`: the export keeps the sparsity its checkpoint recorded.

A recipec checkpoint stores its masks (`masks`: {param name: bool tensor}, True = kept) and the sparsity
measured when it was written (`sparsity`: {param name: fraction of zeros}). For every such weight:
- wherever its mask prunes, the weight is zero in the model being exported and in the ONNX initializer of
  its conv (BN folding and int8 rounding keep zeros zero);
- the weight's zeros, and the mask's pruned fraction, reach the recorded sparsity.
So a pruned checkpoint whose zeros were refilled (it would export at 0 % sparsity) or whose stored masks were
flipped fails, naming the layer. The per-layer check of `verify` compares torch with ONNX only; this one
compares both with what the checkpoint says it is.

A finished checkpoint's recipe promises sparsity too (`recipe_targets`): the final sparsity of every pruning
modifier (GMPruning, MagnitudePruning, GlobalMagnitudePruning) that leaves its masks enabled. A per-layer
modifier's weights must each reach it; a global one's (`GlobalMagnitudePruningModifier`, or `global_sparsity:
true`) only together, as the share of zeros over all its weights. Within `PROMISE_TOLERANCE` (block mask types
round per block). A parameter that several keys of a `{sparsity: [params]}` mapping select is promised the first
key's value, as the runtime (and SparseML) prunes it.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from engine.export.graph import conv_infos
from recipec.ir.recipe import Recipe

TOLERANCE = 1e-6  # recorded fractions are floats of the same counts
PROMISE_TOLERANCE = 0.01
PROMISING = ("GMPruningModifier", "MagnitudePruningModifier", "GlobalMagnitudePruningModifier")  # (Constant keeps)

Promises = dict  # {param name: sparsity} per layer, {(param names, ...): sparsity} for a global modifier's total


def recipe_targets(recipe: Recipe | None, model: nn.Module) -> Promises:
    """What a finished run of the compiled `recipe` promises (see the module docstring): {param name: final
    sparsity} for per-layer modifiers, and {tuple of param names: final sparsity} for each global one (the share
    of zeros over those weights together); {} without a recipe. The caller compiles the checkpoint's recipe text
    (the engine never compiles); this never raises."""
    if recipe is None:
        return {}
    try:
        from engine.pruning.params import resolve_params

        out: Promises = {}
        for spec in recipe.modifiers:
            if spec.kind not in PROMISING or not getattr(spec, "leave_enabled", True):
                continue
            final = getattr(spec, "final_sparsity", None)
            mine: dict[str, float] = {}
            for value, sel in (final.items() if isinstance(final, dict) else [(final, getattr(spec, "params", None))]):
                res = resolve_params(model, sel)
                if isinstance(value, (int, float)) and not res.error_message("params"):
                    for n in res.names:  # several keys select it: the first one applies
                        mine.setdefault(n, float(value))
            if spec.kind == "GlobalMagnitudePruningModifier" or getattr(spec, "global_sparsity", False):
                if mine and len(set(mine.values())) == 1:
                    out[tuple(mine)] = next(iter(mine.values()))
                continue
            for n, v in mine.items():
                out[n] = max(out.get(n, 0.0), v)
        return out
    except Exception:  # noqa: BLE001 - a recipe whose targets cannot be read promises nothing checkable
        return {}


def _conv_key(param: str) -> str:
    """`model.2.cv1.conv.weight` -> the ONNX conv's module name `model.2.cv1` (BN folded into it)."""
    mod = param.removesuffix(".weight")
    return mod.removesuffix(".conv")


def sparsity_check(torch_model: nn.Module, onnx_model, masks: dict, recorded: dict,
                   promised: dict | None = None) -> tuple[bool, str]:
    """(ok, detail) of the check described in the module docstring; `onnx_model` is an `onnx.ModelProto`,
    `promised` what `recipe_targets` gives."""
    infos = {c.module: c for c in conv_infos(onnx_model)}
    promised = promised or {}
    totals = {k: v for k, v in promised.items() if isinstance(k, tuple)}
    promised = {k: v for k, v in promised.items() if not isinstance(k, tuple)}
    names = list(dict.fromkeys([*masks, *recorded, *promised]))
    bad: list[str] = _total_shortfalls(torch_model, totals)
    pruned_total = 0
    for name in names:
        try:
            w = torch_model.get_parameter(name).detach().cpu()
        except AttributeError:
            bad.append(f"{name}: named by the checkpoint, not a weight of the model")
            continue
        mask = masks.get(name)
        if mask is not None:
            mask = torch.as_tensor(mask).bool().cpu()
            if mask.shape != w.shape:
                bad.append(f"{name}: mask shape {tuple(mask.shape)}, weight {tuple(w.shape)}")
                continue
            pruned = ~mask
            pruned_total += int(pruned.sum())
            live = int((w[pruned] != 0).sum())
            if live:
                bad.append(f"{name}: {live} of the {int(pruned.sum())} weights its mask prunes are nonzero")
            conv = infos.get(_conv_key(name))
            if conv is not None and conv.weight.size == w.numel():
                onnx_live = int((np.asarray(conv.weight).reshape(w.shape) != 0)[pruned.numpy()].sum())
                if onnx_live and not live:
                    bad.append(f"{name}: {onnx_live} weights its mask prunes are nonzero in the onnx")
        got = float((w == 0).float().mean()) if w.numel() else 0.0
        if got + PROMISE_TOLERANCE < promised.get(name, 0.0):
            bad.append(f"{name}: sparsity {got:.1%}, its recipe promised {promised[name]:.1%}")
        want = recorded.get(name)
        if isinstance(want, (int, float)):
            if got + TOLERANCE < want:
                bad.append(f"{name}: sparsity {got:.1%}, the checkpoint recorded {want:.1%}")
            elif mask is not None and float((~mask).float().mean()) + TOLERANCE < want:
                bad.append(f"{name}: its mask prunes {float((~mask).float().mean()):.1%}, the checkpoint recorded "
                           f"{want:.1%}")
    if bad:
        return False, "; ".join(bad[:3]) + (f" (+{len(bad) - 3} more)" if len(bad) > 3 else "")
    return True, (f"{len(names)} weights: zero wherever the checkpoint's masks prune ({pruned_total} weights, torch "
                  "and onnx), recorded sparsity reached"
                  + (f", the recipe's targets met on {len(promised)}" if promised else "")
                  + (f", {len(totals)} global target(s) met in total" if totals else ""))


def _total_shortfalls(torch_model: nn.Module, totals: dict) -> list[str]:
    """A global modifier's promise: the share of zeros over all its weights together."""
    bad = []
    for group, want in totals.items():
        zeros = numel = 0
        for name in group:
            try:
                w = torch_model.get_parameter(name).detach()
            except AttributeError:
                continue
            zeros, numel = zeros + int((w == 0).sum()), numel + w.numel()
        got = zeros / numel if numel else 0.0
        if got + PROMISE_TOLERANCE < want:
            bad.append(f"{len(group)} weights of a global pruning modifier: {got:.1%} zeros in total, its recipe "
                       f"promised {want:.1%}")
    return bad
