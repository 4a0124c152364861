"""`YoloModel`: the YOLOv5 network assembled from a resolved `yolo.arch.Arch`.

`model.<i>` is layer i of the table, so parameter names are the ultralytics ones
(`model.0.conv.weight`, `model.2.m.0.cv1.conv.weight`, `model.24.m.0.weight`, `model.24.anchors`).
"""

from __future__ import annotations

import torch
from torch import nn

from yolo.arch import Arch, Layer, resolve
from yolo.layers import C3, SPP, SPPF, Concat, Conv, Detect, Focus


def _build_layer(layer: Layer, arch: Arch) -> nn.Module:
    c1 = layer.c_in[0]
    if layer.kind == "Conv":
        return Conv(c1, layer.c_out, layer.kernel, layer.stride, layer.padding)
    if layer.kind == "C3":
        return C3(c1, layer.c_out, layer.repeats, layer.shortcut)
    if layer.kind == "SPPF":
        return SPPF(c1, layer.c_out, layer.kernel)
    if layer.kind == "Focus":
        return Focus(c1, layer.c_out, layer.kernel)
    if layer.kind == "SPP":
        return SPP(c1, layer.c_out, layer.pools)
    if layer.kind == "Upsample":
        return nn.Upsample(scale_factor=2.0, mode="nearest")
    if layer.kind == "Concat":
        return Concat(1)
    if layer.kind == "Detect":
        return Detect(arch.nc, arch.anchors, arch.strides, layer.c_in)
    raise ValueError(f"unknown layer kind {layer.kind!r}")  # pragma: no cover


class YoloModel(nn.Module):
    """YOLOv5 detector.

    Attributes: `nc`, `names` (class names, default "class0"...), `stride` (tensor [8, 16, 32]),
    `cfg` (scale name such as "yolov5s", or the dict it was built from), `arch` (the resolved table).
    `train()` forward: list of 3 raw `(B, na, H/s, W/s, 5 + nc)`; `eval()` forward: decoded
    `(B, N, 5 + nc)` with xywh in input pixels. Input: `(B, 3, H, W)` floats in [0, 1], H and W
    multiples of 32.
    """

    def __init__(self, arch: Arch, cfg: str | dict, names: list[str] | None = None) -> None:
        super().__init__()
        self.arch = arch
        self.cfg = cfg
        self.nc = arch.nc
        self.names = list(names) if names is not None else [f"class{i}" for i in range(arch.nc)]
        if len(self.names) != self.nc:
            raise ValueError(f"{len(self.names)} class names given for nc={self.nc}")
        self.stride = torch.tensor([float(s) for s in arch.strides])
        self.model = nn.Sequential(*(_build_layer(layer, arch) for layer in arch.layers))
        # Which layers feed which (absolute indices), and which outputs must be kept for later layers.
        self._src = tuple(layer.src for layer in arch.layers)
        needed = {s for src in self._src[1:] for s in src}
        self._keep = tuple(i in needed for i in range(len(arch.layers)))

    @property
    def detect(self) -> Detect:
        return self.model[-1]

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Inputs of the Detect layer (P3, P4, P5 feature maps)."""
        saved: dict[int, torch.Tensor] = {}
        n = len(self.model)
        for i in range(n - 1):
            src = self._src[i]
            if len(src) == 1:
                inp = x if src[0] == i - 1 or src[0] < 0 else saved[src[0]]
            else:
                inp = [x if s == i - 1 else saved[s] for s in src]
            x = self.model[i](inp)
            if self._keep[i]:
                saved[i] = x
        return [saved[s] for s in self._src[n - 1]]

    def forward(self, x: torch.Tensor):
        return self.detect(self.features(x))


def build_model(cfg: str | dict = "yolov5s", nc: int = 80, names: list[str] | None = None) -> YoloModel:
    """A freshly initialised YOLOv5 (train mode): BN eps 1e-3 / momentum 0.03 and YOLOv5's Detect bias
    priors. `cfg`: "yolov5n|s|m|l|x" (or the letter; "-v5" suffix for the v5.0 Focus/SPP layout) or an
    ultralytics-style dict with multiples (and rows, which select the layout)."""
    arch = resolve(cfg, nc)
    # A dict with standard multiples is named by its scale (anchors live in the `anchors` buffer anyway).
    model = YoloModel(arch, cfg if arch.name == "custom" else arch.name, names)
    model.detect.init_biases()
    return model
