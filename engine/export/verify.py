"""`verify`: an export is done only when it has been run and compared.

Checks (each a `Check(name, ok, detail)`; `VerifyReport.ok` = all passed):
1. `onnx.checker` accepts the file;
2. an onnxruntime CPU session loads it;
3. raw outputs: |torch - ORT| over the decoded `(B, N, 5+nc)` output on real images, split into
   boxes (xywh) and scores (probabilities), against `THRESHOLDS[precision]`; for int8 the limits scale
   with torch's own noise floor (the fake-quant model re-run with one-ulp jitter on every quantizer
   input; see THRESHOLDS), because a one-step rounding flip anywhere grows through an int8 graph;
4. detections after NMS (conf 0.25, IoU 0.45) agree: a torch box is matched by an ORT box of the same
   class with IoU >= 0.5; agreement = matched / max(#torch, #ort) per image; fp32: worst image,
   int8: mean over images against torch's own jittered agreement, with a dead band: a detection with
   conf >= 0.30 must be found among the other side's detections at conf 0.20 (a box scoring within 0.05 of
   the threshold may flip: one rounding step can move a score that far); when torch detects nothing on any
   image there is nothing to compare, and with `require_boxes` (`recipec export`) the check fails;
5. per-layer sparsity: every pruned (zero) weight of the model is zero in the ONNX initializer; float
   exports have exactly the same zero count; int8 weights have exactly as many zeros as torch's
   fake-quantized weight (pruned zeros plus small weights that round to 0);
6. (quantized) every quantized conv of the model has its QDQ pair: int8 weight -> DequantizeLinear and
   a QuantizeLinear -> DequantizeLinear on its input; with `QuantSpec.quantize_silu`, every quantized
   SiLU is Sigmoid and Mul between Q/DQ (`graph.silu_qdq`), the layout onnxruntime runs in int8.
7. (a recipec checkpoint's `masks` / `sparsity` given) "sparsity": the export keeps what the checkpoint
   recorded: zero wherever its masks prune, in torch and ONNX, and the recorded sparsity reached
   (`engine.export.mask_check`); refilled zeros or flipped masks fail, naming the layer.
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
# confidence >= 0.1 relative to the box's larger side (int8); score: max |d| of objectness / class probabilities over
# those candidates; agreement: NMS agreement (fp32: worst image; int8: mean over images).
# fp32: only float reassociation differs (BN fold, kernel order): tight absolute limits.
# int8: an activation that lands within float rounding of a rounding boundary moves one quantization step in ORT vs
# torch, and in a graph with many quantizers these flips grow layer after layer (torch is just as sensitive to
# itself: one float ulp of jitter on every quantizer input moves yolov5n's scores by up to ~0.2). So the int8 limits
# are relative to torch's own *noise floor*, measured in the same call: the torch model re-run with every
# fake-quant input scaled by (1 +- 2**-22) (one or two float32 ulps). A check passes when ORT differs from torch by
# no more than `noise_factor` x that floor (maxima) or `mean_noise_factor` x (mean score difference), or by no more
# than the fixed limit, whichever is larger, and never more than the cap. Measured (yolov5n int8 graph, 32 coco128 images): ORT vs torch max score diff 0.123, mean 4.7e-4,
# NMS agreement 0.951; torch vs its one-ulp jitter 0.100-0.124, 4.3e-4-4.5e-4, 0.963-0.977.
THRESHOLDS = {
    "fp32": {"box": 0.05, "box_unit": "px", "score": 1e-3, "agreement": 0.99},
    "int8": {"box": 0.10, "box_unit": "of box size", "score": 0.10, "agreement": 0.90,
             "score_mean": 1e-3, "noise_factor": 3.0, "mean_noise_factor": 2.0, "agreement_slack": 0.05, "box_cap": 0.5, "score_cap": 0.5,
             "agreement_floor": 0.5, "agreement_margin": 0.05},
}
JITTER = (2.0 ** -22, -(2.0 ** -22))  # relative input jitter of every fake-quant for the int8 noise floor


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
    images: int = 0  # images run through both models
    boxes: int = 0   # torch detections after NMS (conf 0.25) that the box check compared
    on_check: object = field(default=None, repr=False, compare=False)  # called after each check (progress)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def table(self) -> list[tuple[str, str, str]]:
        return [(c.name, "PASS" if c.ok else "FAIL", c.detail) for c in self.checks]

    def to_json(self) -> dict:
        return {"ok": self.ok, "images": self.images, "boxes": self.boxes,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks]}


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


def _matched(a: torch.Tensor, b: torch.Tensor) -> int:
    """How many detections of `a` find a distinct detection of `b` of the same class with IoU >= 0.5 (greedy,
    in `a`'s order, i.e. by confidence)."""
    if len(a) == 0 or len(b) == 0:
        return 0
    iou = _box_iou(a[:, :4], b[:, :4])
    iou[a[:, 5:6] != b[:, 5:6].T] = 0
    used: set[int] = set()
    for i in range(len(a)):
        for j in torch.argsort(iou[i], descending=True).tolist():
            if iou[i, j] < 0.5:
                break
            if j not in used:
                used.add(j)
                break
    return len(used)


def _agreement(pt: torch.Tensor, po: torch.Tensor) -> float:
    """Fraction of detections matched: matched / max(#torch, #ort) (1.0 when both are empty)."""
    if len(pt) == 0 and len(po) == 0:
        return 1.0
    return _matched(pt, po) / max(len(pt), len(po))


def _hysteresis_agreement(pt_lo: torch.Tensor, po_lo: torch.Tensor, conf: float, margin: float) -> float:
    """Agreement with a dead band around the NMS threshold: each side's detections with confidence >= conf +
    margin must be found among the other side's detections at conf - margin (`*_lo`: NMS at conf - margin).
    A detection whose score sits within `margin` of the threshold may appear or vanish without counting."""
    t_hi, o_hi = pt_lo[pt_lo[:, 4] >= conf + margin], po_lo[po_lo[:, 4] >= conf + margin]
    total = len(t_hi) + len(o_hi)
    if total == 0:
        return 1.0
    return (_matched(t_hi, po_lo) + _matched(o_hi, pt_lo)) / total


def _run(fn, name: str, report: VerifyReport) -> bool:
    try:
        ok, detail = fn()
    except Exception as e:  # a failed check is a result, not a crash
        ok, detail = False, f"{type(e).__name__}: {e}"
    report.checks.append(Check(name, ok, detail))
    if callable(report.on_check):
        report.on_check(len(report.checks) - 1)
    return ok


def _torch_outputs(model: nn.Module, batches: list[torch.Tensor], jitter: float = 0.0) -> torch.Tensor:
    """Eval-mode outputs; with `jitter`, every fake-quant input is scaled by (1 + jitter) (the noise floor)."""
    from engine.quant.fake_quant import ActFakeQuant

    hooks = [m.register_forward_pre_hook(lambda _m, a: (a[0] * (1.0 + jitter),) + tuple(a[1:]))
             for m in model.modules() if jitter and isinstance(m, ActFakeQuant)]
    try:
        with torch.no_grad():
            return torch.cat([model(xb) for xb in batches])
    finally:
        for hk in hooks:
            hk.remove()


def _diff_stats(pt: torch.Tensor, po: torch.Tensor, box_unit: str) -> dict:
    """raw: max |d| over everything; box / score: max |d| over the candidates that count (all candidates for
    px boxes, torch conf >= 0.1 otherwise; boxes relative to the box's larger side unless px); score_mean: mean
    |d| of scores over those candidates; n: their number."""
    d = (pt - po).abs()
    if box_unit == "px":
        sel = torch.ones(pt.shape[:-1], dtype=torch.bool)
    else:
        sel = (pt[..., 4] * pt[..., 5:].amax(-1)) >= 0.1
    dbox = d[..., :4][sel]
    if box_unit != "px":
        dbox = dbox / pt[..., 2:4][sel].amax(-1, keepdim=True).clamp(min=1.0)
    dsc = d[..., 4:][sel]
    return {"raw": float(d.max()) if d.numel() else 0.0,
            "box": float(dbox.max()) if dbox.numel() else 0.0,
            "score": float(dsc.max()) if dsc.numel() else 0.0,
            "score_mean": float(dsc.mean()) if dsc.numel() else 0.0,
            "n": int(sel.sum())}


def _nms_agreements(pt: torch.Tensor, po: torch.Tensor, margin: float = 0.0,
                    conf: float = 0.25) -> tuple[list[float], int]:
    """Per-image agreement of the detections after NMS (conf 0.25, IoU 0.45; with `margin`, the dead band of
    `_hysteresis_agreement`), and the number of torch detections at conf 0.25."""
    from yolo.nms import non_max_suppression

    if margin <= 0:
        dt, do = non_max_suppression(pt, conf), non_max_suppression(po, conf)
        return [_agreement(a, b) for a, b in zip(dt, do)], sum(len(a) for a in dt)
    dt, do = non_max_suppression(pt, conf - margin), non_max_suppression(po, conf - margin)
    return ([_hysteresis_agreement(a, b, conf, margin) for a, b in zip(dt, do)],
            sum(int((a[:, 4] > conf).sum()) for a in dt))


def verify(onnx_path: str | Path, torch_model: nn.Module, images: Sequence[str | Path], *,
           imgsz: int | None = None, threads: int | None = None, require_boxes: bool = False,
           progress: bool = False, masks: dict | None = None, recorded_sparsity: dict | None = None,
           promised_sparsity: dict | None = None) -> VerifyReport:
    """Run every check (see module docstring); never raises for a failed check.

    `require_boxes`: the box check fails when torch detects nothing on any image ("0 boxes compared: nothing to
    compare"), so that a PASS always compared detections (`recipec export` sets it). `progress`: a bar over the
    checks on a terminal (`engine.progress`). `masks` / `recorded_sparsity` (a recipec checkpoint's `masks` and
    `sparsity`) / `promised_sparsity` (`mask_check.recipe_targets`): adds the "sparsity" check of
    `engine.export.mask_check` (the export keeps what the checkpoint recorded and its recipe promised)."""
    from engine.progress import progress_callback

    precision = "int8" if is_qat(torch_model) else "fp32"
    with progress_callback(f"verifying ({precision})", enabled=progress) as bar:
        n = 6 if precision == "int8" else 5  # the checks a model of that precision runs
        report = _verify(str(onnx_path), torch_model, images, precision, imgsz, threads, require_boxes,
                         (lambda i: bar(i, max(n, i + 1))) if bar else None)
        if masks or recorded_sparsity or promised_sparsity:
            _run(lambda: _sparsity_vs_checkpoint(onnx_path, torch_model, masks, recorded_sparsity,
                                                 promised_sparsity), "sparsity", report)
        return report


def _sparsity_vs_checkpoint(onnx_path, torch_model: nn.Module, masks, recorded, promised) -> tuple[bool, str]:
    import onnx

    from engine.export.mask_check import sparsity_check

    return sparsity_check(torch_model, onnx.load(str(onnx_path)), masks or {}, recorded or {}, promised or {})


def _verify(onnx_path: str, torch_model: nn.Module, images, precision: str, imgsz, threads, require_boxes,
            on_check) -> VerifyReport:
    import onnx
    import onnxruntime as ort

    th = THRESHOLDS[precision]
    report = VerifyReport(onnx_path, precision, on_check=on_check)
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
        report.images = len(x)
        b = shape[0] if isinstance(shape[0], int) else len(x)
        pad = (-len(x)) % b
        if pad:
            x = torch.cat([x, x[torch.arange(pad) % len(x)]])
        torch_model.eval()
        batches = [x[i:i + b] for i in range(0, len(x), b)]
        pt = _torch_outputs(torch_model, batches)
        po = torch.cat([torch.from_numpy(sess.run(None, {sess.get_inputs()[0].name: xb.numpy()})[0])
                        for xb in batches])
        state["pt"], state["po"] = pt, po
        if pt.shape != po.shape:
            return False, f"shape torch {tuple(pt.shape)} vs onnx {tuple(po.shape)}"
        d = _diff_stats(pt, po, th["box_unit"])
        head = f"{len(x)} image(s) {h}x{w}: max|diff| of all raw outputs {d['raw']:.4g}; "
        if precision == "fp32":
            ok = d["box"] <= th["box"] and d["score"] <= th["score"]
            return ok, (head + f"boxes {d['box']:.4g} {th['box_unit']} (<= {th['box']}, {d['n']} candidates); "
                        f"scores {d['score']:.4g} (<= {th['score']})")
        floors = [_torch_outputs(torch_model, batches, jitter=r) for r in JITTER]
        state["floors"] = floors
        fl = [_diff_stats(pt, pj, th["box_unit"]) for pj in floors]
        f = {k: max(s[k] for s in fl) for k in ("box", "score", "score_mean")}
        k = th["noise_factor"]
        lim_box = min(max(th["box"], k * f["box"]), th["box_cap"])
        lim_score = min(max(th["score"], k * f["score"]), th["score_cap"])
        lim_mean = max(th["score_mean"], th["mean_noise_factor"] * f["score_mean"])
        ok = d["box"] <= lim_box and d["score"] <= lim_score and d["score_mean"] <= lim_mean
        return ok, (head + f"{d['n']} candidates (torch conf >= 0.1): boxes {d['box']:.3g} {th['box_unit']} "
                    f"(<= {lim_box:.3g}; torch's own 1-ulp noise {f['box']:.3g}); scores max {d['score']:.3g} "
                    f"(<= {lim_score:.3g}; noise {f['score']:.3g}), mean {d['score_mean']:.2g} "
                    f"(<= {lim_mean:.2g}; noise {f['score_mean']:.2g})")
    if _run(outputs, f"raw outputs ({precision})", report):
        def agreement():
            margin = th.get("agreement_margin", 0.0)
            ags, n = _nms_agreements(state["pt"], state["po"], margin)
            report.boxes = n
            worst = min(ags) if ags else 1.0
            if precision == "fp32":
                return n, worst >= th["agreement"], (f"{n} torch boxes; worst-image agreement {worst:.3f} "
                                                     f"(>= {th['agreement']})")
            mean = float(np.mean(ags)) if ags else 1.0
            noise = min(float(np.mean(_nms_agreements(state["pt"], pj, margin)[0])) for pj in state["floors"])
            need = max(th["agreement_floor"], min(th["agreement"], noise - th["agreement_slack"]))
            return n, mean >= need, (f"{n} torch boxes; mean agreement {mean:.3f} (boxes within {margin} of the "
                                     f"0.25 threshold may flip) (>= {need:.3f}; torch vs its own 1-ulp noise "
                                     f"{noise:.3f}); worst image {worst:.3f}")

        def boxes():
            n, ok, detail = agreement()
            if n:
                return ok, detail
            # no torch detection: ORT-only boxes still fail; otherwise it passed vacuously
            return ok and not require_boxes, (f"0 boxes compared: nothing to compare (torch detects nothing at conf "
                                              f"0.25 on the {report.images} image(s)); " + detail)
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
