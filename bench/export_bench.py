"""Pruned-quantized INT8 ONNX vs the FP32 ONNX export of the same model, onnxruntime, batch 1, this CPU.

Builds the pruned model from `--weights` (unstructured magnitude pruning of every prunable weight to
`--sparsity`, the same masks for both exports), exports it in FP32 (BN folded), then prepares QAT
(`QuantSpec`), calibrates the observers on real images, freezes BN and observers and exports the INT8
QDQ graph. Latencies are measured round-robin (A, B, A, B, ...) so machine load hits both alike.
Two INT8 variants are timed:
- `yolov5-idiom`: the recipes' setting (`quantize_conv_activations: False`): one Q/DQ at each conv input;
  onnxruntime cannot fuse a conv whose output is not quantized, so it runs float convs on dequantized
  weights;
- `conv-acts`: `quantize_conv_activations: True` adds a Q/DQ on each conv output, so onnxruntime fuses
  DQ -> Conv -> Q into QLinearConv (int8 VNNI kernels); SiLU still runs in float between Q/DQ pairs.
Goal (issue 6): INT8 >= 2.5x faster than FP32 at batch 1.

Measured (2026-11-28, this 2-core avx512_vnni CPU shared with other jobs, onnxruntime 1.32, `--threads 1
--clock cpu`, yolov5n 640, 75 % sparse): FP32 25.2 ms; INT8 yolov5-idiom 41.3 ms (0.61x); INT8 conv-acts
24.8 ms (1.02x). Goal NOT met with onnxruntime: per-op profiles show QLinearConv ~1.7x faster than the FP32
convs, but the float SiLU between Q/DQ pairs (DequantizeLinear, Sigmoid, Mul, QuantizeLinear) costs it back.

    python bench/export_bench.py [--weights ../shared/external/weights/yolov5n.pt] [--imgsz 640]
        [--sparsity 0.75] [--threads 2] [--rounds 10] [--out bench_out]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "external"


def calib_images(n: int, imgsz: int) -> torch.Tensor:
    from engine.export.verify import _images

    files = sorted((SHARED / "coco128" / "images").rglob("*.jpg"))[:n] or sorted((SHARED / "images").glob("*.jpg"))
    return _images(files, imgsz, imgsz)


def build(weights: str, sparsity: float, imgsz: int, out: Path, calib: torch.Tensor) -> dict[str, Path]:
    import copy

    import yolo
    from engine.export.onnx_export import export_onnx
    from engine.pruning import MaskSet, resolve_params
    from engine.quant import QuantSpec, disable_observer, freeze_bn_stats, prepare_qat

    out.mkdir(parents=True, exist_ok=True)
    m = yolo.load_model(weights)
    MaskSet(m, resolve_params(m, "__ALL_PRUNABLE__").names).update(sparsity)
    paths = {"fp32": out / "fp32.onnx"}
    export_onnx(m, paths["fp32"], imgsz=imgsz)
    for name, spec in (("int8 yolov5-idiom", QuantSpec()), ("int8 conv-acts", QuantSpec(quantize_conv_activations=True))):
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
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu = process CPU time (use with --threads 1 on a shared machine)")
    a = ap.parse_args()

    from engine.export.bench import ort_session

    paths = build(a.weights, a.sparsity, a.imgsz, Path(a.out), calib_images(a.calib, a.imgsz))
    sessions = {k: ort_session(str(p), a.threads) for k, p in paths.items()}
    x = np.random.default_rng(0).random((1, 3, a.imgsz, a.imgsz), dtype=np.float32)
    times: dict[str, list[float]] = {k: [] for k in sessions}
    for s in sessions.values():
        for _ in range(3):
            s.run(None, {"images": x})
    clock = time.perf_counter if a.clock == "wall" else time.process_time
    for _ in range(a.rounds):
        for k, s in sessions.items():
            t = clock()
            for _ in range(a.iters):
                s.run(None, {"images": x})
            times[k].append((clock() - t) * 1000 / a.iters)
    fp32 = min(times["fp32"])
    print(f"{Path(a.weights).name}, sparsity {a.sparsity}, imgsz {a.imgsz}, batch 1, onnxruntime threads {a.threads}, {a.clock} clock")
    print(f"{'model':<20} {'min ms':>8} {'median ms':>10} {'speed-up vs fp32 (min)':>24}")
    for k, ts in times.items():
        print(f"{k:<20} {min(ts):8.2f} {statistics.median(ts):10.2f} {fp32 / min(ts):23.2f}x")
    print("goal: INT8 >= 2.5x faster than FP32. onnxruntime ignores unstructured sparsity (dense kernels).")


if __name__ == "__main__":
    main()
