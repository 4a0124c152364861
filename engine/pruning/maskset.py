"""MaskSet: the sparsity pattern of a list of named parameters, held as an invariant.

What: masks (1 = kept, 0 = pruned) for parameters addressed by name. Every enforcement is ONE fused
`torch._foreach_mul_` over all tensors (no per-layer Python loops on the hot path):
- `apply_()` zeroes pruned weights (call after every optimizer step; `attach` does it for you);
- `mask_grads_()` zeroes their gradients (call after backward, before the step);
- `mask_optimizer_state_(opt)` zeroes momentum / Adam moments, so nothing leaks if masks are lifted;
- `apply_to_(module)` masks another module with the same names (the EMA copy, a QAT model).
Why: SGD with momentum 0.937 + nesterov + weight decay moves zeros unless grad, momentum and weight are
all masked; the EMA copy and resume are where peers lost sparsity.

Masks live as float tensors in the parameter's dtype/device/memory layout (a multiply is cheaper than a
`where`; equal strides keep `_foreach_mul_` on its fused path, also after a channels-last switch);
`state_dict()` stores them as bool, by name, with a format version.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from engine.pruning.mask_creators import MaskType, UNSTRUCTURED, constant_mask, create_global_masks, create_mask

FORMAT_VERSION = 1


@dataclass(frozen=True)
class LayerSparsity:
    """One row of the per-layer sparsity table. `sparsity` = zeros / numel, in [0, 1]."""

    name: str
    shape: tuple[int, ...]
    numel: int
    zeros: int

    @property
    def sparsity(self) -> float:
        return self.zeros / self.numel if self.numel else 0.0


def sparsity_table(model: nn.Module, names: Sequence[str] | None = None) -> list[LayerSparsity]:
    """Measured zeros of the named parameters (default: every prunable weight) of `model`."""
    if names is None:
        from engine.pruning.params import prunable_param_names
        names = prunable_param_names(model)
    rows = []
    for n in names:
        p = model.get_parameter(n).detach()
        rows.append(LayerSparsity(n, tuple(p.shape), p.numel(), int((p == 0).sum())))
    return rows


def format_table(rows: Sequence[LayerSparsity]) -> str:
    """Plain-text table (name, shape, numel, sparsity %) with a weighted total line."""
    width = max([len(r.name) for r in rows] + [5])
    lines = [f"{'layer':<{width}}  {'shape':<18} {'numel':>9} {'sparsity':>9}"]
    for r in rows:
        lines.append(f"{r.name:<{width}}  {str(list(r.shape)):<18} {r.numel:>9} {100 * r.sparsity:>8.2f}%")
    tot, zer = sum(r.numel for r in rows), sum(r.zeros for r in rows)
    lines.append(f"{'total':<{width}}  {'':<18} {tot:>9} {100 * zer / max(tot, 1):>8.2f}%")
    return "\n".join(lines)


def _laid_like(m: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """``m`` with ``p``'s strides (a copy only when they differ)."""
    return m if m.stride() == p.stride() else torch.empty_like(p, dtype=m.dtype).copy_(m)


