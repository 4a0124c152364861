"""`verify`: an export is done only when it has been run and compared.

Checks (each a `Check(name, ok, detail)`; `VerifyReport.ok` = all passed):
1. `onnx.checker` accepts the file;
2. an onnxruntime CPU session loads it;
3. raw outputs: max |torch - ORT| over the decoded `(B, N, 5+nc)` output on real images, split into
   boxes (xywh, input pixels) and scores (probabilities), against `THRESHOLDS[precision]`;
4. detections after NMS (conf 0.25, IoU 0.45) agree: a torch box is matched by an ORT box of the same
   class with IoU >= 0.5; agreement = matched / max(#torch, #ort) per image, worst image reported;
5. per-layer sparsity: every pruned (zero) weight of the model is zero in the ONNX initializer; float
   exports have exactly the same zero count; int8 weights have exactly as many zeros as torch's
   fake-quantized weight (pruned zeros plus small weights that round to 0);
6. (quantized) every quantized conv of the model has its QDQ pair: int8 weight -> DequantizeLinear and
   a QuantizeLinear -> DequantizeLinear on its input; with `QuantSpec.quantize_silu`, every quantized
   SiLU is Sigmoid and Mul between Q/DQ (`graph.silu_qdq`), the layout onnxruntime runs in int8.
The torch reference is the model as given (a QAT model in eval mode is the fake-quant model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from engine.export.graph import conv_infos, metadata, silu_qdq
from engine.export.modules import quantized_weight
from engine.pruning.maskset import sparsity_table
from engine.pruning.params import prunable_param_names
from engine.quant.qat import is_qat, qat_modules
from engine.quant.fold import QATAdd

# Per precision. box: max |d xywh| over all candidates in pixels (fp32), or over candidates with torch
# confidence >= 0.1 relative to the box's larger side (int8); score: max |d| of objectness / class probabilities over all
# candidates; agreement: worst-image NMS agreement.
# fp32: only float reassociation differs (BN fold, kernel order). int8: activations that land on a rounding
# boundary move one quantization step in ORT vs torch (about 0.03 % at the 2nd layer, measured on
# yolov5n) and the difference propagates, so boxes and scores move a little; detections must still agree.
THRESHOLDS = {
    "fp32": {"box": 0.05, "box_unit": "px", "score": 1e-3, "agreement": 0.99},
    "int8": {"box": 0.10, "box_unit": "of box size", "score": 0.10, "agreement": 0.90},
}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class VerifyReport:
    path: str
    precision: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def table(self) -> list[tuple[str, str, str]]:
        return [(c.name, "PASS" if c.ok else "FAIL", c.detail) for c in self.checks]


def _images(paths: Sequence[str | Path], h: int, w: int) -> torch.Tensor:
    from yolo.data.augment import letterbox
    from yolo.predict import load_image

    xs = []
    for p in paths:
        img = p if isinstance(p, np.ndarray) else load_image(p)  # paths, or RGB uint8 arrays
        boxed, _, _ = letterbox(img, (h, w), auto=False)
        xs.append(torch.from_numpy(np.ascontiguousarray(boxed.transpose(2, 0, 1))).float().div_(255.0))
    return torch.stack(xs)


def _box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    from yolo.nms import box_iou
    return box_iou(a, b)


def _agreement(pt: torch.Tensor, po: torch.Tensor) -> float:
    """Fraction of boxes matched (same class, IoU >= 0.5, greedy by confidence)."""
    if len(pt) == 0 and len(po) == 0:
        return 1.0
    if len(pt) == 0 or len(po) == 0:
        return 0.0
    iou = _box_iou(pt[:, :4], po[:, :4])
    iou[pt[:, 5:6] != po[:, 5:6].T] = 0
    used, matched = set(), 0
    for i in range(len(pt)):
        order = torch.argsort(iou[i], descending=True)
        for j in order.tolist():
            if iou[i, j] < 0.5:
                break
            if j not in used:
                used.add(j)
                matched += 1
                break
    return matched / max(len(pt), len(po))


def _run(fn, name: str, report: VerifyReport) -> bool:
    try:
        ok, detail = fn()
    except Exception as e:  # a failed check is a result, not a crash
        ok, detail = False, f"{type(e).__name__}: {e}"
    report.checks.append(Check(name, ok, detail))
    return ok


def verify(onnx_path: str | Path, torch_model: nn.Module, images: Sequence[str | Path], *,
           imgsz: int | None = None, threads: int | None = None) -> VerifyReport:
    """Run every check (see module docstring); never raises for a failed check."""
    import onnx
    import onnxruntime as ort

    onnx_path = str(onnx_path)
    precision = "int8" if is_qat(torch_model) else "fp32"
    th = THRESHOLDS[precision]
    report = VerifyReport(onnx_path, precision)
    state: dict = {}

    def check_model():
        onnx.checker.check_model(onnx_path)
        state["model"] = onnx.load(onnx_path)
        return True, f"opset {state['model'].opset_import[0].version}"
    if not _run(check_model, "onnx.checker", report):
        return report

    def load():
        so = ort.SessionOptions()
        if threads:
            so.intra_op_num_threads = threads
        state["sess"] = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        return True, "CPUExecutionProvider"
    if not _run(load, "onnxruntime load", report):
        return report

    def outputs():
        sess = state["sess"]
        shape = sess.get_inputs()[0].shape
        meta = metadata(state["model"])
        size = imgsz or (meta.get("imgsz") or [640, 640])[0]
        h = shape[2] if isinstance(shape[2], int) else size
        w = shape[3] if isinstance(shape[3], int) else size
        x = _images(images, h, w)
        b = shape[0] if isinstance(shape[0], int) else len(x)
        pad = (-len(x)) % b
        if pad:
            x = torch.cat([x, x[torch.arange(pad) % len(x)]])
        torch_model.eval()
        pts, pos = [], []
        for i in range(0, len(x), b):
            with torch.no_grad():
                pts.append(torch_model(x[i:i + b]))
            pos.append(torch.from_numpy(sess.run(None, {sess.get_inputs()[0].name: x[i:i + b].numpy()})[0]))
        pt, po = torch.cat(pts), torch.cat(pos)
        state["pt"], state["po"] = pt, po
        if pt.shape != po.shape:
            return False, f"shape torch {tuple(pt.shape)} vs onnx {tuple(po.shape)}"
        d = (pt - po).abs()
        raw = float(d.max())
        conf = pt[..., 4:5] * pt[..., 5:].amax(-1, keepdim=True)
        sel = (conf >= 0.1).squeeze(-1) if th["box_unit"] != "px" else torch.ones_like(conf[..., 0], dtype=torch.bool)
        dbox = d[..., :4][sel]
        if th["box_unit"] != "px":
            dbox = dbox / pt[..., 2:4][sel].amax(-1, keepdim=True).clamp(min=1.0)
        db = float(dbox.max()) if dbox.numel() else 0.0
        ds = float(d[..., 4:].max())
        ok = db <= th["box"] and ds <= th["score"]
        return ok, (f"{len(x)} image(s) {h}x{w}: max|diff| raw {raw:.4g}; boxes {db:.4g} {th['box_unit']} "
                    f"(<= {th['box']}, {int(sel.sum())} candidates); scores {ds:.4g} (<= {th['score']})")
    if _run(outputs, f"raw outputs ({precision})", report):
        def boxes():
            from yolo.nms import non_max_suppression
            dt, do = non_max_suppression(state["pt"]), non_max_suppression(state["po"])
            ags = [_agreement(a, b) for a, b in zip(dt, do)]
            worst = min(ags) if ags else 1.0
            n = sum(len(a) for a in dt)
            return worst >= th["agreement"], (f"{n} torch boxes; worst-image agreement {worst:.3f} "
                                              f"(>= {th['agreement']})")
        _run(boxes, "boxes after NMS", report)

    def sparsity():
        infos = {c.module: c for c in conv_infos(state["model"])}
        qmods = {n: m for n, m in qat_modules(torch_model) if not isinstance(m, QATAdd)}
        names = prunable_param_names(torch_model)
        bad, n_checked, tot_z, tot_q = [], 0, 0, 0
        for r in sparsity_table(torch_model, names):
            mod = r.name[: -len(".weight")]
            key = mod[:-5] if mod.endswith(".conv") else mod
            c = infos.get(key)
            if c is None or c.weight.size != r.numel:
                bad.append(f"{r.name}: no matching conv in the graph")
                continue
            n_checked += 1
            pruned = (torch_model.get_parameter(r.name).detach() == 0).numpy()
            onnx_zero = c.weight == 0
            if not onnx_zero[pruned].all():
                bad.append(f"{r.name}: {int((~onnx_zero[pruned]).sum())} pruned weights are nonzero in onnx")
                continue
            tot_z += r.zeros
            if key in qmods:  # int8: zeros = pruned + weights that round to 0; equal torch's fake-quant zeros
                zq = int((quantized_weight(qmods[key]) == 0).sum())
                tot_q += int(onnx_zero.sum())
                if int(onnx_zero.sum()) != zq:
                    bad.append(f"{r.name}: {zq} zeros in torch fake-quant weight, {int(onnx_zero.sum())} in onnx int8")
            elif int(onnx_zero.sum()) != r.zeros:
                bad.append(f"{r.name}: {r.zeros} zeros in torch, {int(onnx_zero.sum())} in onnx")
        if bad:
            return False, "; ".join(bad[:3]) + (f" (+{len(bad) - 3} more)" if len(bad) > 3 else "")
        extra = f"; int8 zeros {tot_q} = torch fake-quant zeros" if qmods else ""
        return True, f"{n_checked} conv weights, all {tot_z} pruned zeros kept{extra}"
    _run(sparsity, "per-layer sparsity", report)

    if precision == "int8":
        def qdq():
            infos = {c.module: c for c in conv_infos(state["model"])}
            missing, n = [], 0
            for name, m in qat_modules(torch_model):
                if isinstance(m, QATAdd):
                    continue
                n += 1
                c = infos.get(name)
                if c is None or not c.int8_weight or not c.input_qdq:
                    missing.append(name)
            if missing:
                return False, f"{len(missing)}/{n} quantized convs lack a QDQ pair: {', '.join(missing[:4])}"
            return True, f"{n}/{n} quantized convs have int8 weights + input Q/DQ"
        _run(qdq, "QDQ pairs", report)
        spec = getattr(torch_model, "_qat_spec", None)
        if spec is not None and spec.quantize_silu:
            def silu():
                found = silu_qdq(state["model"])
                want = [n for n, m in qat_modules(torch_model) if getattr(m, "sq", None) is not None]
                bad = [n for n in want if not found.get(n)]
                if bad:
                    return False, f"{len(bad)}/{len(want)} quantized SiLUs lack Q/DQ: {', '.join(bad[:4])}"
                return True, f"{len(want)}/{len(want)} quantized SiLUs are Sigmoid and Mul between Q/DQ"
            _run(silu, "SiLU Q/DQ", report)
    return report
