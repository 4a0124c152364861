"""Parameter and module names of the bundled YOLOv5, computed without torch.

The front end's model-aware checks (e.g. "does `re:model.2.*.conv.weight` match anything?", "is this
layer prunable?", "which optimizer group is it in?") need the names and shapes the model will have,
but must stay fast and torch-free. These functions walk the resolved `yolo.arch` table the same way
`yolo.model` builds modules, so the names equal `model.named_parameters()` / `state_dict()` keys
(which are the ultralytics keys) — a test holds them to that.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from yolo.arch import Arch, Layer, resolve

# What a parameter is, for optimizer grouping and pruning:
#   "conv"    a Conv2d weight (prunable; optimizer group `weights`, with decay)
#   "bn"      a BatchNorm weight (gamma; group `bn`, no decay)
#   "bias"    a BatchNorm beta or a Conv2d bias (group `biases`, no decay)
PARAM_KINDS = ("conv", "bn", "bias")
# Optimizer group (contracts.md order: 0 = bn, 1 = weights, 2 = biases) per parameter kind.
GROUP_OF_KIND = {"bn": "bn", "conv": "weights", "bias": "biases"}


@dataclass(frozen=True)
class ParamInfo:
    """One parameter: ultralytics name, shape, kind (see PARAM_KINDS) and owning module type."""

    name: str
    shape: tuple[int, ...]
    kind: str
    module_type: str  # "Conv2d" | "BatchNorm2d"

    @property
    def group(self) -> str:
        return GROUP_OF_KIND[self.kind]

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass(frozen=True)
class ModuleInfo:
    """One module of `model.named_modules()` (root excluded): name and our class name."""

    name: str
    type: str


@dataclass(frozen=True)
class BufferInfo:
    name: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class ModelNames:
    modules: tuple[ModuleInfo, ...]
    params: tuple[ParamInfo, ...]
    buffers: tuple[BufferInfo, ...]
    state_keys: tuple[str, ...]  # state_dict order: per module, parameters then buffers


class _Walker:
    """Collects modules, parameters and buffers in registration order (= PyTorch's traversal order)."""

    def __init__(self) -> None:
        self.modules: list[ModuleInfo] = []
        self.params: list[ParamInfo] = []
        self.buffers: list[BufferInfo] = []
        self.state_keys: list[str] = []

    def module(self, name: str, type_: str) -> None:
        self.modules.append(ModuleInfo(name, type_))

    def conv2d(self, name: str, c1: int, c2: int, k: int, bias: bool) -> None:
        self.module(name, "Conv2d")
        self._param(ParamInfo(f"{name}.weight", (c2, c1, k, k), "conv", "Conv2d"))
        if bias:
            self._param(ParamInfo(f"{name}.bias", (c2,), "bias", "Conv2d"))

    def bn(self, name: str, c: int) -> None:
        self.module(name, "BatchNorm2d")
        self._param(ParamInfo(f"{name}.weight", (c,), "bn", "BatchNorm2d"))
        self._param(ParamInfo(f"{name}.bias", (c,), "bias", "BatchNorm2d"))
        for b, shape in (("running_mean", (c,)), ("running_var", (c,)), ("num_batches_tracked", ())):
            self._buffer(BufferInfo(f"{name}.{b}", shape))

    def _param(self, p: ParamInfo) -> None:
        self.params.append(p)
        self.state_keys.append(p.name)

    def _buffer(self, b: BufferInfo) -> None:
        self.buffers.append(b)
        self.state_keys.append(b.name)

    # Blocks. Channel arithmetic mirrors yolo.layers.
    def conv(self, name: str, c1: int, c2: int, k: int = 1) -> None:
        self.module(name, "Conv")
        self.conv2d(f"{name}.conv", c1, c2, k, bias=False)
        self.bn(f"{name}.bn", c2)
        self.module(f"{name}.act", "SiLU")

    def bottleneck(self, name: str, c1: int, c2: int, shortcut: bool) -> None:
        self.module(name, "Bottleneck")
        self.conv(f"{name}.cv1", c1, c2, 1)
        self.conv(f"{name}.cv2", c2, c2, 3)
        if shortcut and c1 == c2:
            self.module(f"{name}.add", "Add")

    def c3(self, name: str, c1: int, c2: int, n: int, shortcut: bool) -> None:
        c_ = c2 // 2
        self.module(name, "C3")
        self.conv(f"{name}.cv1", c1, c_)
        self.conv(f"{name}.cv2", c1, c_)
        self.conv(f"{name}.cv3", 2 * c_, c2)
        self.module(f"{name}.m", "Sequential")
        for j in range(n):
            self.bottleneck(f"{name}.m.{j}", c_, c_, shortcut)

    def sppf(self, name: str, c1: int, c2: int) -> None:
        c_ = c1 // 2
        self.module(name, "SPPF")
        self.conv(f"{name}.cv1", c1, c_)
        self.conv(f"{name}.cv2", 4 * c_, c2)
        self.module(f"{name}.m", "MaxPool2d")

    def focus(self, name: str, c1: int, c2: int, k: int) -> None:
        self.module(name, "Focus")
        self.conv(f"{name}.conv", 4 * c1, c2, k)

    def spp(self, name: str, c1: int, c2: int, pools: tuple[int, ...]) -> None:
        c_ = c1 // 2
        self.module(name, "SPP")
        self.conv(f"{name}.cv1", c1, c_)
        self.conv(f"{name}.cv2", c_ * (len(pools) + 1), c2)
        self.module(f"{name}.m", "ModuleList")
        for j in range(len(pools)):
            self.module(f"{name}.m.{j}", "MaxPool2d")

    def detect(self, name: str, layer: Layer, arch: Arch) -> None:
        self.module(name, "Detect")
        # A module's own buffers come before its children's entries in state_dict order.
        self._buffer(BufferInfo(f"{name}.anchors", (len(arch.anchors), arch.na, 2)))
        self.module(f"{name}.m", "ModuleList")
        for j, c in enumerate(layer.c_in):
            self.conv2d(f"{name}.m.{j}", c, arch.na * arch.no, 1, bias=True)

    def layer(self, layer: Layer, arch: Arch) -> None:
        name = f"model.{layer.index}"
        c1 = layer.c_in[0]
        if layer.kind == "Conv":
            self.conv(name, c1, layer.c_out, layer.kernel)
        elif layer.kind == "C3":
            self.c3(name, c1, layer.c_out, layer.repeats, layer.shortcut)
        elif layer.kind == "SPPF":
            self.sppf(name, c1, layer.c_out)
        elif layer.kind == "Focus":
            self.focus(name, c1, layer.c_out, layer.kernel)
        elif layer.kind == "SPP":
            self.spp(name, c1, layer.c_out, layer.pools)
        elif layer.kind == "Upsample":
            self.module(name, "Upsample")
        elif layer.kind == "Concat":
            self.module(name, "Concat")
        elif layer.kind == "Detect":
            self.detect(name, layer, arch)
        else:  # pragma: no cover - the table only holds the kinds above
            raise ValueError(f"unknown layer kind {layer.kind!r}")


@lru_cache(maxsize=32)
def _names(cfg: str, nc: int) -> ModelNames:
    arch = resolve(cfg, nc)
    w = _Walker()
    w.module("model", "Sequential")
    for layer in arch.layers:
        w.layer(layer, arch)
    return ModelNames(tuple(w.modules), tuple(w.params), tuple(w.buffers), tuple(w.state_keys))


def model_names(cfg: str = "yolov5s", nc: int = 80) -> ModelNames:
    """Everything at once (cached per (cfg, nc)). `cfg` is a scale name as for `yolo.arch.resolve`
    ("yolov5s", or "yolov5s-v5" for the v5.0 layout that SparseML's 2021 recipes name)."""
    return _names(cfg, int(nc))


def param_names(cfg: str = "yolov5s", nc: int = 80) -> list[str]:
    """Names of `model.named_parameters()`, in order (e.g. `model.0.conv.weight`, `model.24.m.2.bias`)."""
    return [p.name for p in model_names(cfg, nc).params]


def param_infos(cfg: str = "yolov5s", nc: int = 80) -> list[ParamInfo]:
    """Parameters with shape, kind (conv / bn / bias) and optimizer group."""
    return list(model_names(cfg, nc).params)


def param_kinds(cfg: str = "yolov5s", nc: int = 80) -> dict[str, str]:
    """Parameter name -> "conv" | "bn" | "bias"."""
    return {p.name: p.kind for p in model_names(cfg, nc).params}


def prunable_param_names(cfg: str = "yolov5s", nc: int = 80) -> list[str]:
    """`__ALL_PRUNABLE__`: every Conv2d weight, Detect's included (the model has no Linear layers)."""
    return [p.name for p in model_names(cfg, nc).params if p.kind == "conv"]


def module_names(cfg: str = "yolov5s", nc: int = 80) -> list[str]:
    """Names of `model.named_modules()` without the root (e.g. `model.2.m.0.cv1.conv`)."""
    return [m.name for m in model_names(cfg, nc).modules]


def module_types(cfg: str = "yolov5s", nc: int = 80) -> dict[str, str]:
    """Module name -> class name (Conv, C3, Bottleneck, Add, SPPF, Detect, Conv2d, BatchNorm2d, ...)."""
    return {m.name: m.type for m in model_names(cfg, nc).modules}


def state_dict_keys(cfg: str = "yolov5s", nc: int = 80) -> list[str]:
    """Keys of `model.state_dict()` in order: parameters and buffers (BN running stats, `model.24.anchors`)."""
    return list(model_names(cfg, nc).state_keys)