class MaskSet:
    """Masks for `names` (parameters of `model`). Starts all-ones unless `masks` is given."""

    def __init__(self, model: nn.Module, names: Sequence[str], masks: Sequence[torch.Tensor] | None = None):
        self.names: tuple[str, ...] = tuple(names)
        self.params: list[nn.Parameter] = [model.get_parameter(n) for n in self.names]
        self.enabled = True
        self._other: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # module -> its masked params
        self._handles: list = []
        self._probe = next((i for i, p in enumerate(self.params) if p.dim() == 4), None)
        if masks is None:
            self.masks = [torch.ones_like(p).detach() for p in self.params]
        else:
            self.masks = []
            self.set_masks(masks)

    # ------------------------------------------------------------------ constructors / updates
    @classmethod
    def from_zeros(cls, model: nn.Module, names: Sequence[str]) -> "MaskSet":
        """ConstantPruningModifier: mask = (w != 0) now."""
        ms = cls(model, names)
        ms.set_masks([constant_mask(p) for p in ms.params])
        return ms

    def set_masks(self, masks: Sequence[torch.Tensor]) -> None:
        if len(masks) != len(self.params):
            raise ValueError(f"expected {len(self.params)} masks, got {len(masks)}")
        out = []
        for n, p, m in zip(self.names, self.params, masks):
            if tuple(m.shape) != tuple(p.shape):
                raise ValueError(f"mask for {n} has shape {tuple(m.shape)}, parameter {tuple(p.shape)}")
            out.append(_laid_like(m.detach().to(device=p.device, dtype=p.dtype), p))
        self.masks = out

    def _match_layout(self) -> None:
        """Re-lay the masks like their parameters when the model's memory format changed after they were made
        (``model.to(memory_format=torch.channels_last)`` on CUDA): ``_foreach_mul_`` takes its fused path only
        when both lists share strides. Checks one tensor per call (a 4-D one, which a format change moves)."""
        i = self._probe
        if i is not None and self.masks[i].stride() != self.params[i].stride():
            self.masks = [_laid_like(m, p) for m, p in zip(self.masks, self.params)]

    def update(self, sparsity: float | Sequence[float], mask_type: MaskType = UNSTRUCTURED,
               global_: bool = False) -> None:
        """Recompute masks by magnitude of the current weights (GMP/Magnitude/GlobalMagnitude) and apply."""
        ws = [p.detach() for p in self.params]
        if global_:
            if not isinstance(sparsity, (int, float)):
                raise ValueError("global magnitude pruning takes a single sparsity")
            new = create_global_masks(ws, float(sparsity), mask_type)
        else:
            ss = [float(sparsity)] * len(ws) if isinstance(sparsity, (int, float)) else [float(s) for s in sparsity]
            new = [create_mask(w, s, mask_type) for w, s in zip(ws, ss)]
        self.set_masks(new)
        self.apply_()

    # ------------------------------------------------------------------ enforcement (hot path)
    @torch.no_grad()
    def apply_(self) -> None:
        """Zero the pruned weights in place (one fused op)."""
        if self.enabled and self.params:
            self._match_layout()
            torch._foreach_mul_(self.params, self.masks)

    @torch.no_grad()
    def mask_grads_(self) -> None:
        """Zero the gradients of pruned weights (one fused op over the params that have a grad)."""
        if not self.enabled:
            return
        self._match_layout()
        pairs = [(p.grad, m) for p, m in zip(self.params, self.masks) if p.grad is not None]
        if pairs:
            torch._foreach_mul_([g for g, _ in pairs], [m for _, m in pairs])

    @torch.no_grad()
    def mask_optimizer_state_(self, optimizer: torch.optim.Optimizer) -> None:
        """Zero every per-parameter optimizer buffer shaped like the weight (momentum, exp_avg, ...)."""
        if not self.enabled:
            return
        self._match_layout()
        bufs, ms = [], []
        for p, m in zip(self.params, self.masks):
            st = optimizer.state.get(p)
            if not st:
                continue
            for v in st.values():
                if isinstance(v, torch.Tensor) and v.shape == p.shape and v.is_floating_point():
                    bufs.append(v)
                    ms.append(m if v.dtype == m.dtype else m.to(v.dtype))
        if bufs:
            torch._foreach_mul_(bufs, ms)

    @torch.no_grad()
    def apply_to_(self, module: nn.Module) -> None:
        """Mask the same-named parameters of another module (EMA copy); name lookup cached per module."""
        if not self.enabled:
            return
        ts = self._other.get(module)
        if ts is None:
            ts = [module.get_parameter(n) for n in self.names]
            self._other[module] = ts
        torch._foreach_mul_([t.data for t in ts], [_laid_like(m.to(t.dtype), t) for t, m in zip(ts, self.masks)])

    def attach(self, optimizer: torch.optim.Optimizer) -> None:
        """Enforce around every `optimizer.step()`: grads masked before, weights + momentum after."""
        self.detach()
        self._handles.append(optimizer.register_step_pre_hook(lambda opt, a, k: self.mask_grads_()))

        def _post(opt, a, k):
            self.apply_()
            self.mask_optimizer_state_(opt)
        self._handles.append(optimizer.register_step_post_hook(_post))

    def detach(self) -> None:
        """Remove the optimizer hooks (`leave_enabled: False` at the end of a pruning window)."""
        for h in self._handles:
            h.remove()
        self._handles.clear()

    # ------------------------------------------------------------------ state and reporting
    def state_dict(self) -> dict:
        return {"version": FORMAT_VERSION, "enabled": self.enabled,
                "masks": {n: (m != 0).cpu() for n, m in zip(self.names, self.masks)}}

    def load_state_dict(self, state: dict) -> None:
        if state.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported mask state version {state.get('version')!r} (expected {FORMAT_VERSION})")
        masks = state["masks"]
        missing = [n for n in self.names if n not in masks]
        if missing:
            raise ValueError(f"mask state lacks {len(missing)} parameter(s): {', '.join(missing[:5])}")
        self.set_masks([masks[n] for n in self.names])
        self.enabled = bool(state.get("enabled", True))

    @classmethod
    def from_state_dict(cls, model: nn.Module, state: dict) -> "MaskSet":
        ms = cls(model, list(state["masks"]))
        ms.load_state_dict(state)
        return ms

    def table(self) -> list[LayerSparsity]:
        """Per-layer sparsity of the masks (what is enforced, not what is measured)."""
        return [LayerSparsity(n, tuple(m.shape), m.numel(), int((m == 0).sum())) for n, m in zip(self.names, self.masks)]

    def overall_sparsity(self) -> float:
        tot = sum(m.numel() for m in self.masks)
        return sum(int((m == 0).sum()) for m in self.masks) / max(tot, 1)
