"""YOLO detection dataset: images + YOLO `.txt` labels -> letterboxed, augmented numpy samples.

Used by training (augment=True: mosaic, affine, HSV, flips) and validation (rect=True: batches of
similar aspect ratio share one letterbox shape, stride multiple, pad 0.5). Samples stay numpy
until `collate_fn`, which is the only place that touches torch.

Sample `i` (a tuple):
    img    uint8 (3, H, W), RGB
    labels float32 (n, 6): 0 (image index, filled by collate), class, x, y, w, h normalized to H, W
    path   str, the image file
    shapes ((h0, w0), ((rh, rw), (pad_w, pad_h))): the original size, the letterbox ratio and
           padding that map network pixels back to it (None for mosaic samples).

Determinism: every random draw for sample `i` comes from `numpy.random.default_rng((seed, epoch, i))`,
so the output does not depend on worker count or order. Call `set_epoch(e)` before each epoch
(non-persistent DataLoader workers receive the updated copy when the epoch's iterator starts).
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import yolo.data.augment as A  # the submodule itself: yolo.data (the package) imports this module
from yolo.data.scan import ScanResult, load_rgb, scan
from yolo.data.yaml import DataConfig, list_images, load_data_yaml

LOG = logging.getLogger("yolo.data")
_REPORTED: set = set()  # scan issues already logged by this process (each bad file is reported once)


class YoloDataset:
    """A map-style dataset over one split. See the module docstring for the sample format.

    Args:
        files: image paths (e.g. `list_images(cfg, "val")`); they are scanned once (`self.scan`
            holds the kept files, labels and the problems found, `self.scan.summary()` a table).
        nc: number of classes (class ids >= nc are reported and dropped).
        imgsz: target size in pixels (the long side before letterboxing).
        augment: training augmentation with `hyp` (default: hyp.scratch-low values).
        rect: rectangular batches (val): needs `batch_size`; samples are ordered by aspect ratio.
        pad: extra stride fraction added to rect batch shapes (0.5 for val, as YOLOv5 does).
        cache_images: keep decoded, resized images in RAM (decoded once, with threads, in __init__).
        cache_dir: where to cache the label scan as JSON (None: no disk cache).
        seed: base of the per-sample random streams.
        workers: threads for the scan and the RAM cache (not DataLoader workers).
        names: class names (kept as `self.names`; `from_yaml` fills them in).
    """

    def __init__(self, files, nc: int, *, imgsz: int = 640, batch_size: int = 16, augment: bool = False,
                 hyp: A.AugmentHyp | None = None, rect: bool = False, stride: int = 32, pad: float = 0.0,
                 cache_images: bool = False, cache_dir: str | Path | None = None, seed: int = 0,
                 workers: int = 4, names: list[str] | None = None):
        self.names = list(names) if names is not None else None
        self.imgsz, self.augment, self.stride, self.seed = int(imgsz), bool(augment), int(stride), int(seed)
        self.hyp = hyp or A.AugmentHyp()
        if self.hyp.perspective or self.hyp.mixup:
            raise ValueError("perspective and mixup augmentation are not supported (set them to 0)")
        self.rect = bool(rect)
        self.mosaic = self.augment and not self.rect and self.hyp.mosaic > 0
        self.epoch = 0
        self.scan: ScanResult = scan(files, nc, cache_dir=cache_dir, workers=workers)
        new = [i for i in self.scan.issues if i not in _REPORTED]
        if new:  # once per process: training's train and val splits often share files (coco128)
            _REPORTED.update(new)
            LOG.warning("%s", self.scan.summary(issues=new))
        if not self.scan.files:
            raise ValueError("no usable images after the scan:\n" + self.scan.summary())
        self.files, self.labels = self.scan.files, self.scan.labels
        self.shapes = np.array(self.scan.shapes, dtype=np.float64)  # (n, 2) width, height
        self.batch_shapes = None
        if self.rect:
            self._make_rect_batches(batch_size, pad)
        self._ram: list[np.ndarray | None] = [None] * len(self.files)
        if cache_images:
            with ThreadPoolExecutor(max(1, workers)) as ex:
                self._ram = list(ex.map(self._try_decode, range(len(self.files))))
        self._warned: set[str] = set()

    @classmethod
    def from_yaml(cls, data: str | Path | DataConfig, split: str, **kw) -> "YoloDataset":
        """Build from a data YAML (path or parsed). Raises yolo.data.yaml.DataError if data is missing."""
        cfg = data if isinstance(data, DataConfig) else load_data_yaml(data)
        return cls(list_images(cfg, split), cfg.nc, names=list(cfg.names), **kw)

    def __len__(self) -> int:
        return len(self.files)

    def set_epoch(self, epoch: int) -> None:
        """Select the random streams of `epoch` (call before iterating each epoch)."""
        self.epoch = int(epoch)

    # -- loading -----------------------------------------------------------------------------
    def _make_rect_batches(self, batch_size: int, pad: float) -> None:
        ar = self.shapes[:, 1] / self.shapes[:, 0]  # h / w
        order = ar.argsort(kind="stable")
        self.files = [self.files[i] for i in order]
        self.labels = [self.labels[i] for i in order]
        self.shapes, ar = self.shapes[order], ar[order]
        n = len(ar)
        nb = math.ceil(n / batch_size)
        bi = np.arange(n) // batch_size
        shapes = np.ones((nb, 2))
        for b in range(nb):
            a = ar[bi == b]
            lo, hi = a.min(), a.max()
            if hi < 1:
                shapes[b] = [hi, 1]
            elif lo > 1:
                shapes[b] = [1, 1 / lo]
        self.batch_shapes = (np.ceil(shapes * self.imgsz / self.stride + pad).astype(int) * self.stride)
        self.batch_index = bi

    def _decode(self, i: int) -> np.ndarray:
        return load_rgb(self.files[i], self.imgsz, fast_downscale=self.augment)

    def _try_decode(self, i: int) -> np.ndarray | None:
        try:
            return self._decode(i)
        except Exception:  # noqa: BLE001 - left uncached; load_image reports it on first use
            return None

    def load_image(self, i: int) -> tuple[np.ndarray, tuple[int, int]]:
        """Image i resized so its long side is imgsz: (RGB uint8 (h, w, 3), (h0, w0) original)."""
        w0, h0 = (int(v) for v in self.shapes[i])
        img = self._ram[i]
        if img is None:
            try:
                img = self._decode(i)
            except Exception as e:  # noqa: BLE001 - decoding failed after a clean header check
                f = self.files[i]
                if f not in self._warned:
                    self._warned.add(f)
                    LOG.warning("cannot decode %s (%s): using a blank image without boxes", f, e)
                r = self.imgsz / max(w0, h0)
                img = np.full((max(1, round(h0 * r)), max(1, round(w0 * r)), 3), A.PAD_VALUE, np.uint8)
                self.labels[i] = np.zeros((0, 5), np.float32)
        return img, (h0, w0)

    # -- samples -----------------------------------------------------------------------------
    def __getitem__(self, i: int):
        rng = np.random.default_rng((self.seed, self.epoch, int(i)))
        hyp = self.hyp
        if self.mosaic and rng.random() < hyp.mosaic:
            img, labels = self._load_mosaic(i, rng)
            shapes = None
        else:
            img, (h0, w0) = self.load_image(i)
            h, w = img.shape[:2]
            shape = tuple(self.batch_shapes[self.batch_index[i]]) if self.rect else self.imgsz
            img, ratio, pad = A.letterbox(img, shape, auto=False, scaleup=self.augment)
            shapes = ((h0, w0), ((h / h0 * ratio[1], w / w0 * ratio[0]), pad))
            lb = self.labels[i]
            labels = np.concatenate([lb[:, :1], A.xywhn2xyxy(lb[:, 1:], ratio[0] * w, ratio[1] * h,
                                                             pad[0], pad[1])], 1) if len(lb) else \
                np.zeros((0, 5), np.float32)
            if self.augment:
                img, labels = A.random_affine(img, labels, rng, degrees=hyp.degrees, translate=hyp.translate,
                                              scale=hyp.scale, shear=hyp.shear)
        H, W = img.shape[:2]
        lab = np.zeros((len(labels), 5), np.float32)
        if len(labels):
            lab[:, 0] = labels[:, 0]
            lab[:, 1:] = A.xyxy2xywhn(labels[:, 1:5], W, H, clip=True)
        if self.augment:
            img = A.augment_hsv(img, rng, hyp.hsv_h, hyp.hsv_s, hyp.hsv_v)
            if rng.random() < hyp.flipud:
                img, lab = A.flip_ud(img, lab)
            if rng.random() < hyp.fliplr:
                img, lab = A.flip_lr(img, lab)
        out = np.zeros((len(lab), 6), np.float32)
        out[:, 1:] = lab
        return np.ascontiguousarray(img.transpose(2, 0, 1)), out, self.files[i], shapes

    def _load_mosaic(self, i: int, rng: np.random.Generator):
        s = self.imgsz
        idx = [i] + [int(k) for k in rng.integers(0, len(self), 3)]
        idx = [idx[k] for k in rng.permutation(4)]  # the sample's own image lands in any quadrant
        imgs, labels = zip(*[(self.load_image(k)[0], self.labels[k]) for k in idx])
        canvas, lab = A.mosaic4(list(imgs), list(labels), s, rng)
        hyp = self.hyp
        return A.random_affine(canvas, lab, rng, degrees=hyp.degrees, translate=hyp.translate, scale=hyp.scale,
                               shear=hyp.shear, border=(-s // 2, -s // 2))

    # -- batching ----------------------------------------------------------------------------
    @staticmethod
    def collate_fn(batch):
        """List of samples -> (imgs float32 (B, 3, H, W) in [0, 1], targets (n, 6)
        [image index, class, x, y, w, h normalized], paths tuple, shapes tuple)."""
        import torch

        imgs, labels, paths, shapes = zip(*batch)
        x = torch.from_numpy(np.stack(imgs)).float().div_(255.0)
        for k, lb in enumerate(labels):
            lb[:, 0] = k
        t = torch.from_numpy(np.concatenate(labels, 0)) if labels else torch.zeros((0, 6))
        return x, t, paths, shapes


def create_dataloader(data: str | Path | DataConfig, split: str, *, imgsz: int = 640, batch_size: int = 16,
                      augment: bool = False, hyp: A.AugmentHyp | None = None, rect: bool | None = None,
                      stride: int = 32, workers: int = 0, shuffle: bool | None = None, seed: int = 0,
                      cache_images: bool = False, cache_dir: str | Path | None = None):
    """(DataLoader, YoloDataset) for a split of a data YAML. Defaults: training split augmented and
    shuffled; anything else rect-batched with pad 0.5 and in order (the val setup)."""
    import torch
    from torch.utils.data import DataLoader

    rect = (not augment) if rect is None else rect
    shuffle = augment if shuffle is None else shuffle
    if rect and shuffle:
        shuffle = False  # rect shapes are per batch of the sorted order
    ds = YoloDataset.from_yaml(data, split, imgsz=imgsz, batch_size=batch_size, augment=augment, hyp=hyp,
                               rect=rect, stride=stride, pad=0.5 if rect else 0.0, cache_images=cache_images,
                               cache_dir=cache_dir, seed=seed)
    g = torch.Generator()
    g.manual_seed(seed)
    loader = DataLoader(ds, batch_size=batch_size, shuffle=shuffle, num_workers=workers, generator=g,
                        collate_fn=YoloDataset.collate_fn, pin_memory=False, drop_last=False)
    return loader, ds
