"""All conv weights of a QAT model fake-quantized at once, at the start of each training forward.

In the BN-live QAT step (the seed recipe's whole QAT phase: observers on, BN statistics live) every
`QATConvBn` folds, observes, quantizes and divides back its weight (`fake_quant._WeightFQ`): about fifteen
small ops forward and six backward per layer, each run between two large convolutions that have just flushed
the caches. Measured on the 2-core build machine (yolov5n, batch 8, 320 px, 2 threads, the same model stepped
with the weight fake-quant on and off, interleaved): the per-layer weight path was 8.6 % of the QAT step, though
its arithmetic is a few hundred microseconds. Batched (this module), the same A/B measured the QAT step 4.3 %
faster (median of 22 steps: 237.9 vs 248.6 ms), and `bench/step_bench.py` put QAT at 1.22-1.24x dense (was
1.25-1.28x with the per-layer path, after engine/malloc.py).

Here a forward pre-hook on the model (`prepare_qat` registers :func:`quantize_weights_hook`) computes the same
values for every eligible layer in a few batched ops: layers whose weights have the same row length
(in_channels * kh * kw), BN eps and integer range are concatenated into one (channels, row) matrix and go through
one autograd node (:class:`_GroupWeightFQ`); each layer takes its rows as a view (`QATConvBn.forward` via
:func:`take`). Values are bit-identical to the per-layer path (the same elementwise float ops and an exact max per
row; tested), and so are the gradients of the weights (the straight-through identity); BN gamma's gradient sums
the same products per channel.

A layer takes a precomputed weight only when nothing it depends on has changed since (the weight's, gamma's
and running_var's version counters, its flags, grad mode): a submodule called on its own, a second call within
one forward, or a changed flag falls back to the per-layer path. Layers not in the BN-live observing state
(frozen BN, observer off, fake quant off, non-affine BN) always use the per-layer path.
"""

from __future__ import annotations

import weakref
from typing import Any

import torch
from torch import nn

from engine.quant.observers import EPS

_ATTR = "_qat_weight_groups"  # on the prepared model: the QATConvBn blocks the hook may batch
# block -> (weight, key) prepared by the pre-hook for this forward; kept off the modules (a deep copy of the
# model must not meet a tensor with a graph) and emptied by the post-hook when the forward ends.
_READY: "weakref.WeakKeyDictionary[nn.Module, tuple]" = weakref.WeakKeyDictionary()


class _GroupWeightFQ(torch.autograd.Function):
    """Fold, observe (per-channel max |w f| / qmax), quantize and divide back the weights of one group of layers
    with equal row length. Inputs: (blocks, row, *weights, *gammas); outputs: one fake-quantized weight per block,
    each a view of one result matrix. Backward: the weights' gradients pass straight through (nothing clips while
    observing); gamma's is sum(g * (w f - q)) / f^2 / std per channel, as `_WeightFQ`'s."""

    @staticmethod
    def forward(ctx, blocks, row, *tensors):
        n = len(blocks)
        ws, gammas = tensors[:n], tensors[n:]
        bn0, fq0 = blocks[0].bn, blocks[0].wq
        chans = [w.shape[0] for w in ws]
        std = torch.sqrt(torch.cat([b.bn.running_var for b in blocks]) + bn0.eps)
        f = (torch.cat(gammas) / std).view(-1, 1)
        wf = torch.cat([w.reshape(c, row) for w, c in zip(ws, chans)]) * f
        scale = torch.div(wf.abs().amax(1), float(fq0.qmax)).clamp_(min=EPS)
        torch._foreach_copy_([b.wq._buffers["scale"] for b in blocks], list(scale.split(chans)))
        s = scale.view(-1, 1)
        q = torch.mul(wf, torch.reciprocal(s)).round_().mul_(s)
        need_f = any(ctx.needs_input_grad[2 + n:])
        if need_f:
            ctx.save_for_backward(f, std, wf.sub_(q))  # e = w f - q, formed in wf's own buffer
        ctx.chans, ctx.row, ctx.n, ctx.need_f = chans, row, n, need_f
        out = q.div_(f)
        return tuple(o.view(w.shape) for o, w in zip(out.split(chans), ws))

    @staticmethod
    def backward(ctx, *grads):
        n, gamma_grads = ctx.n, (None,) * ctx.n
        if ctx.need_f:
            f, std, e = ctx.saved_tensors
            g = torch.cat([gr.reshape(c, ctx.row) for gr, c in zip(grads, ctx.chans)])
            gf = torch.mul(g, e).sum(1, keepdim=True).div_(f).div_(f).view(-1).div_(std)
            gamma_grads = tuple(gf.split(ctx.chans))
        return (None, None, *grads[:n], *gamma_grads)


