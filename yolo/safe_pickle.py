"""A restricted unpickler for torch zip checkpoints (`torch.save` format, ultralytics / SparseZoo `.pt`).

Why not `torch.load`: ultralytics checkpoints pickle whole model objects (`models.yolo.Model`,
`models.common.C3`, ...), so `torch.load(weights_only=False)` would import — and could execute —
whatever the file names. Here every global the pickle references is looked up in a fixed allowlist:

- model classes (ultralytics' and the torch.nn modules they contain) become *inert stand-ins*:
  instances of a fresh `Inert` subclass that only record the state they are given;
- tensor rebuild functions, storage types, dtypes, `OrderedDict`, `set`, `torch.Size` map to our own
  small functions that build plain tensors from the zip's `data/<key>` records;
- anything else raises `CheckpointError` naming the global. Nothing is imported, no foreign
  `__reduce__` callable is ever called.

Reading is bounded before anything is allocated (`open_torch_zip`): a file that does not start like a zip is
refused after its first 4 bytes; the zip directory's declared record sizes are checked against the file (stored
records), a ratio (compressed records) and `MAX_DECLARED_BYTES` in all; each record is read once, into a buffer
of its declared size.
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
import zlib
from typing import BinaryIO

import torch

MAX_DECLARED_BYTES = 4 << 30  # all records of one checkpoint, uncompressed (yolov5x + EMA + optimizer: ~1 GB)
MAX_COMPRESSION_RATIO = 200  # a compressed record may declare this many times its compressed size (+ 1 MiB)
ZIP_MAGIC = b"PK\x03\x04"  # torch.save's zip starts with a local file header


class CheckpointError(ValueError):
    """A checkpoint that cannot be read safely or does not fit the model; the message is for the user."""


class Inert:
    """Stand-in for a pickled object of an allowed class: keeps `state`, does nothing else."""

    pickle_name = "?"
    args: tuple = ()
    state = None

    def __init__(self, *args, **kwargs) -> None:  # REDUCE / NEWOBJ with arguments: record only
        self.args = args
        self.state = None

    def __setstate__(self, state) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<inert {self.pickle_name}>"


def _inert_class(module: str, name: str) -> type:
    return type(name, (Inert,), {"pickle_name": f"{module}.{name}", "__module__": __name__})


# Ultralytics YOLOv5 classes and the torch.nn modules a v6 model holds, mapped to inert stand-ins.
_MODEL_CLASSES = {
    ("models.yolo", "Model"), ("models.yolo", "DetectionModel"), ("models.yolo", "Detect"),
    ("models.common", "Conv"), ("models.common", "C3"), ("models.common", "Bottleneck"),
    ("models.common", "SPPF"), ("models.common", "Concat"),
} | {("torch.nn.modules." + m, c) for m, c in (
    ("activation", "SiLU"), ("activation", "ReLU"), ("activation", "LeakyReLU"), ("activation", "Hardswish"),
    ("activation", "Sigmoid"), ("conv", "Conv2d"), ("batchnorm", "BatchNorm2d"), ("upsampling", "Upsample"),
    ("pooling", "MaxPool2d"), ("container", "ModuleList"), ("container", "Sequential"), ("linear", "Identity"),
    ("dropout", "Dropout"),
)} | {
    # numpy scalars / arrays (e.g. `best_fitness` of training checkpoints): kept inert, never rebuilt.
    (m, c) for m in ("numpy.core.multiarray", "numpy._core.multiarray") for c in ("_reconstruct", "scalar")
} | {("numpy", "ndarray"), ("numpy", "dtype")}

_STORAGE_DTYPES = {
    "FloatStorage": torch.float32, "HalfStorage": torch.float16, "DoubleStorage": torch.float64,
    "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
    "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool, "UntypedStorage": torch.uint8,
}
_DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float32, torch.float16, torch.float64, torch.bfloat16, torch.int64, torch.int32, torch.int16,
    torch.int8, torch.uint8, torch.bool)}
_DTYPES.update({"float": torch.float32, "half": torch.float16, "double": torch.float64, "long": torch.int64,
                "int": torch.int32})


class _StorageType:
    def __init__(self, dtype: torch.dtype) -> None:
        self.dtype = dtype


class _Storage:
    """A storage record read from the zip, as a flat tensor of its dtype."""

    def __init__(self, flat: torch.Tensor) -> None:
        self.flat = flat


def _rebuild_tensor(storage, offset, size, stride, *_rest) -> torch.Tensor:
    if not isinstance(storage, _Storage):
        raise CheckpointError("malformed tensor record (no storage)")
    try:
        return torch.as_strided(storage.flat, tuple(size), tuple(stride), int(offset))
    except (RuntimeError, TypeError, ValueError) as e:
        raise CheckpointError(f"malformed tensor record ({e})") from None


def _rebuild_parameter(data, *_rest) -> torch.Tensor:
    if not isinstance(data, torch.Tensor):
        raise CheckpointError("malformed parameter record")
    return data


def _make_size(dims=()) -> torch.Size:
    return torch.Size(tuple(int(d) for d in dims))


def _make_path(*parts) -> str:
    return "/".join(str(p) for p in parts)


_FUNCTIONS = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set, ("__builtin__", "set"): set,
    ("builtins", "frozenset"): frozenset, ("__builtin__", "frozenset"): frozenset,
    ("torch", "Size"): _make_size,
    ("pathlib", "PosixPath"): _make_path, ("pathlib", "WindowsPath"): _make_path,
    ("pathlib", "PurePosixPath"): _make_path, ("pathlib", "PureWindowsPath"): _make_path,
}


class RestrictedUnpickler(pickle.Unpickler):
    """`pickle.Unpickler` whose `find_class` only answers from the allowlists above and whose
    `persistent_load` reads storages from the checkpoint zip."""

    def __init__(self, file, archive: zipfile.ZipFile, prefix: str, source: str) -> None:
        super().__init__(file)
        self._archive = archive
        self._prefix = prefix
        self._source = source
        self._storages: dict[str, _Storage] = {}
        self._classes: dict[tuple[str, str], type] = {}

    def find_class(self, module: str, name: str):
        key = (module, name)
        if key in _FUNCTIONS:
            return _FUNCTIONS[key]
        if key in _MODEL_CLASSES:
            if key not in self._classes:
                self._classes[key] = _inert_class(module, name)
            return self._classes[key]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        if module == "torch" and name in _DTYPES:
            return _DTYPES[name]
        raise CheckpointError(f"{self._source}: refusing to load: the checkpoint references `{module}.{name}`, "
                              "which is not an allowed YOLOv5/torch class (nothing was imported or run)")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)):
            raise CheckpointError(f"{self._source}: unsupported persistent record {str(pid)[:80]!r}")
        stype, key, numel = pid[1], pid[2], pid[4]
        if key not in self._storages:
            name = f"{self._prefix}data/{key}"
            try:
                info = self._archive.getinfo(name)
            except KeyError:
                raise CheckpointError(f"{self._source}: storage record data/{key} is missing") from None
            itemsize = torch.empty((), dtype=stype.dtype).element_size()
            # Check the declared size before decompressing anything (no zip bombs).
            if isinstance(numel, int) and stype.dtype != torch.uint8 and info.file_size != numel * itemsize:
                raise CheckpointError(f"{self._source}: storage data/{key} has {info.file_size} bytes, "
                                      f"expected {numel * itemsize}")
            raw = _read_record(self._archive, info)
            flat = torch.frombuffer(raw, dtype=stype.dtype) if raw else torch.empty(0, dtype=stype.dtype)
            self._storages[key] = _Storage(flat)
        return self._storages[key]


def _read_record(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytearray:
    """One record, read once into a buffer of its declared size (checked by `open_torch_zip`)."""
    buf = bytearray(info.file_size)
    with archive.open(info) as fh:
        n = fh.readinto(buf)
        if n != info.file_size or fh.read(1):
            raise zipfile.BadZipFile(f"record {info.filename} is not {info.file_size} bytes long")
    return buf


def open_torch_zip(fh: BinaryIO, source: str = "checkpoint") -> zipfile.ZipFile:
    """The zip directory of a torch checkpoint file, refused before any record is read when the file is not a
    zip (its first 4 bytes) or its records declare more than they can hold: a stored record larger than the
    file, a compressed one beyond `MAX_COMPRESSION_RATIO`, or more than `MAX_DECLARED_BYTES` in all."""
    not_zip = (f"{source}: not a torch zip checkpoint (a file saved by torch>=1.6 `torch.save` is expected; "
               "legacy formats are not supported)")
    if fh.read(len(ZIP_MAGIC)) != ZIP_MAGIC:
        raise CheckpointError(not_zip)
    size = fh.seek(0, io.SEEK_END)
    fh.seek(0)
    try:
        archive = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, OverflowError):
        raise CheckpointError(not_zip) from None
    total = 0
    for info in archive.infolist():
        if info.compress_type == zipfile.ZIP_STORED:
            fits = info.compress_size == info.file_size and info.header_offset + info.compress_size <= size
        else:
            fits = info.file_size <= MAX_COMPRESSION_RATIO * info.compress_size + (1 << 20)
        if not fits:
            raise CheckpointError(f"{source}: corrupt checkpoint: record {info.filename} declares {info.file_size} "
                                  f"bytes, more than the {size}-byte file can hold")
        total += info.file_size
    if total > MAX_DECLARED_BYTES:
        raise CheckpointError(f"{source}: checkpoint records declare {total} bytes, over the "
                              f"{MAX_DECLARED_BYTES >> 30} GiB limit")
    return archive


def load_pickle_zip(data: bytes | BinaryIO, source: str = "checkpoint"):
    """Unpickle a torch zip checkpoint (bytes or a binary file) with `RestrictedUnpickler`. Raises CheckpointError."""
    archive = open_torch_zip(io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data, source)
    pkl = [n for n in archive.namelist() if n.endswith("data.pkl") and n.count("/") == 1]
    if len(pkl) != 1:
        raise CheckpointError(f"{source}: not a torch checkpoint (no single */data.pkl record)")
    prefix = pkl[0][: -len("data.pkl")]
    byteorder = f"{prefix}byteorder"
    try:
        if byteorder in archive.namelist() and _read_record(archive, archive.getinfo(byteorder)).strip() \
                not in (b"little", b""):
            raise CheckpointError(f"{source}: big-endian checkpoints are not supported")
        unpickler = RestrictedUnpickler(io.BytesIO(_read_record(archive, archive.getinfo(pkl[0]))), archive,
                                        prefix, source)
        return unpickler.load()
    except CheckpointError:
        raise
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError, KeyError, IndexError,
            RuntimeError, MemoryError, OverflowError, OSError, zipfile.BadZipFile, zlib.error) as e:
        raise CheckpointError(f"{source}: corrupt or unsupported checkpoint ({type(e).__name__}: {e})") from None
