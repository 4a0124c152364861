"""Reading YOLOv5 checkpoints safely, and `load_model`.

Accepted files (all read by `yolo.safe_pickle`, never by `torch.load(weights_only=False)`):
- ultralytics / SparseZoo `.pt`: `{"model": Model, "ema": Model|None, "epoch", ...}` with pickled
  module objects; the EMA model is used when present (as ultralytics does), else `model`;
- recipec checkpoints: `{"format": "recipec", "model": state_dict, "nc", "names", "cfg", ...}`
  (written by `engine.checkpoint`);
- a `{"model": state_dict, ...}` dict or a plain state dict with ultralytics keys.
Floating tensors come back as fp32.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from yolo.arch import SCALES, ArchError, cfg_name, make_divisible, resolve, scale_of
from yolo.safe_pickle import CheckpointError, Inert, load_pickle_zip

__all__ = ["Checkpoint", "CheckpointError", "load_checkpoint", "load_model", "model_from_checkpoint"]

DETECT = "model.24"
MAX_MODULE_DEPTH = 32  # nesting of pickled modules (a YOLOv5 has 7 levels)


@dataclass
class Checkpoint:
    """What a checkpoint holds, in plain values. `state_dict` has ultralytics keys, fp32 floats."""

    state_dict: dict[str, torch.Tensor]
    nc: int | None = None
    names: list[str] | None = None
    stride: list[float] | None = None
    anchors: torch.Tensor | None = None  # (nl, na, 2), grid units, when the checkpoint has them
    yaml: dict | None = None  # the ultralytics model config dict, when present
    cfg: str | dict | None = None  # recipec checkpoints: the cfg name or dict
    recipe: str | None = None
    checkpoint_recipe: str | None = None
    intermediate_recipe: str | None = None  # SparseML: the composed recipe of a non-final epoch
    epoch: int | None = None
    source: str = "state_dict"  # "ultralytics" | "recipec" | "state_dict"
    extra: dict = field(default_factory=dict)  # other top-level scalar / string entries


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint file without importing or running anything it names. Raises CheckpointError."""
    return checkpoint_from_file_object(read_checkpoint_object(path), path)


def read_checkpoint_object(path: str | Path):
    """The unpickled content of a checkpoint file (model classes as inert stand-ins), for callers that need more
    of it than a :class:`Checkpoint` keeps; read once, then ``checkpoint_from_file_object``."""
    path = Path(path)
    try:
        with path.open("rb") as fh:  # read record by record: the zip directory is checked first
            return load_pickle_zip(fh, str(path))
    except OSError as e:
        raise CheckpointError(f"cannot read checkpoint {path}: {e.strerror or e}") from None


def checkpoint_from_file_object(obj, path: str | Path) -> Checkpoint:
    """``checkpoint_from_object`` for the content of the file `path`; malformed content is a CheckpointError."""
    path = Path(path)
    try:
        return checkpoint_from_object(obj, str(path))
    except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"{path}: malformed checkpoint ({type(e).__name__}: {e})") from None


def checkpoint_from_object(obj, source: str = "checkpoint") -> Checkpoint:
    """Interpret an unpickled checkpoint object (see the module docstring for the accepted layouts)."""
    if isinstance(obj, Inert):  # a pickled Model saved on its own
        obj = {"model": obj}
    if not isinstance(obj, dict):
        raise CheckpointError(f"{source}: unexpected checkpoint content ({type(obj).__name__})")
    if _is_state_dict(obj):
        return Checkpoint(_float_state(obj, source))
    if obj.get("format") == "recipec":
        sd = obj.get("model")
        if not isinstance(sd, dict) or not _is_state_dict(sd):
            raise CheckpointError(f"{source}: recipec checkpoint without a `model` state dict")
        cfg = obj.get("cfg")
        return Checkpoint(_float_state(sd, source), nc=_opt_int(obj.get("nc")), names=_names(obj.get("names")),
                          cfg=cfg if isinstance(cfg, (str, dict)) else None,
                          recipe=_opt_str(obj.get("recipe")),
                          checkpoint_recipe=_opt_str(obj.get("checkpoint_recipe")),
                          epoch=_opt_int(obj.get("epoch")), source="recipec", extra=_scalars(obj))
    model = obj.get("ema") if obj.get("ema") is not None else obj.get("model")
    top = dict(
        recipe=_opt_str(obj.get("recipe")), checkpoint_recipe=_opt_str(obj.get("checkpoint_recipe")),
        intermediate_recipe=_opt_str(obj.get("intermediate_recipe")), epoch=_opt_int(obj.get("epoch")),
        extra=_scalars(obj),
    )
    if isinstance(model, dict) and _is_state_dict(model):  # e.g. SparseML-style {"model": state_dict, "yaml"}
        yaml = obj.get("yaml") if isinstance(obj.get("yaml"), dict) else None
        nc = _opt_int(obj.get("nc")) or (_opt_int(yaml.get("nc")) if yaml else None)
        return Checkpoint(_float_state(model, source), nc=nc, names=_names(obj.get("names")), yaml=yaml,
                          source="ultralytics", **top)
    if not isinstance(model, Inert):
        raise CheckpointError(f"{source}: no model found (expected a `model` entry holding a YOLOv5 model "
                              "or a state dict)")
    st = model.state if isinstance(model.state, dict) else {}
    sd = _float_state(_module_state(model, "", source), source)
    yaml = st.get("yaml") if isinstance(st.get("yaml"), dict) else None
    nc = _opt_int(st.get("nc")) or (_opt_int(yaml.get("nc")) if yaml else None)
    stride = st.get("stride")
    return Checkpoint(sd, nc=nc, names=_names(st.get("names")), yaml=yaml,
                      stride=[float(s) for s in stride.tolist()] if isinstance(stride, torch.Tensor) else None,
                      anchors=sd.get(f"{DETECT}.anchors"), source="ultralytics", **top)


