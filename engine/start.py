"""What the starting weights carry, and what it demands of this run (SPEC §6.3).

``load_start`` builds the float model from ``--weights`` (file, zoo stub or scale name) or from the resume
checkpoint and returns what that checkpoint carried: its own recipe, masks and QAT state. ``check_start``
applies SparseML's rules (QAT twice is an error; a pruned model with a recipe that has no pruning modifier is a
warning). ``hold_checkpoint_masks`` keeps a recipec checkpoint's zeros enforced where no pruning modifier of the
new recipe owns them; ``apply_checkpoint_qat`` rebuilds a checkpoint saved during/after QAT as a QAT model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from engine import checkpoint as ck
from engine import zoo
from engine.runtime import Context, Runtime

QAT_TWICE = ("Quantization can not be applied more than once. Loaded quantized model from checkpoint and detected "
             "quantization modifier in sparsification recipe. This is unsupported behavior. Ending run.")
PRUNED_NO_PRUNING = ("Pruned model was loaded, but no pruning modifiers detected in sparsification recipe - model "
                     "may revert to dense state. A recipe with a ConstantPruningModifier can be used to maintain "
                     "model sparsity while training")



class StartError(Exception):
    """The starting weights cannot be used; message for the user."""


def _kinds(recipe: Any) -> set[str]:
    return {m.kind for m in getattr(recipe, "modifiers", ())} if recipe is not None else set()



def check_start(start: dict, recipe: Any, resuming: bool, say) -> bool:
    """Apply the checkpoint-recipe rules; returns whether the starting weights are already quantized."""
    old_kinds, new_kinds = _kinds(start.get("old_recipe")), _kinds(recipe)
    if start.get("own"):  # our checkpoints say what actually happened, not what the recipe planned
        already_quantized, was_pruned = bool(start.get("qat")), bool(start.get("masks"))
    else:
        already_quantized = "QuantizationModifier" in old_kinds
        was_pruned = any("Pruning" in k for k in old_kinds)
    if not resuming:
        if already_quantized and "QuantizationModifier" in new_kinds:
            raise StartError(QAT_TWICE + " Start from the pre-QAT checkpoint (model.ckpt.pt, ?checkpoint=preqat).")
        if was_pruned and not any("Pruning" in k for k in new_kinds):
            say("warning: " + PRUNED_NO_PRUNING + " (recipec keeps the checkpoint's masks anyway)")
    return already_quantized


def load_start(a: Any, resume_ck: dict | None, data: Any, say) -> tuple[torch.nn.Module, dict]:
    """The model (float weights) and what the starting checkpoint carried: its recipe, masks, QAT state."""
    from yolo.checkpoint import CheckpointError, checkpoint_from_object, load_checkpoint, model_from_checkpoint

    start: dict[str, Any] = {}
    try:
        if resume_ck is not None:
            model = model_from_checkpoint(checkpoint_from_object(resume_ck, "resume checkpoint"))
            start.update(own=True, masks=resume_ck.get("masks"), qat=resume_ck.get("qat"))
            return model.train(), start
        weights = a.weights
        _check_init(weights, getattr(a, "init", None))
        if zoo.is_stub(weights):
            weights = str(zoo.resolve_weights(weights, a.recipe))
            say(f"weights: {a.weights} -> {weights}")
        p = Path(weights)
        if p.is_file():
            ckpt = load_checkpoint(p)
            model = model_from_checkpoint(ckpt, nc=data.nc)
            if model.load_report.get("skipped"):
                say(f"weights have nc={ckpt.nc}, the data has nc={data.nc}: Detect head re-initialised "
                    f"({len(model.load_report['skipped'])} tensors not loaded)")
            text = ckpt.checkpoint_recipe or ckpt.recipe
            if text:
                start["old_recipe_text"] = text
                start["old_recipe"] = _compile_quiet(text, say, str(p))
            if ckpt.source == "recipec":
                own = ck.load_checkpoint(p)
                start.update(own=True, masks=own.get("masks"), qat=own.get("qat"))
        else:
            import yolo

            model = yolo.load_model(weights, nc=data.nc)
            say(f"weights: {weights} is not a file; training a freshly initialised {weights}")
    except (CheckpointError, ck.CheckpointError, zoo.ZooError) as e:
        raise StartError(str(e)) from None
    model.names = list(data.names)
    return model.float().train(), start


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


def _compile_quiet(text: str, say, source: str = "the checkpoint") -> Any:
    """The stored recipe, compiled; None (with a warning) when it has errors. A compiler crash on it (the text
    is untrusted input) is a StartError naming the checkpoint, never a traceback."""
    from recipec.frontend import compile_recipe
    from yolo.errtext import first_line

    try:
        res = compile_recipe("<checkpoint recipe>", text=text)
    except Exception as e:  # noqa: BLE001 - any failure of the compiler on this text is reported the same way
        raise StartError(f"the recipe stored in {source} cannot be compiled ({type(e).__name__}: {first_line(e)}); "
                         "start from another checkpoint, or report this with the file") from None
    if res.recipe is None:
        say("warning: the checkpoint's own recipe does not compile; its structure is not re-applied")
    return res.recipe


def hold_checkpoint_masks(masks: dict | None, runtime: Runtime, ctx: Context, model, say) -> None:
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


def apply_checkpoint_qat(qat: dict | None, model, ctx: Context, say) -> None:
    """A checkpoint saved during/after QAT is rebuilt as a QAT model (its structure, SPEC §6.3 apply_structure)
    unless this recipe's QuantizationModifier already did so on resume."""
    from engine.quant import is_qat, prepare_from_state
    from engine.runtime_qat import QatHandle

    if not qat or not qat.get("state") or is_qat(model):
        return
    try:
        prepare_from_state(model, qat["state"])
    except (ValueError, KeyError) as e:
        raise StartError(f"cannot rebuild the checkpoint's QAT state: {e}") from None
    ctx.flags.update(qat=True, qat_handle=QatHandle(model))
    say("the checkpoint was quantization-aware: QAT structure and observers restored; EMA and AMP stay off")
