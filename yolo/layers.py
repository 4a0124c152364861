"""YOLOv5 building blocks as `nn.Module`s whose attribute names give the ultralytics state-dict keys.

Written from the published architecture. Design choices for later pruning / QAT / export:
- every convolution block is `Conv(conv: Conv2d, bn: BatchNorm2d, act: SiLU)` (easy to find, fuse, mask);
- the residual add is its own module (`Add`) so quantization can observe / fake-quantize its inputs;
- forwards have no data-dependent Python branching (ONNX export and torch.compile trace them as is).
"""

from __future__ import annotations

import torch
from torch import nn

# BatchNorm settings of the published YOLOv5 (also what its checkpoints store).
BN_EPS = 1e-3
BN_MOMENTUM = 0.03


class Conv(nn.Module):
    """Conv2d (no bias) -> BatchNorm2d -> SiLU. `p` defaults to `k // 2` ("same" padding for odd k)."""

    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1, p: int | None = None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2 if p is None else p, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class Add(nn.Module):
    """Elementwise sum of two tensors, as a module so QAT can wrap its inputs."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b


class Bottleneck(nn.Module):
    """1x1 Conv -> 3x3 Conv, plus the input when `shortcut` and the channel counts agree."""

    def __init__(self, c1: int, c2: int, shortcut: bool = True) -> None:
        super().__init__()
        self.cv1 = Conv(c1, c2, 1)
        self.cv2 = Conv(c2, c2, 3)
        self.add = Add() if shortcut and c1 == c2 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cv2(self.cv1(x))
        return self.add(x, y) if self.add is not None else y


class C3(nn.Module):
    """CSP block: two 1x1 branches of c2/2 channels, one through `n` Bottlenecks, concatenated and
    mixed by a 1x1 Conv."""

    def __init__(self, c1: int, c2: int, n: int = 1, shortcut: bool = True) -> None:
        super().__init__()
        c_ = c2 // 2
        self.cv1 = Conv(c1, c_, 1)
        self.cv2 = Conv(c1, c_, 1)
        self.cv3 = Conv(2 * c_, c2, 1)
        self.m = nn.Sequential(*(Bottleneck(c_, c_, shortcut) for _ in range(n)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class SPPF(nn.Module):
    """Spatial pyramid pooling, fast: three chained k x k stride-1 max pools on a halved-channel map;
    the map and the three pooled maps are concatenated and mixed by a 1x1 Conv."""

    def __init__(self, c1: int, c2: int, k: int = 5) -> None:
        super().__init__()
        c_ = c1 // 2
        self.cv1 = Conv(c1, c_, 1)
        self.cv2 = Conv(4 * c_, c2, 1)
        self.m = nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class Focus(nn.Module):
    """v5.0 stem: space-to-depth (each 2x2 pixel block becomes 4 channel groups, in the order
    (even row, even col), (odd row, even col), (even row, odd col), (odd row, odd col)) then a Conv."""

    def __init__(self, c1: int, c2: int, k: int = 1) -> None:
        super().__init__()
        self.conv = Conv(4 * c1, c2, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat((x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2]), 1))


class SPP(nn.Module):
    """v5.0 spatial pyramid pooling: parallel k x k stride-1 max pools (5, 9, 13) on a halved-channel
    map, concatenated with it and mixed by a 1x1 Conv."""

    def __init__(self, c1: int, c2: int, pools: tuple[int, ...] = (5, 9, 13)) -> None:
        super().__init__()
        c_ = c1 // 2
        self.cv1 = Conv(c1, c_, 1)
        self.cv2 = Conv(c_ * (len(pools) + 1), c2, 1)
        self.m = nn.ModuleList(nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2) for k in pools)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cv1(x)
        return self.cv2(torch.cat([x] + [m(x) for m in self.m], 1))


class Concat(nn.Module):
    """Concatenate a list of tensors along `dim` (channels)."""

    def __init__(self, dim: int = 1) -> None:
        super().__init__()
        self.d = dim

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(xs, self.d)


class Detect(nn.Module):
    """Per level, a 1x1 Conv2d to `na * (5 + nc)` channels.

    Buffer `anchors` (nl, na, 2) is in grid units of each level (pixel anchors / stride), as ultralytics
    stores it. Training forward: list of raw `(B, na, H, W, 5 + nc)`. Eval forward: decoded
    `(B, sum(na*H*W), 5 + nc)` — sigmoid of everything, then xy = (2*s - 0.5 + cell) * stride and
    wh = (2*s)^2 * anchor_pixels; objectness and class scores stay probabilities.
    """

    def __init__(self, nc: int, anchors_px, strides, ch: tuple[int, ...]) -> None:
        super().__init__()
        self.nc = nc
        self.no = nc + 5
        self.nl = len(anchors_px)
        self.na = len(anchors_px[0])
        self.strides = tuple(float(s) for s in strides)  # Python constants: export-friendly
        a = torch.tensor(anchors_px, dtype=torch.float32).view(self.nl, self.na, 2)
        self.register_buffer("anchors", a / torch.tensor(self.strides).view(-1, 1, 1))
        self.m = nn.ModuleList(nn.Conv2d(c, self.no * self.na, 1) for c in ch)

    @property
    def stride(self) -> torch.Tensor:
        return torch.tensor(self.strides)

    def raw(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        """Per level `(B, na, H, W, no)` logits."""
        out = []
        for i, x in enumerate(xs):
            y = self.m[i](x)
            b, _, h, w = y.shape
            out.append(y.view(b, self.na, self.no, h, w).permute(0, 1, 3, 4, 2).contiguous())
        return out

    def decode(self, raw: list[torch.Tensor]) -> torch.Tensor:
        """Raw per-level logits -> `(B, N, no)` boxes (xywh, input pixels) and probabilities."""
        z = []
        for i, p in enumerate(raw):
            b, na, h, w, no = p.shape
            s = self.strides[i]
            ys = torch.arange(h, device=p.device, dtype=p.dtype)
            xs = torch.arange(w, device=p.device, dtype=p.dtype)
            gy, gx = torch.meshgrid(ys, xs, indexing="ij")
            grid = torch.stack((gx, gy), -1).view(1, 1, h, w, 2)
            anchor_px = (self.anchors[i] * s).to(p.dtype).view(1, na, 1, 1, 2)
            y = p.sigmoid()
            xy = (y[..., 0:2] * 2 - 0.5 + grid) * s
            wh = (y[..., 2:4] * 2) ** 2 * anchor_px
            z.append(torch.cat((xy, wh, y[..., 4:]), -1).view(b, -1, no))
        return torch.cat(z, 1)

    def forward(self, xs: list[torch.Tensor]):
        raw = self.raw(xs)
        return raw if self.training else self.decode(raw)

    @torch.no_grad()
    def init_biases(self, image_size: int = 640) -> None:
        """Start objectness near 8 objects per 640-px image and class scores near 0.6 / nc, per level
        (added to the default bias init), so early training is not swamped by background."""
        for conv, s in zip(self.m, self.strides):
            b = conv.bias.view(self.na, -1)
            b[:, 4] += torch.log(torch.tensor(8.0 / (image_size / s) ** 2))
            b[:, 5:] += torch.log(torch.tensor(0.6 / (self.nc - 0.99)))