def _eligible(m: nn.Module) -> bool:
    bn, fq = m.bn, m.wq
    return (not m.bn_frozen and bn.training and bn.affine and fq.observer_enabled and fq.fake_quant_enabled
            and m.conv.padding_mode == "zeros")


def _key(m: nn.Module) -> tuple:
    """Everything a precomputed weight depends on: a layer takes it only while this is unchanged."""
    return (m.conv.weight._version, m.bn.weight._version, m.bn.running_var._version, torch.is_grad_enabled(),
            m.wq.observer_enabled, m.wq.fake_quant_enabled, m.bn_frozen, m.bn.training)


def quantize_weights_hook(model: nn.Module, args: Any) -> None:
    """Forward pre-hook of a QAT-prepared model: in training, batch the weight fake-quant of every eligible block
    and leave each block its result (`take`). Does nothing in eval mode or on a model without QAT blocks."""
    blocks = getattr(model, _ATTR, None)
    if not blocks or not model.training:
        return
    groups: dict[tuple, list[nn.Module]] = {}
    for m in blocks:
        _READY.pop(m, None)
        if _eligible(m):
            w = m.conv.weight
            key = (w[0].numel(), m.bn.eps, m.wq.qmin, m.wq.qmax, w.dtype, w.device)
            groups.setdefault(key, []).append(m)
    for (row, *_), ms in groups.items():
        if len(ms) < 2:  # nothing to batch: the block's own path is the same work
            continue
        outs = _GroupWeightFQ.apply(ms, row, *[m.conv.weight for m in ms], *[m.bn.weight for m in ms])
        for m, w in zip(ms, outs):
            _READY[m] = (w, _key(m))


def forget_weights_hook(model: nn.Module, args: Any, output: Any) -> None:
    """Forward hook: drop what a block did not take (its graph is not kept past the forward)."""
    for m in getattr(model, _ATTR, None) or ():
        _READY.pop(m, None)


def take(m: nn.Module) -> torch.Tensor | None:
    """The weight the hook prepared for block `m` in this forward, if still valid (then consumed), else None."""
    ready = _READY.pop(m, None)
    if ready is None:
        return None
    w, key = ready
    return w if key == _key(m) else None


def install(model: nn.Module, blocks: list[nn.Module]) -> None:
    """Register the hooks on a freshly prepared model (``blocks``: its QATConvBn modules)."""
    setattr(model, _ATTR, blocks)
    model.register_forward_pre_hook(quantize_weights_hook)
    model.register_forward_hook(forget_weights_hook)


def uninstall(model: nn.Module) -> None:
    """Remove the hooks and the block list (`strip_qat`). Found by function, not by a stored handle: a deep copy
    of the model (EMA) has its own hook dicts with the same keys."""
    for hooks, fn in ((model._forward_pre_hooks, quantize_weights_hook), (model._forward_hooks, forget_weights_hook)):
        for k, hook in list(hooks.items()):
            if hook is fn:
                del hooks[k]
    for m in getattr(model, _ATTR, None) or ():
        _READY.pop(m, None)
    if hasattr(model, _ATTR):
        delattr(model, _ATTR)
