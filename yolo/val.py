"""The validation loop: run a detector over a dataloader, NMS, match to labels, mAP.

`validate(model, dataloader, ...)` is used by `recipec val`, by training (per-epoch mAP) and by
export verification. `model` is either a YoloModel (put in eval mode for the run, its mode is
restored afterwards) or any callable mapping a float32 (B, 3, H, W) tensor in [0, 1] to decoded
predictions (B, N, 5 + nc) (xywh pixels, objectness, class probabilities) as a tensor or a numpy
array, e.g. `OnnxModel(path)`. The dataloader yields `YoloDataset.collate_fn` batches.

As in YOLOv5's validation: NMS multi-label with conf 0.001, IoU 0.6, 300 detections per image;
predictions and labels are mapped back to the original image pixels (boxes clipped to it) before
matching. Per-class `images` counts the images that contain the class.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch

from yolo.arch import MAX_NC, STRIDES
from yolo.metrics import ap_per_class, box_iou, match_predictions, summarize
from yolo.nms import non_max_suppression, xywh2xyxy
from yolo.onnx_meta import parse_names, parse_strides


def scale_to_original(boxes: torch.Tensor, shapes) -> torch.Tensor:
    """xyxy boxes in network pixels -> original image pixels, clipped. `shapes` is the dataset's
    ((h0, w0), ((gain_h, gain_w), (pad_w, pad_h))); None leaves boxes unchanged."""
    if shapes is None:
        return boxes
    (h0, w0), ((gh, gw), (pw, ph)) = shapes
    b = boxes.clone()
    b[:, [0, 2]] = ((b[:, [0, 2]] - pw) / gw).clamp(0, w0)
    b[:, [1, 3]] = ((b[:, [1, 3]] - ph) / gh).clamp(0, h0)
    return b


# Images per forward pass on the CPU: as many as hold 8 images of 640 x 640 (8 at 640, 32 at 320). A batch of 32
# at 640 ran at 44-64 ms per image against 28-32 ms in chunks of 8 (yolov5n, 2 threads, outputs bit-equal): its
# activations (up to 210 MB each) are too large for the allocator to keep (engine/malloc.py), so every one is
# mapped and page-faulted afresh. Rect batch shapes, NMS and the loss still see the whole batch, and the report is
# the whole batch's to the bit (tested). Never fewer than 2 images: a batch of one takes other convolution kernels
# (the recall moved in its 7th digit).
CPU_CHUNK_PIXELS = 8 * 640 * 640


def _forward(model, imgs: torch.Tensor, with_raw: bool):
    """(decoded predictions, raw head outputs or None) of a YoloModel on `imgs`, in chunks on the CPU."""
    n = len(imgs)
    step = n if imgs.device.type != "cpu" else max(2, CPU_CHUNK_PIXELS // max(1, imgs.shape[2] * imgs.shape[3]))
    parts = [imgs[i:i + step] for i in range(0, n, step)]
    if with_raw:
        raws = [model.detect.raw(model.features(p)) for p in parts]
        raw = raws[0] if len(raws) == 1 else [torch.cat(levels) for levels in zip(*raws)]
        return model.detect.decode(raw), raw
    outs = [model(p) for p in parts]
    outs = [o[0] if isinstance(o, (list, tuple)) else o for o in outs]
    return (outs[0] if len(outs) == 1 else torch.cat(outs)), None


def _resolve_names(model, dataloader, names, nc):
    if names is None:
        names = getattr(model, "names", None) or getattr(getattr(dataloader, "dataset", None), "names", None)
    if names is not None:
        return list(names)
    if nc is None:
        nc = getattr(model, "nc", None)
    return [str(i) for i in range(int(nc))] if nc is not None else None


@torch.no_grad()
def validate(model, dataloader, *, conf: float = 0.001, iou: float = 0.6, device: str | torch.device = "cpu",
             half: bool = False, max_det: int = 300, names: list[str] | None = None,
             progress=None, loss_fn=None, plots_dir: str | Path | None = None) -> dict:
    """Evaluate `model` on every batch of `dataloader`; see the module docstring.

    Returns {"images", "instances", "precision", "recall", "map50", "map50_95",
    "per_class": [{"class", "name", "images", "instances", "precision", "recall", "map50",
    "map50_95"}], "speed_ms": {"preprocess", "inference", "nms"} (per image), "seconds"}.
    `progress`, if given, is called with (batch_index, n_batches) after each batch.
    `loss_fn` (a `yolo.loss.YoloLoss`), with a YoloModel (it needs `features` and `detect`), adds
    "loss": [box, obj, cls], the mean loss items over batches, from the same forward pass.
    `plots_dir` writes YOLOv5's validation plots there (`yolo.val_plots`) and lists them under "plots".
    """
    device = torch.device(device)
    is_module = isinstance(model, torch.nn.Module)
    was_training = is_module and model.training
    if is_module:
        model.eval()
        param = next(model.parameters(), None)
        if param is not None and param.device != device:
            model.to(device)
        if half:
            model.half()
    in_dtype = torch.float16 if (half and is_module) else torch.float32
    names = _resolve_names(model, dataloader, names, None)
    stats: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    img_per_cls: dict[int, int] = {}
    inst_per_cls: dict[int, int] = {}
    seen = 0
    nonfinite = 0  # images whose raw output holds a NaN or inf (the model is broken; the mAP means nothing)
    dt = [0.0, 0.0, 0.0]
    with_loss = is_module and hasattr(model, "features") and hasattr(model, "detect")
    loss_sum, n_loss = torch.zeros(3), 0
    t_start = time.perf_counter()
    n_batches = len(dataloader) if hasattr(dataloader, "__len__") else 0
    plots = None
    if plots_dir is not None:
        from yolo.val_plots import ValPlots

        plots = ValPlots(plots_dir, names)
    try:
        for bi, (imgs, targets, _paths, shapes) in enumerate(dataloader):
            t0 = time.perf_counter()
            imgs = imgs.to(device, non_blocking=True).to(in_dtype)
            if imgs.dtype == torch.uint8:
                imgs = imgs.float() / 255
            targets = targets.to(device)
            t1 = time.perf_counter()
            if loss_fn is not None and with_loss:
                out, raw = _forward(model, imgs, with_raw=True)
                loss_sum += loss_fn([r.float() for r in raw], targets)[1].cpu()
                n_loss += 1
            elif is_module:
                out, _ = _forward(model, imgs, with_raw=False)
            else:
                out = model(imgs)
            if isinstance(out, (list, tuple)):
                out = out[0]
            out = torch.as_tensor(out).to(device).float()
            nonfinite += int((~torch.isfinite(out)).flatten(1).any(1).sum()) if out.numel() else 0
            t2 = time.perf_counter()
            dets = non_max_suppression(out, conf, iou, max_det, multi_label=True)
            t3 = time.perf_counter()
            dt[0] += t1 - t0
            dt[1] += t2 - t1
            dt[2] += t3 - t2
            H, W = imgs.shape[2:]
            scale = torch.tensor([W, H, W, H], device=device, dtype=torch.float32)
            if plots is not None and bi == 0:
                plots.first_batch(imgs, targets, dets)
            for si, pred in enumerate(dets):
                seen += 1
                lab = targets[targets[:, 0] == si, 1:]
                tcls = lab[:, 0].long().cpu().numpy()
                for c in np.unique(tcls).tolist():
                    img_per_cls[c] = img_per_cls.get(c, 0) + 1
                for c in tcls.tolist():
                    inst_per_cls[c] = inst_per_cls.get(c, 0) + 1
                if pred.shape[0] == 0:
                    if plots is not None:
                        plots.image(pred, lab[:, 0], None)
                    if len(tcls):
                        stats.append((np.zeros((0, 10), bool), np.zeros(0), np.zeros(0), tcls))
                    continue
                shp = shapes[si] if shapes is not None else None
                pbox = scale_to_original(pred[:, :4], shp)
                if len(tcls):
                    tbox = scale_to_original(xywh2xyxy(lab[:, 1:5].float()) * scale, shp)
                    correct = match_predictions(pred[:, 5], lab[:, 0], box_iou(tbox, pbox))
                else:
                    correct = np.zeros((pred.shape[0], 10), bool)
                if plots is not None:
                    plots.image(torch.cat([pbox, pred[:, 4:6]], 1), lab[:, 0], tbox if len(tcls) else None)
                stats.append((correct, pred[:, 4].cpu().numpy(), pred[:, 5].cpu().numpy(), tcls))
            if progress is not None:
                progress(bi, n_batches)
    finally:
        if is_module:
            if half:
                model.float()
            model.train(was_training)
    if stats:
        tp, cf, pc, tc = (np.concatenate([s[k] for s in stats], 0) for k in range(4))
    else:
        tp, cf, pc, tc = np.zeros((0, 10), bool), np.zeros(0), np.zeros(0), np.zeros(0)
    cls_stats = ap_per_class(tp, cf, pc, tc)
    if names is None:
        n = int(max([*inst_per_cls.keys(), -1])) + 1
        names = [str(i) for i in range(n)]
    report = {"images": seen, "instances": int(len(tc)), "nonfinite_images": nonfinite}
    report.update(summarize(cls_stats, names, images_per_class=img_per_cls, instances_per_class=inst_per_cls))
    per_img = 1000.0 / max(seen, 1)
    report["speed_ms"] = {"preprocess": dt[0] * per_img, "inference": dt[1] * per_img, "nms": dt[2] * per_img}
    report["seconds"] = time.perf_counter() - t_start
    if plots is not None:
        report["plots"] = [str(p) for p in plots.finish(cls_stats)]
    if n_loss:
        report["loss"] = (loss_sum / n_loss).tolist()
    return report


class OutputTooLarge(ValueError):
    """An ONNX model's output is larger than a detector's for its input size."""


def max_candidates(h: int, w: int, factor: int = 8) -> int:
    """Candidates per image an ONNX detector may output for an (h, w) input: `factor` x a YOLOv5 head's 3 anchors
    on every P3/8, P4/16 and P5/32 cell (8x leaves room for more anchors or a P2 level), at least 1000."""
    cells = sum(math.ceil(h / s) * math.ceil(w / s) for s in STRIDES)
    return max(factor * 3 * cells, 1000 if factor > 1 else 0)


def _check_declared_output(path: str, imgsz: int | None) -> None:
    """Refuse a graph whose first output, as declared or as ONNX shape inference derives it, is larger than a
    detector's for its static input size (else `imgsz`) — before a session is made: onnxruntime folds a constant
    output (a 250-byte file can declare 2M x 85) at session creation."""
    import onnx

    try:
        proto = onnx.load(path, load_external_data=False)
        proto = onnx.shape_inference.infer_shapes(proto)
    except Exception:  # noqa: BLE001 - onnxruntime then reports what is wrong with the file
        return
    graph = proto.graph
    inits = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in inits]
    if not inputs or not graph.output:
        return

    def dims(v):
        return [d.dim_value if d.HasField("dim_value") else 0 for d in v.type.tensor_type.shape.dim]

    din, dout = dims(inputs[0]), dims(graph.output[0])
    if len(din) != 4 or len(dout) != 3:
        return
    h, w = (din[2], din[3]) if din[2] and din[3] else (imgsz, imgsz)
    if h and w:
        _check_rows(path, dout, h, w)


def _check_rows(path: str, shape, h: int, w: int) -> None:
    """Refuse an output (B, N, K) larger than a detector for an (h, w) input can produce (`max_candidates`,
    `MAX_NC`): NMS on it would allocate without bound."""
    n, k = int(shape[1]), int(shape[2])
    lim = max_candidates(h, w)
    if n > lim:
        raise OutputTooLarge(f"{path}: the output has {n} candidates per image, more than {lim} for a {h}x{w} input "
                             f"({max_candidates(h, w, factor=1)} for a YOLOv5): not a YOLOv5 detector's output")
    if k - 5 > MAX_NC:
        raise OutputTooLarge(f"{path}: the output has {k} values per candidate, more than 5 + {MAX_NC} classes")


class OnnxModel:
    """An onnxruntime session as a `validate` callable: float32 (B, 3, H, W) -> (B, N, 5 + nc) tensor.

    Attributes: `nc` (from the output shape, if static), `names` (from the metadata of a recipec or YOLOv5
    export), `stride` (the largest, 32 without metadata), `strides`, `fixed_hw` ((H, W) when the input spatial
    size is static, else None), `fixed_batch` (int or None). Batches smaller than a static batch
    size are padded with zeros and the extra outputs dropped. onnxruntime is imported here only.
    """

    def __init__(self, path: str | Path, providers: list[str] | None = None, imgsz: int | None = None):
        import onnxruntime as ort

        self.path = str(path)
        _check_declared_output(self.path, imgsz)  # before onnxruntime folds (allocates) any constant output
        self.session = ort.InferenceSession(self.path, providers=providers or ["CPUExecutionProvider"])
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        dims = list(inp.shape)
        if len(dims) != 4:
            raise ValueError(f"{path}: expected a (B, 3, H, W) input, got {dims}")
        static = [d if isinstance(d, int) and d > 0 else None for d in dims]
        self.fixed_batch = static[0]
        self.fixed_hw = (static[2], static[3]) if static[2] and static[3] else None
        out_shape = self.session.get_outputs()[0].shape
        last = out_shape[-1] if out_shape else None
        self.nc = last - 5 if isinstance(last, int) and last > 5 else None
        meta = self.session.get_modelmeta().custom_metadata_map or {}
        names = parse_names(meta.get("names"))  # YOLOv5's dict text or an older recipec export's JSON list
        self.names = names if names is not None and (self.nc is None or len(names) == self.nc) else None
        self.strides = parse_strides(meta)
        self.stride = max(self.strides) if self.strides else 32
        if len(out_shape) != 3:
            raise ValueError(f"{path}: expected a (B, N, 5 + nc) output, got {list(out_shape)}")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        a = x.detach().cpu().float().numpy()
        b = a.shape[0]
        fb = self.fixed_batch
        if fb and b % fb:  # pad to a whole number of static batches
            a = np.concatenate([a, np.zeros((fb - b % fb, *a.shape[1:]), np.float32)], 0)
        step = fb or a.shape[0]
        ys = []
        for k in range(0, a.shape[0], step):
            y = self.session.run(None, {self.input_name: a[k:k + step]})[0]
            if y.ndim != 3:
                raise RuntimeError(f"{self.path}: expected a (B, N, 5 + nc) output, got shape {list(y.shape)}")
            try:
                _check_rows(self.path, y.shape, *a.shape[2:])
            except OutputTooLarge as e:
                raise RuntimeError(str(e)) from None
            ys.append(y)
        y = ys[0] if len(ys) == 1 else np.concatenate(ys, 0)
        return torch.from_numpy(np.ascontiguousarray(y[:b])).float()
