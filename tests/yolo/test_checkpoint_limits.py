"""Hostile checkpoints are refused cleanly and cheaply: module graphs that repeat a child, huge declared
models, empty / random / oversized files, zips whose records declare more than they hold."""

from __future__ import annotations

import math
import struct
import zipfile

import pytest
import torch
from torch import nn

from yolo.checkpoint import CheckpointError, load_checkpoint, load_model


def _chain(levels: int, twice: bool) -> nn.Module:
    child: nn.Module = nn.Identity()
    for _ in range(levels):
        parent = nn.Sequential()
        parent._modules["a"] = child
        if twice:
            parent._modules["b"] = child  # the same object listed twice: 2**levels paths
        child = parent
    return child


def test_module_listed_twice_40_levels_deep_is_refused_at_once(tmp_path):
    torch.save({"model": _chain(40, twice=True)}, tmp_path / "dup.pt")
    # Before: the walk visited every path (2**40 modules) and never returned.
    with pytest.raises(CheckpointError, match=r"shared or cyclic|nested deeper"):
        load_checkpoint(tmp_path / "dup.pt")
    torch.save({"model": _chain(3, twice=True)}, tmp_path / "dup3.pt")
    with pytest.raises(CheckpointError, match=r"module a\.a\.b is the same object as a\.a\.a: shared or cyclic"):
        load_checkpoint(tmp_path / "dup3.pt")


def test_module_nesting_is_bounded(tmp_path):
    torch.save({"model": _chain(60, twice=False)}, tmp_path / "deep.pt")
    with pytest.raises(CheckpointError, match="nested deeper than 32 levels"):
        load_checkpoint(tmp_path / "deep.pt")
