"""recipec training checkpoints: one versioned dict, written atomically, loaded with ``weights_only=True``.

Format (``format_version`` 1). Every value is a tensor, a plain container or a scalar, so
``torch.load(path, weights_only=True)`` reads it without unpickling any class:

=================  ==========================================================================================
key                value
=================  ==========================================================================================
format             ``"recipec"``
format_version     ``1``
model              float state dict with ultralytics names (``model.0.conv.weight`` ...), fp32, CPU. During
                   QAT these are the trained float weights (BN not folded); fake-quant state is in ``qat``.
                   Stripped final checkpoints hold the EMA weights here when the EMA was active.
ema                EMA state dict (same names) or None (disabled by QAT, or stripped)
updates            EMA update count (int)
masks              ``{param name: bool tensor}``: True = kept, False = pruned (empty when nothing is masked);
                   stripped files store them as ``masks_packed`` (``pack_masks``: bits), and
                   ``load_checkpoint`` unpacks them into ``masks`` again
optimizer          ``optimizer.state_dict()`` or None (stripped)
runtime            modifier-runtime state for resume, or None (stripped)
stripped           True once :func:`strip` wrote the final form (``model`` FP16 unless QAT; not resumable)
step               optimizer steps done = the index of the next step to run (int)
epoch              epochs completed (int); ``finished`` True once training ended
epoch_float        ``step / steps_per_epoch`` (float), ``steps_per_epoch`` (int)
recipe             the recipe text applied by this run (or None), ``recipe_sha256``, ``recipe_path``
checkpoint_recipe  the recipe whose structure the weights already carry (a recipe the starting checkpoint
                   carried, or this run's recipe once finished), or None
plan_version       the plan format version the schedule came from
qat                None, or ``{"started": bool, "state": {...}, ...}`` from ``engine.quant`` (observer ranges,
                   fake-quant flags) -- enough to rebuild the QAT model and continue
names, nc, cfg     class names (list[str]), class count, model cfg (name or dict)
phase              ``dense`` / ``pruned`` / ``quantized`` / ``pruned_quantized``
best_fitness       float; ``sparsity``: ``{param name: fraction of zeros}``
hyp, args          hyperparameters and CLI arguments (plain dicts)
rng                RNG states for exact resume (``torch`` ByteTensor, ``python`` list, ``numpy`` tensor)
date, recipec      ISO time of writing, package version
=================  ==========================================================================================

``yolo.load_model`` reads ``model`` (and ``nc``, ``names``, ``cfg``) from files with ``format == "recipec"``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import pickle
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

FORMAT = "recipec"
FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be written or read; the message is meant for the user."""