def _module_state(module: Inert, prefix: str, source: str, seen: dict[int, str] | None = None,
                  depth: int = 0) -> dict[str, torch.Tensor]:
    """Walk a pickled nn.Module's `_parameters`, `_buffers` (persistent ones) and `_modules` the way
    `nn.Module.state_dict` does, producing the same keys.

    Linear in the pickle's size: every module object is visited once (`seen`: id -> its key prefix); a module
    listed twice (shared or cyclic submodules, which no YOLOv5 has) is refused, and so is nesting deeper than
    `MAX_MODULE_DEPTH` (a YOLOv5 is 7 levels deep)."""
    where = prefix[:-1] or "<root>"
    where = where if len(where) <= 60 else "..." + where[-57:]
    seen = {} if seen is None else seen
    if id(module) in seen:
        raise CheckpointError(f"{source}: module {where} is the same object as {seen[id(module)]}: shared or "
                              "cyclic submodules are not supported")
    if depth > MAX_MODULE_DEPTH:
        raise CheckpointError(f"{source}: modules nested deeper than {MAX_MODULE_DEPTH} levels at {where}; "
                              "is this a YOLOv5 checkpoint?")
    seen[id(module)] = where
    st = module.state
    if not isinstance(st, dict):
        raise CheckpointError(f"{source}: module {where} ({module.pickle_name}) has no state")
    out: dict[str, torch.Tensor] = {}
    skip = st.get("_non_persistent_buffers_set") or set()
    for group in ("_parameters", "_buffers", "_modules"):
        if not isinstance(st.get(group) or {}, dict):
            raise CheckpointError(f"{source}: module {where} has a malformed {group}")
    for group in ("_parameters", "_buffers"):
        for name, t in (st.get(group) or {}).items():
            if t is None or (group == "_buffers" and name in skip):
                continue
            if not isinstance(t, torch.Tensor):
                raise CheckpointError(f"{source}: {prefix}{name} is not a tensor")
            out[f"{prefix}{name}"] = t
    for name, child in (st.get("_modules") or {}).items():
        if child is None:
            continue
        if not isinstance(child, Inert):
            raise CheckpointError(f"{source}: submodule {prefix}{name} is not a module")
        out.update(_module_state(child, f"{prefix}{name}.", source, seen, depth + 1))
    return out


def _is_state_dict(d: dict) -> bool:
    return bool(d) and all(isinstance(k, str) for k in d) and all(isinstance(v, torch.Tensor) for v in d.values())


def _float_state(sd: dict, source: str) -> dict[str, torch.Tensor]:
    """Copy tensors out of the zip's buffers; floating ones (fp16, bf16, fp64) become fp32."""
    out = {}
    for k, v in sd.items():
        if not isinstance(k, str) or not isinstance(v, torch.Tensor):
            raise CheckpointError(f"{source}: state dict entry {k!r} is not a named tensor")
        out[k] = v.to(torch.float32).clone() if v.is_floating_point() else v.clone()
    return out


def _names(raw) -> list[str] | None:
    if isinstance(raw, dict):
        try:
            return [str(raw[k]) for k in sorted(raw, key=int)]
        except (TypeError, ValueError):
            return None
    if isinstance(raw, (list, tuple)):
        return [str(n) for n in raw]
    return None


def _opt_int(v) -> int | None:
    if isinstance(v, float) and math.isfinite(v):
        return int(v)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _opt_str(v) -> str | None:
    return v if isinstance(v, str) else None


def _scalars(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, (str, int, float, bool))}


# ---------------------------------------------------------------------------------------------- models


def infer_cfg(sd: dict[str, torch.Tensor]) -> str:
    """The bundled configuration (scale and layout) whose stem width and first-C3 depth match the
    state dict: `model.0.conv.weight` is the v6 stem, `model.0.conv.conv.weight` the v5.0 Focus stem."""
    layout = "v5" if "model.0.conv.conv.weight" in sd else "v6"
    w0 = sd.get("model.0.conv.conv.weight" if layout == "v5" else "model.0.conv.weight")
    if w0 is None or w0.dim() != 4:
        raise CheckpointError("state dict has no `model.0.conv.weight`; is this a YOLOv5 checkpoint?")
    depth = len({k.split(".")[3] for k in sd if k.startswith("model.2.m.") and k.endswith("cv1.conv.weight")})
    for scale, (gd, gw) in SCALES.items():
        if make_divisible(64 * gw) == w0.shape[0] and resolve(scale).layers[2].repeats == depth:
            return cfg_name(scale, layout)
    raise CheckpointError(f"state dict does not match a YOLOv5 n/s/m/l/x model (first conv has "
                          f"{w0.shape[0]} channels, first C3 has {depth} bottlenecks)")


