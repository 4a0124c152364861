"""yolo: the bundled YOLOv5 (our own code, written from the published architecture).

Imports are lazy so that torch-free users (`yolo.names`, `yolo.arch`, the front end's lint) do not
pay for `import torch`: `yolo.build_model` / `yolo.load_model` / `yolo.YoloModel` resolve on access.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "build_model": ("yolo.model", "build_model"),
    "YoloModel": ("yolo.model", "YoloModel"),
    "load_model": ("yolo.checkpoint", "load_model"),
    "load_checkpoint": ("yolo.checkpoint", "load_checkpoint"),
    "CheckpointError": ("yolo.checkpoint", "CheckpointError"),
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'yolo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
