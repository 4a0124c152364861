"""`--device` strings to a torch device, the same way for every command.

Accepted: `auto` (cuda:0 when CUDA is available, else cpu; the default everywhere), `cpu`, `cuda`, `cuda:N`,
`N` (a CUDA index, as YOLOv5 writes it), `gpu` (= cuda), `mps`. A device this machine lacks is a
`DeviceError` with a one-line message, before torch gets a chance to fail with its own assertion.
"""

from __future__ import annotations

import re

import torch

__all__ = ["DeviceError", "select_device"]


class DeviceError(ValueError):
    """The requested device does not exist here; the message is one line, meant for the user."""


def select_device(spec: str | None = "auto") -> torch.device:
    """The torch device `spec` names (see the module docstring). Raises DeviceError."""
    s = str(spec if spec is not None else "auto").strip().lower()
    if s in ("", "auto"):
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if s == "cpu":
        return torch.device("cpu")
    if s == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise DeviceError(f"--device {spec}: MPS is not available on this machine (use --device cpu)")
        return torch.device("mps")
    m = re.fullmatch(r"(?:cuda|gpu)(?::(\d+))?|(\d+)", s)
    if m is None:
        raise DeviceError(f"--device {spec!r}: expected auto, cpu, cuda, cuda:N or a CUDA index N")
    index = int(m.group(1) or m.group(2) or 0)
    if not torch.cuda.is_available():
        why = "this torch is a CPU-only build" if torch.version.cuda is None else "no CUDA device is visible"
        raise DeviceError(f"--device {spec}: CUDA is not available on this machine ({why}); use --device cpu")
    n = torch.cuda.device_count()
    if index >= n:
        raise DeviceError(f"--device {spec}: no CUDA device {index} (this machine has {n}: 0..{n - 1})")
    return torch.device(f"cuda:{index}")
