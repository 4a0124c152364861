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
masks              ``{param name: bool tensor}``: True = kept, False = pruned (empty when nothing is masked)
optimizer          ``optimizer.state_dict()`` or None (stripped)
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
from pathlib import Path
from typing import Any

import torch

FORMAT = "recipec"
FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be written or read; the message is meant for the user."""


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

    A crash or a full disk at any moment leaves either the previous file or the new one, never a torn one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = stamp(payload)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
        if isinstance(exc, OSError):
            raise CheckpointError(f"could not write checkpoint {path}: {exc.strerror or exc}") from None
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


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a recipec checkpoint safely (``weights_only=True``); refuse other formats and newer versions."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable recipec checkpoint: {str(exc).splitlines()[0]}") from None
    if not is_recipec(data):
        raise CheckpointError(f"{path} is not a recipec checkpoint (no format key)")
    if int(data.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format {data['format_version']}, newer than this recipec ({FORMAT_VERSION})"
        )
    return data


def is_recipec(data: Any) -> bool:
    return isinstance(data, dict) and data.get("format") == FORMAT


def strip(data: dict[str, Any]) -> dict[str, Any]:
    """The final form (SPEC §6.5): EMA weights become ``model`` when present; optimizer and EMA dropped."""
    out = dict(data)
    if out.get("ema") is not None:
        out["model"] = out["ema"]
    out.update(ema=None, optimizer=None, updates=0, rng=None)
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