def _infer_nc(sd: dict[str, torch.Tensor]) -> int:
    w = sd.get(f"{DETECT}.m.0.weight")
    a = sd.get(f"{DETECT}.anchors")
    na = a.shape[1] if a is not None and a.dim() == 3 else 3
    if w is None or w.shape[0] % na or w.shape[0] // na <= 5:
        raise CheckpointError(f"cannot infer nc: no usable `{DETECT}.m.0.weight`")
    return w.shape[0] // na - 5


def model_from_checkpoint(ckpt: Checkpoint, *, nc: int | None = None, cfg: str | dict | None = None):
    """Build a `YoloModel` for `ckpt` and load its weights.

    With `nc` equal to the checkpoint's (or None), every tensor must match. With a different `nc`
    (transfer learning), all tensors except Detect's output convs are loaded; those keep the fresh
    init with YOLOv5's bias priors. `model.load_report` lists what was not loaded.
    """
    from yolo.model import build_model

    # v5.0 Detect also saved `anchor_grid` (anchors in pixels): derivable, so not a model tensor here.
    sd = {k: v for k, v in ckpt.state_dict.items() if k != f"{DETECT}.anchor_grid"}
    if ckpt.stride is not None and [float(s) for s in ckpt.stride] != [8.0, 16.0, 32.0]:
        raise CheckpointError(f"checkpoint strides {ckpt.stride} differ from the bundled [8, 16, 32]")
    qat = next((k for k in sd if "fake_quant" in k or "activation_post_process" in k), None)
    if qat is not None:
        raise CheckpointError(f"the checkpoint holds quantization-aware (QAT) state (e.g. {qat}); loading "
                              "SparseML QAT modules is not supported: start from a dense or pruned checkpoint")
    ck_nc = ckpt.nc or _infer_nc(sd)
    if cfg is None:
        cfg = ckpt.cfg or ckpt.yaml or infer_cfg(sd)
    act = ckpt.yaml.get("activation") if ckpt.yaml else None
    if act is not None and "SiLU" not in str(act):
        raise CheckpointError(f"the checkpoint's model uses activation {act!r}; only SiLU is bundled")
    target_nc = ck_nc if nc is None else int(nc)
    names = ckpt.names if target_nc == ck_nc and ckpt.names and len(ckpt.names) == ck_nc else None
    try:
        model = build_model(cfg, nc=target_nc, names=names)
    except (ArchError, ValueError) as e:
        raise CheckpointError(f"cannot build the checkpoint's model: {e}") from None
    own = model.state_dict()
    skipped: list[str] = []
    load = {}
    for k, v in sd.items():
        if k not in own:
            raise CheckpointError(f"checkpoint tensor {k} has no place in a {model.arch.name} model")
        if tuple(v.shape) != tuple(own[k].shape):
            if target_nc != ck_nc and k.startswith(f"{DETECT}.m."):
                skipped.append(k)
                continue
            raise CheckpointError(f"checkpoint tensor {k} has shape {tuple(v.shape)}, the {model.arch.name} "
                                  f"model (nc={target_nc}) expects {tuple(own[k].shape)}")
        load[k] = v
    missing = [k for k in own if k not in load and k not in skipped]
    if missing and not (target_nc != ck_nc and all(k.startswith(f"{DETECT}.m.") for k in missing)):
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise CheckpointError(f"checkpoint lacks {len(missing)} tensors of the model: {shown}")
    model.load_state_dict(load, strict=False)
    model.load_report = {"skipped": skipped, "missing": missing, "source": ckpt.source}
    model.recipe = ckpt.recipe
    model.checkpoint_recipe = ckpt.checkpoint_recipe
    model.intermediate_recipe = ckpt.intermediate_recipe
    return model


def load_model(path_or_name: str | Path, *, nc: int | None = None, device: str | torch.device = "cpu"):
    """Load a YOLOv5 from a checkpoint file (see module docstring) in eval mode, fp32, on `device`.

    A bare scale name with no such file ("yolov5s", "yolov5n") builds a fresh, randomly initialised
    model. Nothing is ever downloaded: a missing `yolov5s.pt` is an error.
    """
    p = Path(path_or_name)
    if p.is_file():
        model = model_from_checkpoint(load_checkpoint(p), nc=nc)
    elif p.suffix == "" and not p.parent.parts:
        from yolo.model import build_model

        try:
            scale_of(str(path_or_name))
        except ArchError as e:
            raise CheckpointError(f"{path_or_name}: no such file, and {e}") from None
        model = build_model(str(path_or_name), nc=80 if nc is None else nc)
    else:
        raise CheckpointError(f"checkpoint not found: {p} (nothing is downloaded; pass the path of a .pt file)")
    return model.to(device).float().eval()