@dataclass
class RunRecord:
    """What every checkpoint of one run records besides the training state: the keys of the same names above
    (``args``: the run's arguments as plain values, what ``--resume`` restores)."""

    names: list[str] = field(default_factory=list)
    nc: int | None = None
    cfg: str | dict | None = None
    hyp: dict[str, Any] = field(default_factory=dict)
    args: dict[str, Any] = field(default_factory=dict)
    recipe: str | None = None
    recipe_sha256: str | None = None
    recipe_path: str | None = None
    checkpoint_recipe: str | None = None
    plan_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sha256_text(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def stamp(payload: dict[str, Any]) -> dict[str, Any]:
    """Add the format keys, the date and the package version."""
    out = {"format": FORMAT, "format_version": FORMAT_VERSION}
    out.update(payload)
    out["date"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    out["recipec"] = _version()
    return out


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("recipec")
    except Exception:
        return "0+unknown"


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (stamped) to ``path`` atomically: temp file in the same folder, fsync, rename.

    A crash or a full disk at any moment leaves either the previous file or the new one, never a torn one (a
    kill -9 can leave a ``.NAME.*.tmp`` beside it: ``remove_stale_temps``). A failed write is a CheckpointError
    ``cannot write PATH: REASON``.
    """
    path = Path(path)
    data = stamp(payload)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        from engine.run_dir import write_error

        raise CheckpointError(write_error(exc, path)) from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as fh:
            torch.save(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, (OSError, RuntimeError)):  # torch's writer raises RuntimeError on a full disk
            from engine.run_dir import write_error

            raise CheckpointError(write_error(exc, path)) from None
        raise
    try:  # make the rename durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete the temp files of saves a crash (kill -9) interrupted in ``folder``; returns what was removed.
    Only for a folder no other process is saving into (a run being resumed)."""
    out = []
    for p in Path(folder).glob(".*.pt.*.tmp"):
        try:
            p.unlink()
            out.append(p)
        except OSError:
            pass
    return out


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a recipec checkpoint safely (``weights_only=True``); refuse other formats and newer versions."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    from yolo.errtext import first_line
    from yolo.safe_pickle import CheckpointError as ZipError, open_torch_zip

    try:
        with path.open("rb") as fh:  # the zip directory's declared sizes are checked before torch reads a record
            open_torch_zip(fh, str(path)).close()
        data = torch.load(path, map_location="cpu", weights_only=True)
    except ZipError as exc:
        raise CheckpointError(f"{path} is not a readable recipec checkpoint: {str(exc).removeprefix(f'{path}: ')}") \
            from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable recipec checkpoint: {first_line(exc)}") from None
    return checked(data, path)


def checked(data: Any, path: str | Path) -> dict[str, Any]:
    """The content of a recipec checkpoint file, however it was read, checked (format and version) and with its
    packed masks unpacked; raises CheckpointError."""
    if not is_recipec(data):
        raise CheckpointError(f"{path} is not a recipec checkpoint (no format key)")
    if not isinstance(data.get("format_version", 0), int):
        raise CheckpointError(f"{path} has a malformed format_version")
    if data.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format {data['format_version']}, newer than this recipec ({FORMAT_VERSION})"
        )
    if data.get("masks_packed") and not data.get("masks"):  # a stripped file: masks as bool tensors again
        data["masks"] = unpack_masks(data["masks_packed"])
    return data


def is_recipec(data: Any) -> bool:
    return isinstance(data, dict) and data.get("format") == FORMAT


def strip(data: dict[str, Any]) -> dict[str, Any]:
    """The final form (SPEC §6.5), as YOLOv5's ``strip_optimizer``: EMA weights become ``model`` when present;
    optimizer, EMA, RNG and modifier-runtime state dropped (a stripped run cannot be resumed); masks packed to
    bits; ``model`` in FP16 unless the checkpoint is quantization-aware. Idempotent.

    FP16 keeps every pruned zero exactly zero (and the masks are stored beside the weights anyway). A QAT
    checkpoint keeps FP32: its int8 weights are ``round(w * f / scale)`` of these exact values, and FP16 rounding
    would move about 1 % of them by one step, so the export would no longer be the model that was validated.
    """
    out = dict(data)
    if out.get("ema") is not None:
        out["model"] = out["ema"]
    if not out.get("qat"):
        out["model"] = {k: _half_if_safe(v) for k, v in out["model"].items()}
    masks = out.get("masks") or {}
    if masks:
        out["masks_packed"] = pack_masks(masks)
    out.update(ema=None, optimizer=None, updates=0, rng=None, runtime=None, masks={}, stripped=True)
    return out


def strip_checkpoint(path: str | Path, **extra: Any) -> Path:
    """Rewrite the checkpoint at ``path`` in its stripped form (:func:`strip`), with ``extra`` keys set.
    Idempotent: stripping a stripped file gives the same content. Atomic, as every save."""
    d = load_checkpoint(path)
    d.update(extra)
    return save_checkpoint(path, strip(d))


def _half_if_safe(v: torch.Tensor) -> torch.Tensor:
    """FP16 for a floating tensor whose values fit (|x| < 65504); anything else unchanged."""
    if not v.is_floating_point() or v.dtype == torch.float16:
        return v
    h = v.half()
    return h if bool(torch.isfinite(h).all()) or not bool(torch.isfinite(v).all()) else v


def pack_masks(masks: dict[str, torch.Tensor]) -> dict[str, dict[str, Any]]:
    """``{name: bool tensor}`` -> ``{name: {"shape": [...], "bits": uint8 tensor}}`` (8 mask entries a byte)."""
    import numpy as np

    return {n: {"shape": list(m.shape), "bits": torch.from_numpy(np.packbits(m.bool().reshape(-1).numpy()))}
            for n, m in masks.items()}


def unpack_masks(packed: dict[str, dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Inverse of :func:`pack_masks`."""
    import math

    import numpy as np

    out = {}
    for n, p in packed.items():
        shape = [int(x) for x in p["shape"]]
        bits = np.unpackbits(p["bits"].numpy(), count=math.prod(shape))
        out[n] = torch.from_numpy(bits.astype(bool)).reshape(shape)
    return out


def rng_state() -> dict[str, Any]:
    """Torch, Python and NumPy RNG states in weights-only-loadable form."""
    import random

    import numpy as np

    py = random.getstate()
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "python": [py[0], list(py[1]), py[2]],
        "numpy": [str(np_state[0]), torch.from_numpy(np_state[1].astype("int64")), int(np_state[2]),
                  int(np_state[3]), float(np_state[4])],
    }


def set_rng_state(state: dict[str, Any] | None) -> None:
    """Restore what :func:`rng_state` saved (no-op on None)."""
    if not state:
        return
    import random

    import numpy as np

    torch.set_rng_state(state["torch"])
    v, internal, gauss = state["python"]
    random.setstate((v, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype("uint32"), pos, has_gauss, cached))
