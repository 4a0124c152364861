"""Mask creators: which weights to zero for a target sparsity.

What: `parse_mask_type(x) -> MaskType` reads the recipe's `mask_type`; `create_mask(w, s, mt)` gives a
bool mask (True = kept) for one tensor; `create_global_masks(ws, s, mt)` one threshold across tensors.

Kinds (SparseML's `mask_type`):
- `unstructured`: the `round(numel * s)` smallest |w| are zeroed, **exactly** that many. Ties are broken
  by position (stable sort), so the result is deterministic. When more weights are already exactly
  zero than the target, the zeros to prune are chosen with a fixed RNG seed (42), as SparseML does.
- `block4`, `[a, b]`: blocks of `a` output x `b` input channels (dim 0 x dim 1), independently at every
  spatial position (kh, kw); `-1` = the whole dim; a block cut short at the tensor edge is scored by the
  mean of the elements it has. Blocks are scored by mean |w|; `round(n_blocks * s)` blocks are zeroed.
  YOLOv5 zoo recipes use `[1, 4]` (= `block4`).
- `N:M` (`tensorrt` = `2:4`): in every group of M consecutive input channels (dim 1, padded), keep the
  N largest |w|. This is a fixed pattern: any positive target sparsity applies the full N:M pattern
  (sparsity 1 - N/M); a target of 0 keeps everything.
Global magnitude works for unstructured and block kinds (scores are pooled across tensors).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

SEED = 42


@dataclass(frozen=True)
class MaskType:
    kind: str  # "unstructured" | "block" | "nm"
    block: tuple[int, int] = (1, 1)
    n: int = 0
    m: int = 0

    def describe(self) -> str:
        if self.kind == "block":
            return f"block{list(self.block)}"
        if self.kind == "nm":
            return f"{self.n}:{self.m}"
        return "unstructured"


UNSTRUCTURED = MaskType("unstructured")


def parse_mask_type(value: object) -> MaskType:
    """Parse a recipe `mask_type`; raises ValueError with SparseML's wording on anything else."""
    if value is None or value == "unstructured":
        return UNSTRUCTURED
    if value == "block4" or value == "block":
        return MaskType("block", (1, 4))
    if value == "tensorrt":
        return MaskType("nm", n=2, m=4)
    if isinstance(value, str) and ":" in value:
        a, _, b = value.partition(":")
        if a.strip().isdigit() and b.strip().isdigit() and 0 < int(a) <= int(b):
            return MaskType("nm", n=int(a), m=int(b))
        raise ValueError(f"bad N:M mask_type {value!r}: expected two integers with 0 < N <= M, e.g. '2:4'")
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"expected list of length 2 for specification of BlockMaskCreator, got {value!r}")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise ValueError(f"all values in list specification of BlockMaskCreator must be integers, got {value!r}")
        if any(v == 0 or v < -1 for v in value):
            raise ValueError(f"block sizes must be positive or -1, got {value!r}")
        if tuple(value) == (1, 1):
            return UNSTRUCTURED
        return MaskType("block", (int(value[0]), int(value[1])))
    raise ValueError(f"Unknown mask_type {value!r}. Supported mask types include 'unstructured' and 'block4'")


# ---------------------------------------------------------------- scores (one value per prunable unit)

def _as_oir(w: torch.Tensor) -> torch.Tensor:
    """View |w| as (out, in, rest): conv (O, I, kh, kw) -> (O, I, kh*kw); linear (O, I) -> (O, I, 1)."""
    a = w.detach().abs().float()
    if a.dim() == 1:
        return a.reshape(a.shape[0], 1, 1)
    return a.reshape(a.shape[0], a.shape[1], -1)


def _block_dims(w: torch.Tensor, block: tuple[int, int]) -> tuple[int, int]:
    o = w.shape[0]
    i = w.shape[1] if w.dim() > 1 else 1
    a, b = block
    return (o if a == -1 else min(a, o)), (i if b == -1 else min(b, i))


