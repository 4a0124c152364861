"""Pruned-quantized INT8 ONNX vs the FP32 ONNX export of the same model, onnxruntime, batch 1, this CPU.

Builds the pruned model from `--weights` (unstructured magnitude pruning of every prunable weight to
`--sparsity`, the same masks for both exports), exports it in FP32 (BN folded), then prepares QAT
(`QuantSpec`), calibrates the observers on real images, freezes BN and observers and exports the INT8
QDQ graph. Latencies are measured round-robin (A, B, A, B, ...) so machine load hits both alike.
INT8 variants (`--variants`, comma list):
- `conv-inputs`: Q/DQ at each conv input only (`quantize_conv_activations: False` without SiLU in
  `custom_quantizable_module_types`); onnxruntime cannot fuse a conv whose output is not quantized, so it runs
  float convs on dequantized weights;
- `sparseml`: the SparseML YOLOv5 recipes' layout (`quantize_conv_activations` true, SparseML's default, or the
  SiLU-wrapper idiom): Q/DQ on every conv input and output: QLinearConv, then the SiLU in float between DQ and Q;
- `int8-graph`: a recipe's `int8_graph: true` (QuantSpec.quantize_silu): QLinearConv -> QLinearSigmoid ->
  QLinearMul, QLinearConcat/QLinearAdd;
- `int8-graph-stem-fp32`: the same with the 6x6 stem conv left float (onnxruntime's int8 kernel is slow on 3
  input channels): examples/recipes/yolov5s_transfer_pruned_quantized_ort.yaml.
Goal (issue 6): INT8 >= 2.5x faster than FP32 at batch 1.

Measured (2026-11-28, 2-core avx512_vnni CPU, onnxruntime 1.32, yolov5n 640, 75 % sparse, `--threads 1
--rounds 10`, load average 4, medians, wall ~= CPU): FP32 23.8 ms; int8-graph-stem-fp32 17.0 ms (1.40x);
int8-graph 19.7 ms (1.20x); conv-acts 22.1 ms (1.08x); yolov5-idiom 38.4 ms (0.62x). Goal NOT met
(docs/export.md: where the time goes).

    python bench/export_bench.py [--weights ../shared/external/weights/yolov5n.pt] [--imgsz 640]
        [--sparsity 0.75] [--threads 2] [--rounds 10] [--out bench_out]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "external"


VARIANTS = {}  # filled in main() from --variants
STEM_FP32 = ("<all but model.0>",)  # placeholder submodules: replaced by every top-level layer but the stem


def calib_images(n: int, imgsz: int) -> torch.Tensor:
    from engine.export.verify import _images

    files = sorted((SHARED / "coco128" / "images").rglob("*.jpg"))[:n] or sorted((SHARED / "images").glob("*.jpg"))
    return _images(files, imgsz, imgsz)


def build(weights: str, sparsity: float, imgsz: int, out: Path, calib: torch.Tensor) -> dict[str, Path]:
    import copy
    import dataclasses

    import yolo
    from engine.export.onnx_export import export_onnx
    from engine.pruning import MaskSet, resolve_params
    from engine.quant import QuantSpec, disable_observer, freeze_bn_stats, prepare_qat

    out.mkdir(parents=True, exist_ok=True)
    m = yolo.load_model(weights)
    MaskSet(m, resolve_params(m, "__ALL_PRUNABLE__").names).update(sparsity)
    paths = {"fp32": out / "fp32.onnx"}
    export_onnx(m, paths["fp32"], imgsz=imgsz)
    for name, spec in VARIANTS.items():
        if spec.submodules == STEM_FP32:
            spec = dataclasses.replace(spec, submodules=tuple(f"model.{n}" for n, _ in m.model.named_children()
                                                              if n != "0"))
        q = prepare_qat(copy.deepcopy(m), spec)
        q.train()
        freeze_bn_stats(q)
        with torch.no_grad():
            for i in range(0, len(calib), 4):
                q(calib[i:i + 4])
        disable_observer(q)
        q.eval()
        paths[name] = out / (name.replace(" ", "_") + ".onnx")
        export_onnx(q, paths[name], imgsz=imgsz)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=str(SHARED / "weights" / "yolov5n.pt"))
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--sparsity", type=float, default=0.75)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--iters", type=int, default=5, help="runs per model per round")
    ap.add_argument("--calib", type=int, default=16, help="calibration images")
    ap.add_argument("--out", default="runs/export_bench")
    ap.add_argument("--variants", default="int8-graph-stem-fp32,int8-graph",
                    help="comma list of INT8 variants: int8-graph-stem-fp32, int8-graph, sparseml, conv-inputs")
    a = ap.parse_args()
    from engine.quant import QuantSpec

    specs = {"int8-graph": QuantSpec(quantize_silu=True),
             "int8-graph-stem-fp32": QuantSpec(quantize_silu=True, submodules=STEM_FP32),
             "sparseml": QuantSpec(quantize_conv_activations=True), "conv-inputs": QuantSpec()}
    for v in a.variants.split(","):
        VARIANTS["int8 " + v.strip()] = specs[v.strip()]

    from engine.export.bench import ort_session

    paths = build(a.weights, a.sparsity, a.imgsz, Path(a.out), calib_images(a.calib, a.imgsz))
    sessions = {k: ort_session(str(p), a.threads) for k, p in paths.items()}
    x = np.random.default_rng(0).random((1, 3, a.imgsz, a.imgsz), dtype=np.float32)
    times: dict[str, list[float]] = {k: [] for k in sessions}
    for s in sessions.values():
        for _ in range(3):
            s.run(None, {"images": x})
    cpu = {k: [] for k in sessions}
    load0 = os.getloadavg()[0]
    for _ in range(a.rounds):
        for k, s in sessions.items():
            t, c = time.perf_counter(), time.process_time()
            for _ in range(a.iters):
                s.run(None, {"images": x})
            times[k].append((time.perf_counter() - t) * 1000 / a.iters)
            cpu[k].append((time.process_time() - c) * 1000 / a.iters)
    load1 = os.getloadavg()[0]
    print(f"{Path(a.weights).name}, sparsity {a.sparsity}, imgsz {a.imgsz}, batch 1, onnxruntime threads {a.threads}, "
          f"{a.rounds} rounds x {a.iters} runs interleaved, load average {load0:.1f} -> {load1:.1f}")
    print(f"{'model':<22} {'wall med':>9} {'wall min':>9} {'cpu med':>9} {'cpu min':>9} {'x fp32 (wall med)':>18} {'x fp32 (cpu med)':>17}")
    fw, fc = statistics.median(times["fp32"]), statistics.median(cpu["fp32"])
    for k in times:
        w, c = statistics.median(times[k]), statistics.median(cpu[k])
        print(f"{k:<22} {w:9.2f} {min(times[k]):9.2f} {c:9.2f} {min(cpu[k]):9.2f} {fw / w:17.2f}x {fc / c:16.2f}x")
    print("goal: INT8 >= 2.5x faster than FP32. onnxruntime ignores unstructured sparsity (dense kernels).")


if __name__ == "__main__":
    main()
