"""What the starting weights carry, and what it demands of this run (SPEC §6.3).

``load_start`` builds the float model from ``--weights`` (file, zoo stub or scale name) or from the resume
checkpoint, reading the file once, and returns a :class:`Start`: the model and what its checkpoint carried (its
own recipe as text, masks, QAT state). The caller compiles that recipe (the engine never compiles) and
``check_start`` applies SparseML's rules to it (QAT twice is an error; a pruned model with a recipe that has no
pruning modifier is a warning). ``hold_checkpoint_masks`` keeps a recipec checkpoint's zeros enforced where no
pruning modifier of the new recipe owns them; ``apply_checkpoint_qat`` rebuilds a checkpoint saved during/after
QAT as a QAT model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine import checkpoint as ck
from engine import zoo
from engine.runtime import Context, Runtime
from recipec.ir.recipe import Recipe
from yolo.data.yaml import DataConfig

QAT_TWICE = ("Quantization can not be applied more than once. Loaded quantized model from checkpoint and detected "
             "quantization modifier in sparsification recipe. This is unsupported behavior. Ending run.")
PRUNED_NO_PRUNING = ("Pruned model was loaded, but no pruning modifiers detected in sparsification recipe - model "
                     "may revert to dense state. A recipe with a ConstantPruningModifier can be used to maintain "
                     "model sparsity while training")


class StartError(Exception):
    """The starting weights cannot be used; message for the user."""


@dataclass
class Start:
    """The starting model and what its checkpoint carried.

    ``own``: a recipec checkpoint, whose ``masks`` and ``qat`` say what actually happened (not what a recipe
    planned). ``recipe_text``: the recipe stored in a ``--weights`` checkpoint (its ``checkpoint_recipe``, else
    ``recipe``), for the caller to compile; None on resume (the run's recipe is the checkpoint's own)."""

    model: nn.Module
    own: bool = False
    masks: dict[str, torch.Tensor] | None = None
    qat: dict[str, Any] | None = None
    recipe_text: str | None = None
    source: str = ""  # the file it came from, for messages


def _has(recipe: Recipe | None, category: str) -> bool:
    return recipe is not None and bool(recipe.by_category(category))


def check_start(start: Start, old_recipe: Recipe | None, recipe: Recipe, resuming: bool,
                say: Callable[[str], None]) -> bool:
    """Apply the checkpoint-recipe rules (``old_recipe``: the starting checkpoint's own recipe, compiled);
    returns whether the starting weights are already quantized."""
    if start.own:  # our checkpoints say what actually happened, not what the recipe planned
        already_quantized, was_pruned = bool(start.qat), bool(start.masks)
    else:
        already_quantized, was_pruned = _has(old_recipe, "quantization"), _has(old_recipe, "pruning")
    if not resuming:
        if already_quantized and _has(recipe, "quantization"):
            raise StartError(QAT_TWICE + " Start from the pre-QAT checkpoint (model.ckpt.pt, ?checkpoint=preqat).")
        if was_pruned and not _has(recipe, "pruning"):
            say("warning: " + PRUNED_NO_PRUNING + " (recipec keeps the checkpoint's masks anyway)")
    return already_quantized


def load_start(weights: str, resume_ck: dict | None, data: DataConfig, say: Callable[[str], None], *,
               recipe_arg: str | None = None, init: str | None = None) -> Start:
    """The model (float weights) from the resume checkpoint or ``weights`` (a file, a zoo: stub, or with
    ``init="random"`` a scale name), and what its checkpoint carried. ``recipe_arg``: the ``--recipe`` given (the
    zoo's transfer rule picks the stub's weights file by it); ``data`` gives the class count and names."""
    from yolo.checkpoint import CheckpointError, checkpoint_from_object, model_from_checkpoint

    try:
        if resume_ck is not None:
            model = model_from_checkpoint(checkpoint_from_object(resume_ck, "resume checkpoint"))
            return Start(model.train(), own=True, masks=resume_ck.get("masks"), qat=resume_ck.get("qat"))
        given = weights
        _check_init(weights, init)
        if zoo.is_stub(weights):
            weights = str(zoo.resolve_weights(weights, recipe_arg))
            say(f"weights: {given} -> {weights}")
        p = Path(weights)
        if p.is_file():
            start = _from_file(p, data.nc, say)
        else:
            import yolo

            start = Start(yolo.load_model(weights, nc=data.nc))
            say(f"weights: {weights} is not a file; training a freshly initialised {weights}")
    except (CheckpointError, ck.CheckpointError, zoo.ZooError) as e:
        raise StartError(str(e)) from None
    start.model.names = list(data.names)
    start.model = start.model.float().train()
    return start


def _from_file(p: Path, nc: int, say: Callable[[str], None]) -> Start:
    """A checkpoint file of any format we read, read once: the model for ``nc`` classes and what it carried."""
    from yolo.checkpoint import checkpoint_from_file_object, model_from_checkpoint, read_checkpoint_object

    obj = read_checkpoint_object(p)
    ckpt = checkpoint_from_file_object(obj, p)
    model = model_from_checkpoint(ckpt, nc=nc)
    if model.load_report.get("skipped"):
        say(f"weights have nc={ckpt.nc}, the data has nc={nc}: Detect head re-initialised "
            f"({len(model.load_report['skipped'])} tensors not loaded)")
    start = Start(model, recipe_text=ckpt.checkpoint_recipe or ckpt.recipe or None, source=str(p))
    if ckpt.source == "recipec":
        own = ck.checked(obj, p)
        start.own, start.masks, start.qat = True, own.get("masks"), own.get("qat")
    return start


def _check_init(weights: str, init: str | None) -> None:
    """`init="weights"` (the CLI's default) refuses a bare scale name that is no file: YOLOv5 users mean the
    pretrained model, which recipec never downloads. `init="random"` needs a scale name, not a file."""
    p = Path(weights)
    bare = not p.exists() and not p.suffix and len(p.parts) == 1 and not zoo.is_stub(weights)
    if init == "weights" and bare:
        raise StartError(f"--weights {weights}: no such file (nothing is downloaded). Pass a checkpoint (.pt) or a "
                         f"zoo: stub, or add --init random to train a freshly initialised {weights} from scratch")
    if init == "random" and not bare:
        raise StartError(f"--init random builds a fresh model: --weights must name a scale (yolov5n, yolov5s, "
                         f"yolov5m, yolov5l, yolov5x), not {weights}")


def hold_checkpoint_masks(masks: dict | None, runtime: Runtime, ctx: Context, model: nn.Module,
                          say: Callable[[str], None]) -> None:
    """Zeros the starting checkpoint enforced stay enforced where no pruning modifier of this recipe owns them."""
    if not masks:
        return
    owned = {n for m in runtime.modifiers for n in getattr(m, "names", ())}
    params = dict(model.named_parameters())
    keep = [n for n in masks if n not in owned and n in params and masks[n].shape == params[n].shape]
    if keep:
        from engine.pruning import MaskSet

        ms = MaskSet(model, keep, [masks[n] for n in keep])
        ms.apply_()
        ctx.masks.add(-1, ms)
        say(f"holding the checkpoint's masks on {len(keep)} tensors (no pruning modifier of this recipe owns them)")


def apply_checkpoint_qat(qat: dict | None, model: nn.Module, ctx: Context, say: Callable[[str], None]) -> None:
    """A checkpoint saved during/after QAT is rebuilt as a QAT model (its structure, SPEC §6.3 apply_structure)
    unless this recipe's QuantizationModifier already did so on resume."""
    from engine.quant import is_qat, prepare_from_state
    from engine.quant.handle import QatHandle

    if not qat or not qat.get("state") or is_qat(model):
        return
    try:
        prepare_from_state(model, qat["state"])
    except (ValueError, KeyError) as e:
        raise StartError(f"cannot rebuild the checkpoint's QAT state: {e}") from None
    ctx.state.start_qat(QatHandle(model))
    say("the checkpoint was quantization-aware: QAT structure and observers restored; EMA and AMP stay off")
