"""The YOLOv5 (v6.0+ layout) architecture as plain data, and its resolution to concrete layer shapes.

Pure Python (no torch): the front end's model-aware lint and `yolo.names` use it without paying for
a torch import. `yolo.model` builds `nn.Module`s from the same resolved table, so names and shapes
agree by construction.

The table below describes the published YOLOv5 v6 network: a CSP backbone of Conv / C3 blocks ending
in SPPF, a PANet-style head of Conv / Upsample / Concat / C3, and a Detect layer on the P3/8, P4/16
and P5/32 outputs. Base channel counts and repeats are those of the "l" scale (multiples 1.0 / 1.0);
each scale multiplies repeats by its depth multiple and channels by its width multiple.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

# Scale name -> (depth multiple, width multiple).
SCALES: dict[str, tuple[float, float]] = {
    "n": (0.33, 0.25),
    "s": (0.33, 0.50),
    "m": (0.67, 0.75),
    "l": (1.00, 1.00),
    "x": (1.33, 1.25),
}

# Anchor (width, height) pairs in input pixels, per output level (P3/8, P4/16, P5/32).
ANCHORS: tuple[tuple[tuple[int, int], ...], ...] = (
    ((10, 13), (16, 30), (33, 23)),
    ((30, 61), (62, 45), (59, 119)),
    ((116, 90), (156, 198), (373, 326)),
)
STRIDES: tuple[int, ...] = (8, 16, 32)
# Channels are rounded up to a multiple of this (hardware friendly, and what the published weights use).
CHANNEL_DIVISOR = 8
# Sane bounds, checked before anything is built (a checkpoint's metadata may ask for anything): yolov5x is
# 1.33 / 1.25 with 86 M parameters; 500 M parameters are 2 GB of fp32 weights.
MAX_NC = 10_000
MAX_MULTIPLE = 4.0
MAX_PARAMS = 500_000_000


class ArchError(ValueError):
    """An unknown model configuration name or an inconsistent architecture description."""


@dataclass(frozen=True)
class LayerDef:
    """One row of the table: `src` are layer indices (-1 = previous layer), `repeats` the base depth.

    `out` is the base output channel count (None for layers that keep or sum their inputs' channels).
    `kernel`, `stride`, `padding` are for Conv and Focus; `shortcut` for C3; `kernel` is the pool size
    for SPPF, `pools` the pool sizes for SPP.
    """

    kind: str  # "Conv" | "C3" | "SPPF" | "Upsample" | "Concat" | "Detect" (v5.0 layout: "Focus", "SPP")
    src: tuple[int, ...] = (-1,)
    repeats: int = 1
    out: int | None = None
    kernel: int = 1
    stride: int = 1
    padding: int | None = None
    shortcut: bool = True
    pools: tuple[int, ...] = ()


# index:        kind     src        repeats  out   k  s  p
V6_LAYERS: tuple[LayerDef, ...] = (
    # backbone
    LayerDef("Conv", out=64, kernel=6, stride=2, padding=2),  # 0  P1/2
    LayerDef("Conv", out=128, kernel=3, stride=2),  # 1  P2/4
    LayerDef("C3", repeats=3, out=128),  # 2
    LayerDef("Conv", out=256, kernel=3, stride=2),  # 3  P3/8
    LayerDef("C3", repeats=6, out=256),  # 4
    LayerDef("Conv", out=512, kernel=3, stride=2),  # 5  P4/16
    LayerDef("C3", repeats=9, out=512),  # 6
    LayerDef("Conv", out=1024, kernel=3, stride=2),  # 7  P5/32
    LayerDef("C3", repeats=3, out=1024),  # 8
    LayerDef("SPPF", out=1024, kernel=5),  # 9
    # head
    LayerDef("Conv", out=512, kernel=1, stride=1),  # 10
    LayerDef("Upsample"),  # 11
    LayerDef("Concat", src=(-1, 6)),  # 12  with backbone P4
    LayerDef("C3", repeats=3, out=512, shortcut=False),  # 13
    LayerDef("Conv", out=256, kernel=1, stride=1),  # 14
    LayerDef("Upsample"),  # 15
    LayerDef("Concat", src=(-1, 4)),  # 16  with backbone P3
    LayerDef("C3", repeats=3, out=256, shortcut=False),  # 17  P3/8 output
    LayerDef("Conv", out=256, kernel=3, stride=2),  # 18
    LayerDef("Concat", src=(-1, 14)),  # 19  with head P4
    LayerDef("C3", repeats=3, out=512, shortcut=False),  # 20  P4/16 output
    LayerDef("Conv", out=512, kernel=3, stride=2),  # 21
    LayerDef("Concat", src=(-1, 10)),  # 22  with head P5
    LayerDef("C3", repeats=3, out=1024, shortcut=False),  # 23  P5/32 output
    LayerDef("Detect", src=(17, 20, 23)),  # 24
)

# The v5.0 layout (2021; what SparseML's 2021 YOLOv5 recipes and SparseZoo models name): a Focus
# stem (space-to-depth then a 3x3 Conv), 9 bottlenecks in layer 4, SPP with 5/9/13 pools at layer 8
# and a shortcut-free C3 at layer 9. The head (layers 10-24) is the same as v6.
V5_LAYERS: tuple[LayerDef, ...] = (
    LayerDef("Focus", out=64, kernel=3),  # 0  P1/2
    LayerDef("Conv", out=128, kernel=3, stride=2),  # 1  P2/4
    LayerDef("C3", repeats=3, out=128),  # 2
    LayerDef("Conv", out=256, kernel=3, stride=2),  # 3  P3/8
    LayerDef("C3", repeats=9, out=256),  # 4
    LayerDef("Conv", out=512, kernel=3, stride=2),  # 5  P4/16
    LayerDef("C3", repeats=9, out=512),  # 6
    LayerDef("Conv", out=1024, kernel=3, stride=2),  # 7  P5/32
    LayerDef("SPP", out=1024, pools=(5, 9, 13)),  # 8
    LayerDef("C3", repeats=3, out=1024, shortcut=False),  # 9
) + V6_LAYERS[10:]

LAYOUTS: dict[str, tuple[LayerDef, ...]] = {"v6": V6_LAYERS, "v5": V5_LAYERS}


@dataclass(frozen=True)
class Layer:
    """A resolved layer: absolute source indices, concrete channel counts and repeat count."""

    index: int
    kind: str
    src: tuple[int, ...]  # absolute indices; (-1,) only for layer 0 (the image)
    c_in: tuple[int, ...]  # input channels per source
    c_out: int
    repeats: int
    kernel: int
    stride: int
    padding: int
    shortcut: bool
    pools: tuple[int, ...] = ()


@dataclass(frozen=True)
class Arch:
    """A fully resolved YOLOv5: what `yolo.model.build_model` and `yolo.names` both consume."""

    name: str  # "yolov5s" / "yolov5s-v5", or "custom" for explicit multiples
    layout: str  # "v6" (default) or "v5" (the v5.0 Focus/SPP layout)
    depth_multiple: float
    width_multiple: float
    nc: int
    anchors: tuple[tuple[tuple[float, float], ...], ...]  # pixels, per level
    strides: tuple[int, ...]
    layers: tuple[Layer, ...]

    @property
    def na(self) -> int:
        """Anchors per output level."""
        return len(self.anchors[0])

    @property
    def no(self) -> int:
        """Outputs per anchor: x, y, w, h, objectness, then one score per class."""
        return 5 + self.nc

    @property
    def detect(self) -> Layer:
        return self.layers[-1]


def make_divisible(x: float, divisor: int = CHANNEL_DIVISOR) -> int:
    """Smallest multiple of `divisor` that is >= x."""
    return int(math.ceil(x / divisor) * divisor)


def scale_repeats(n: int, depth_multiple: float) -> int:
    """Repeat count after the depth multiple; single layers stay single."""
    return max(round(n * depth_multiple), 1) if n > 1 else n


def parse_cfg(cfg: str) -> tuple[str, str]:
    """'yolov5s', 'yolov5s.yaml', 'yolov5s.pt', 's' -> ('s', 'v6'); 'yolov5s-v5', 'yolov5s_v5.0' ->
    ('s', 'v5'). Raises ArchError for anything else."""
    raw = cfg
    name = str(cfg).strip().lower()
    for suffix in (".yaml", ".yml", ".pt"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    name = name.rsplit("/", 1)[-1]
    layout = "v6"
    for tag, lay in (("-v5.0", "v5"), ("_v5.0", "v5"), ("-v5", "v5"), ("_v5", "v5"), ("-v6", "v6"),
                     ("_v6", "v6")):
        if name.endswith(tag):
            name, layout = name[: -len(tag)], lay
            break
    if name.startswith("yolov5"):
        name = name[len("yolov5"):]
    if name in SCALES:
        return name, layout
    raise ArchError(f"unknown YOLOv5 configuration {raw!r}; expected one of "
                    + ", ".join(f"yolov5{s}" for s in SCALES) + " (optionally with -v5 for the v5.0 layout)")


def scale_of(cfg: str) -> str:
    """The scale letter of a configuration name (see `parse_cfg`)."""
    return parse_cfg(cfg)[0]


def cfg_name(scale: str, layout: str = "v6") -> str:
    """('s', 'v6') -> 'yolov5s'; ('s', 'v5') -> 'yolov5s-v5'."""
    return f"yolov5{scale}" + ("-v5" if layout == "v5" else "")


def resolve(cfg: str | dict = "yolov5s", nc: int | None = None) -> Arch:
    """Resolve a configuration to concrete layers.

    `cfg` is a scale name ("yolov5n" ... "yolov5x", or "n" ... "x", with a "-v5" suffix for the v5.0
    layout) or a dict with `depth_multiple`, `width_multiple` and optionally `anchors` (pixel lists as
    in ultralytics YAMLs), `nc`, and `backbone`/`head` rows (which select the layout; see
    `detect_layout`) — the shape of the `yaml` dict that ultralytics checkpoints carry.
    """
    anchors = tuple(tuple((float(w), float(h)) for w, h in level) for level in ANCHORS)
    if isinstance(cfg, dict):
        layout = detect_layout(cfg)
        try:
            gd, gw = float(cfg["depth_multiple"]), float(cfg["width_multiple"])
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            raise ArchError(f"configuration dict needs numeric depth_multiple and width_multiple ({e})") from None
        for key, v in (("depth_multiple", gd), ("width_multiple", gw)):
            if not 0.0 < v <= MAX_MULTIPLE:  # also refuses NaN
                raise ArchError(f"{key} must be in (0, {MAX_MULTIPLE:g}], got {v:g}")
        if "anchors" in cfg and cfg["anchors"] is not None:
            anchors = _parse_anchors(cfg["anchors"])
        if nc is None and "nc" in cfg:
            nc = cfg["nc"]
        name = next((cfg_name(s, layout) for s, m in SCALES.items() if m == (gd, gw)), "custom")
    else:
        scale, layout = parse_cfg(cfg)
        gd, gw = SCALES[scale]
        name = cfg_name(scale, layout)
    nc = 80 if nc is None else _whole(nc)
    if nc is None or not 1 <= nc <= MAX_NC:
        raise ArchError(f"nc must be in [1, {MAX_NC}], got {nc!r}")

    layers: list[Layer] = []
    channels: list[int] = []  # output channels per layer
    for i, d in enumerate(LAYOUTS[layout]):
        src = tuple(i + s if s < 0 else s for s in d.src) if i else (-1,)
        c_in = tuple(channels[s] if s >= 0 else 3 for s in src)
        if d.kind in ("Conv", "C3", "SPPF", "SPP", "Focus"):
            c_out = make_divisible(d.out * gw)
        elif d.kind == "Concat":
            c_out = sum(c_in)
        elif d.kind == "Detect":
            c_out = len(anchors[0]) * (5 + nc)
        else:  # Upsample
            c_out = c_in[0]
        padding = d.padding if d.padding is not None else d.kernel // 2
        layers.append(Layer(i, d.kind, src, c_in, c_out, scale_repeats(d.repeats, gd), d.kernel, d.stride,
                            padding, d.shortcut, d.pools))
        channels.append(c_out)
    arch = Arch(name, layout, gd, gw, nc, anchors, STRIDES, tuple(layers))
    n = estimate_params(arch)
    if n > MAX_PARAMS:
        raise ArchError(f"the configuration (depth_multiple {gd:g}, width_multiple {gw:g}, nc {nc}) asks for about "
                        f"{n // 1_000_000}M parameters, over the {MAX_PARAMS // 1_000_000}M limit")
    return arch


def _whole(v) -> int | None:
    """An int (or numpy int, or a float with a whole value), else None."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    try:
        return operator.index(v)
    except TypeError:
        return None


def estimate_params(arch: Arch) -> int:
    """Conv weights of the resolved model (BN and biases are < 1 %), without building it."""
    total = 0
    for ly in arch.layers:
        c1, c2, k = sum(ly.c_in), ly.c_out, ly.kernel
        if ly.kind == "Conv":
            total += c1 * c2 * k * k
        elif ly.kind == "Focus":
            total += 4 * c1 * c2 * k * k
        elif ly.kind == "C3":
            h = c2 // 2
            total += 2 * c1 * h + 2 * h * c2 + ly.repeats * 10 * h * h  # cv1, cv2, cv3; bottleneck 1x1 + 3x3
        elif ly.kind in ("SPPF", "SPP"):
            h = c1 // 2
            total += c1 * h + (len(ly.pools) + 1 if ly.kind == "SPP" else 4) * h * c2
        elif ly.kind == "Detect":
            total += sum(c1 * c2 for c1 in ly.c_in)
    return total


def _parse_anchors(raw) -> tuple[tuple[tuple[float, float], ...], ...]:
    try:
        levels = []
        for row in raw:
            vals = [float(v) for v in row]
            if len(vals) % 2 or not vals:
                raise ValueError("odd number of values")
            levels.append(tuple((vals[j], vals[j + 1]) for j in range(0, len(vals), 2)))
    except (TypeError, ValueError) as e:
        raise ArchError(f"anchors must be 3 lists of (w, h) pixel pairs ({e})") from None
    if len(levels) != len(STRIDES) or len({len(lv) for lv in levels}) != 1:
        raise ArchError(f"anchors must be {len(STRIDES)} levels with the same number of pairs each")
    return tuple(levels)


# How an ultralytics YAML row names our kinds.
_YAML_KINDS = {"Conv": "Conv", "C3": "C3", "SPPF": "SPPF", "nn.Upsample": "Upsample", "Concat": "Concat",
               "Detect": "Detect", "Focus": "Focus", "SPP": "SPP"}


def detect_layout(cfg: dict) -> str:
    """Which bundled layout ("v6" or "v5") a config dict's `backbone` + `head` rows describe (module
    kinds, sources, repeats); "v6" when the dict has no rows. Anything else raises ArchError."""
    rows = cfg.get("backbone"), cfg.get("head")
    if rows[0] is None and rows[1] is None:
        return "v6"
    try:
        flat = list(rows[0]) + list(rows[1])
    except TypeError:
        raise ArchError("configuration backbone/head must be lists of rows") from None
    first_error = None
    for layout, table in LAYOUTS.items():
        problem = _compare_rows(flat, table)
        if problem is None:
            return layout
        first_error = first_error or problem
    raise ArchError(f"unsupported YOLOv5 layout: {first_error} (the v6.0+ and v5.0 layouts are bundled)")


def check_layout(cfg: dict) -> None:
    """Raise ArchError unless `cfg` describes a bundled layout."""
    detect_layout(cfg)


def _compare_rows(flat: list, table: tuple[LayerDef, ...]) -> str | None:
    if len(flat) != len(table):
        return f"{len(flat)} layers, expected {len(table)}"
    for i, (row, d) in enumerate(zip(flat, table)):
        try:
            src, n, kind = row[0], int(row[1]), str(row[2])
        except (TypeError, ValueError, IndexError):
            return f"layer {i} row {row!r} is malformed"
        src_t = tuple(src) if isinstance(src, (list, tuple)) else (src,)
        if _YAML_KINDS.get(kind) != d.kind or src_t != d.src or n != d.repeats:
            return f"layer {i} is {kind} from {src!r} x{n}, expected {d.kind} from {list(d.src)} x{d.repeats}"
    return None
