"""Hostile checkpoints are refused cleanly and cheaply: module graphs that repeat a child, huge declared
models, empty / random / oversized files, zips whose records declare more than they hold."""

from __future__ import annotations

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


def _declare(path, src, numel: int, deflate: bool = False) -> None:
    """Copy the torch zip `src` (a 250,000-float tensor) to `path`, its pickle declaring `numel` floats; stored:
    the data record's sizes in the zip headers say numel * 4 bytes (the data stays 1 MB); deflate: the record
    really is numel * 4 zero bytes, compressed."""
    with zipfile.ZipFile(src) as z:
        records = {n: z.read(n) for n in z.namelist()}
    data = next(n for n in records if n.endswith("/data/0"))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED) as z:
        for n, b in records.items():
            if n.endswith("data.pkl"):
                b = b.replace(struct.pack("<I", 250_000), struct.pack("<I", numel))
            if n == data and deflate:
                with z.open(n, "w", force_zip64=True) as fh:
                    for _ in range(numel * 4 >> 20):
                        fh.write(bytes(1 << 20))
            else:
                z.writestr(n, b)
    if deflate:
        return
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(data)
    size = struct.pack("<II", numel * 4, numel * 4)
    raw[info.header_offset + 18:info.header_offset + 26] = size  # local header
    pos = raw.index(b"PK\x01\x02")  # the central directory entries
    while pos >= 0:
        n = struct.unpack_from("<H", raw, pos + 28)[0]
        if raw[pos + 46:pos + 46 + n] == data.encode():
            raw[pos + 20:pos + 28] = size
        pos = raw.find(b"PK\x01\x02", pos + 4)
    path.write_bytes(raw)


def test_zip_records_declaring_more_than_the_file_holds_are_refused_from_the_directory(tmp_path, monkeypatch):
    from engine.checkpoint import CheckpointError as RecipecError, load_checkpoint as load_recipec

    torch.save({"w": torch.zeros(250_000)}, tmp_path / "w.pt")
    _declare(tmp_path / "big.pt", tmp_path / "w.pt", 750_000_000)  # a 1 MB file whose record says 3 GB
    _declare(tmp_path / "bomb.pt", tmp_path / "w.pt", 16 << 20, deflate=True)  # 64 MiB of zeros in ~64 KiB
    assert (tmp_path / "big.pt").stat().st_size < 2 << 20 and (tmp_path / "bomb.pt").stat().st_size < 1 << 20
    opened = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: opened.append(name) or 1 / 0)
    for name in ("big.pt", "bomb.pt"):
        with pytest.raises(CheckpointError, match=r"record .*/data/0 declares \d+ bytes, more than the"):
            load_checkpoint(tmp_path / name)
        with pytest.raises(RecipecError, match=r"declares \d+ bytes"):  # checked before torch.load reads it
            load_recipec(tmp_path / name)
    assert opened == []  # no record was read


def test_total_declared_size_is_bounded(tmp_path, monkeypatch):
    import yolo.safe_pickle as sp

    torch.save({"w": torch.zeros(250_000)}, tmp_path / "w.pt")
    monkeypatch.setattr(sp, "MAX_DECLARED_BYTES", 500_000)
    with pytest.raises(CheckpointError, match=r"declare \d+ bytes, over the"):
        load_checkpoint(tmp_path / "w.pt")


def test_non_zip_files_are_refused_after_their_first_bytes(tmp_path, monkeypatch):
    from engine.checkpoint import CheckpointError as RecipecError, load_checkpoint as load_recipec

    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "random.pt").write_bytes(bytes(range(256)) * 16)
    with open(tmp_path / "sparse.pt", "wb") as fh:  # a big sparse file (the attack used 3 GiB)
        fh.truncate(256 << 20)
    reads = []
    real_open = open

    class Counting:
        def __init__(self, fh):
            self.fh = fh

        def read(self, n=-1):
            b = self.fh.read(n)
            reads.append(len(b))
            return b

        def __getattr__(self, k):
            return getattr(self.fh, k)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    monkeypatch.setattr("pathlib.Path.open", lambda self, mode="r", *a, **k: Counting(real_open(self, mode)))
    monkeypatch.setattr("pathlib.Path.read_bytes", lambda self: 1 / 0)  # never read a whole file
    for name in ("empty.pt", "random.pt", "sparse.pt"):
        reads.clear()
        with pytest.raises(CheckpointError, match="not a torch zip"):
            load_checkpoint(tmp_path / name)
        assert sum(reads) <= 4, (name, reads)
        with pytest.raises(RecipecError, match="not a torch zip"):  # was IndexError on the empty file
            load_recipec(tmp_path / name)


BASE = {"depth_multiple": 0.33, "width_multiple": 0.25}


@pytest.mark.parametrize("meta, msg", [
    ({"nc": 10**9}, r"nc must be in \[1, 10000\], got 1000000000"),
    ({"nc": -3}, r"nc must be in \[1, 10000\]"),
    ({"nc": float("inf"), "epoch": float("nan")}, "cannot infer nc"),  # was OverflowError
    ({"cfg": {**BASE, "depth_multiple": 1e6}}, r"depth_multiple must be in \(0, 4\], got 1e\+06"),
    ({"cfg": {**BASE, "width_multiple": 400}}, r"width_multiple must be in \(0, 4\], got 400"),
    ({"cfg": {**BASE, "width_multiple": -1}}, r"width_multiple must be in \(0, 4\]"),
    ({"cfg": {**BASE, "depth_multiple": float("nan")}}, r"depth_multiple must be in \(0, 4\], got nan"),
    ({"cfg": {**BASE, "width_multiple": float("inf")}}, r"width_multiple must be in \(0, 4\], got inf"),
    ({"cfg": {"depth_multiple": 4, "width_multiple": 4}}, r"about \d+M parameters, over the 500M limit"),
    ({"format": "sparseml", "yaml": {**BASE, "nc": 10**12}, "nc": None}, r"nc must be in \[1, 10000\]"),
])
def test_huge_model_metadata_is_refused_before_anything_is_built(tmp_path, monkeypatch, meta, msg):
    from yolo import model as yolo_model

    def no_build(*_a, **_k):
        raise AssertionError("a model was built")

    monkeypatch.setattr(yolo_model.YoloModel, "__init__", no_build)
    payload = {"format": "recipec", "model": {"model.0.conv.weight": torch.zeros(1)}, "nc": 2, "cfg": "yolov5n"}
    payload.update(meta)
    torch.save(payload, tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match=msg):
        load_model(tmp_path / "m.pt")
