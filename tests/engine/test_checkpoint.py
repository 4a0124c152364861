"""Atomic, versioned, safely loaded checkpoints."""

from __future__ import annotations

import os
import random

import pytest
import torch

from engine import checkpoint as ck


def test_roundtrip_and_format(tmp_path):
    p = ck.save_checkpoint(tmp_path / "w" / "last.pt", {"model": {"a": torch.ones(2)}, "step": 3,
                                                         "masks": {"a": torch.tensor([True, False])}})
    d = ck.load_checkpoint(p)
    assert d["format"] == "recipec" and d["format_version"] == ck.FORMAT_VERSION and d["step"] == 3
    assert torch.equal(d["masks"]["a"], torch.tensor([True, False]))
    assert not [f for f in os.listdir(p.parent) if f.endswith(".tmp")]


def test_failed_write_keeps_previous(tmp_path, monkeypatch):
    p = ck.save_checkpoint(tmp_path / "last.pt", {"step": 1})

    def boom(obj, fh):
        fh.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(ck.CheckpointError, match="cannot write .*last.pt: no space left on device"):
        ck.save_checkpoint(p, {"step": 2})
    monkeypatch.undo()
    assert ck.load_checkpoint(p)["step"] == 1
    assert os.listdir(tmp_path) == ["last.pt"]


def test_refuses_foreign_and_torn(tmp_path):
    torch.save({"model": {}}, tmp_path / "plain.pt")
    with pytest.raises(ck.CheckpointError, match="not a recipec checkpoint"):
        ck.load_checkpoint(tmp_path / "plain.pt")
    (tmp_path / "torn.pt").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ck.CheckpointError, match="not a readable"):
        ck.load_checkpoint(tmp_path / "torn.pt")
    with pytest.raises(ck.CheckpointError, match="not found"):
        ck.load_checkpoint(tmp_path / "missing.pt")


def test_newer_version_refused(tmp_path):
    torch.save({"format": "recipec", "format_version": 99}, tmp_path / "new.pt")
    with pytest.raises(ck.CheckpointError, match="newer"):
        ck.load_checkpoint(tmp_path / "new.pt")


def test_rng_roundtrip(tmp_path):
    import numpy as np

    state = ck.rng_state()
    a = (torch.rand(3), random.random(), np.random.rand())
    ck.save_checkpoint(tmp_path / "r.pt", {"rng": state})
    ck.set_rng_state(ck.load_checkpoint(tmp_path / "r.pt")["rng"])
    b = (torch.rand(3), random.random(), np.random.rand())
    assert torch.equal(a[0], b[0]) and a[1:] == b[1:]


def test_strip_uses_ema():
    d = ck.strip({"model": {"w": torch.ones(2)}, "ema": {"w": torch.full((2,), 2.0)}, "optimizer": {"x": 1}})
    assert torch.equal(d["model"]["w"], torch.full((2,), 2.0, dtype=torch.half))
    assert d["ema"] is None and d["optimizer"] is None