def scores(w: torch.Tensor, mt: MaskType) -> torch.Tensor:
    """Score per prunable unit (flattened order matches `expand`): |w| or block mean |w|."""
    if mt.kind == "unstructured":
        return w.detach().abs().float().reshape(-1)
    if mt.kind != "block":
        raise ValueError(f"no score for mask kind {mt.kind!r}")
    x = _as_oir(w)
    o, i, r = x.shape
    a, b = _block_dims(w, mt.block)
    po, pi = (-o) % a, (-i) % b
    sums = F.pad(x, (0, 0, 0, pi, 0, po)).reshape((o + po) // a, a, (i + pi) // b, b, r).sum((1, 3))
    ones = F.pad(torch.ones_like(x), (0, 0, 0, pi, 0, po)).reshape((o + po) // a, a, (i + pi) // b, b, r)
    return (sums / ones.sum((1, 3))).reshape(-1)


def expand(keep: torch.Tensor, w: torch.Tensor, mt: MaskType) -> torch.Tensor:
    """Per-unit keep flags (flattened) -> a bool mask shaped like `w`."""
    if mt.kind == "unstructured":
        return keep.reshape(w.shape)
    x = _as_oir(w)
    o, i, r = x.shape
    a, b = _block_dims(w, mt.block)
    k = keep.reshape(-(-o // a), -(-i // b), r)
    full = k.repeat_interleave(a, 0).repeat_interleave(b, 1)[:o, :i]
    return full.reshape(w.shape)


def _keep_flags(score: torch.Tensor, n_prune: int) -> torch.Tensor:
    """True for units kept when the `n_prune` lowest scores are removed (exact count, deterministic)."""
    keep = torch.ones_like(score, dtype=torch.bool)
    if n_prune <= 0:
        return keep
    n_prune = min(n_prune, score.numel())
    zeros = (score == 0).nonzero().reshape(-1)
    if zeros.numel() > n_prune:
        # More units are already zero than the target: re-choose which zeros to prune, seeded.
        g = torch.Generator().manual_seed(SEED)
        pick = zeros[torch.randperm(zeros.numel(), generator=g)[:n_prune].to(zeros.device)]
        keep[pick] = False
        return keep
    order = torch.sort(score, stable=True).indices
    keep[order[:n_prune]] = False
    return keep


def _nm_mask(w: torch.Tensor, n: int, m: int) -> torch.Tensor:
    x = _as_oir(w)  # (O, I, R)
    o, i, r = x.shape
    pi = (-i) % m
    g = F.pad(x, (0, 0, 0, pi), value=-1.0).permute(0, 2, 1).reshape(o, r, (i + pi) // m, m)
    idx = torch.sort(g, dim=-1, descending=True, stable=True).indices[..., :n]
    keep = torch.zeros_like(g, dtype=torch.bool).scatter_(-1, idx, True)
    keep = keep.reshape(o, r, i + pi).permute(0, 2, 1)[:, :i]
    return keep.reshape(w.shape)


def create_mask(w: torch.Tensor, sparsity: float, mt: MaskType = UNSTRUCTURED) -> torch.Tensor:
    """Bool mask (True = kept) for one tensor at `sparsity` in [0, 1]."""
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity must be in [0, 1], got {sparsity}")
    if mt.kind == "nm":
        return _nm_mask(w, mt.n, mt.m) if sparsity > 0 else torch.ones_like(w, dtype=torch.bool)
    s = scores(w, mt)
    return expand(_keep_flags(s, round(s.numel() * sparsity)), w, mt)


def create_global_masks(ws: list[torch.Tensor], sparsity: float, mt: MaskType = UNSTRUCTURED) -> list[torch.Tensor]:
    """One threshold across all tensors: the `round(total_units * s)` lowest-scored units are pruned."""
    if mt.kind == "nm":
        return [create_mask(w, sparsity, mt) for w in ws]
    ss = [scores(w, mt) for w in ws]
    flat = torch.cat([s.to(ss[0].device) for s in ss])
    keep = _keep_flags(flat, round(flat.numel() * sparsity))
    out, start = [], 0
    for w, s in zip(ws, ss):
        out.append(expand(keep[start:start + s.numel()].to(w.device), w, mt))
        start += s.numel()
    return out


def constant_mask(w: torch.Tensor) -> torch.Tensor:
    """ConstantPruningModifier's mask: the current nonzeros."""
    return w.detach() != 0
