"""Latency / throughput of an ONNX model with onnxruntime (and DeepSparse when importable).

`bench_onnx(path, batch, imgsz, threads, warmup, iters) -> BenchResult`: median and p90 latency (ms per
batch) and throughput (images/s) on random inputs of the model's input shape (dynamic dims filled with
`batch` / `imgsz`). onnxruntime runs QDQ models with int8 kernels (QLinearConv etc.) but does NOT skip
zeros of unstructured sparsity; DeepSparse does both (optional; Python < 3.12 only).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

NOTE = ("onnxruntime does not exploit unstructured sparsity: a pruned model runs at dense speed. INT8 QDQ graphs "
        "run int8 kernels (QLinearConv) where a conv's input and output are both quantized, as in the SparseML YOLOv5 "
        "recipes' layout; their SiLU then runs in float between DQ and Q (yolov5s: ~1.6x FP32, 1 thread). "
        "`int8_graph: true` in the recipe's QuantizationModifier (a recipec extension; "
        "examples/recipes/yolov5s_transfer_pruned_quantized_ort.yaml) quantizes the SiLU's sigmoid and product too, "
        "so onnxruntime runs QLinearSigmoid/QLinearMul and the whole network in int8: ~2.1x FP32 on yolov5s, ~1.4x on "
        "yolov5n (docs/export.md). A sparsity-aware runtime (DeepSparse) also skips the zeros.")


@dataclass(frozen=True)
class BenchResult:
    engine: str
    batch: int
    shape: tuple[int, ...]
    threads: int | None
    median_ms: float
    p90_ms: float
    iters: int

    @property
    def throughput(self) -> float:
        """Images per second at the median latency."""
        return self.batch * 1000.0 / self.median_ms if self.median_ms > 0 else float("inf")


def _input_shape(sess, batch: int, imgsz: int) -> tuple[int, ...]:
    shape = sess.get_inputs()[0].shape
    fill = [batch, 3, imgsz, imgsz]
    return tuple(d if isinstance(d, int) else fill[i] for i, d in enumerate(shape))


def ort_session(path: str, threads: int | None = None):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def _time(fn, warmup: int, iters: int, progress: bool = False, label: str = "bench") -> tuple[float, float]:
    from engine.progress import track

    for _ in range(warmup):
        fn()
    ts = []
    for _ in track(range(iters), label, enabled=progress):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1000.0)
    return float(np.median(ts)), float(np.percentile(ts, 90))


def bench_onnx(path: str, *, batch: int = 1, imgsz: int = 640, threads: int | None = None, warmup: int = 5,
               iters: int = 30, seed: int = 0, progress: bool = False) -> BenchResult:
    """`progress`: a bar over the timed runs on a terminal (`engine.progress`)."""
    sess = ort_session(path, threads)
    shape = _input_shape(sess, batch, imgsz)
    x = np.random.default_rng(seed).random(shape, dtype=np.float32)
    name = sess.get_inputs()[0].name
    med, p90 = _time(lambda: sess.run(None, {name: x}), warmup, iters, progress, "onnxruntime")
    return BenchResult("onnxruntime", shape[0], shape, threads, med, p90, iters)


def bench_deepsparse(path: str, *, batch: int = 1, imgsz: int = 640, threads: int | None = None, warmup: int = 5,
                     iters: int = 30) -> BenchResult | None:
    """None when DeepSparse is not importable."""
    try:
        from deepsparse import compile_model  # type: ignore
    except Exception:
        return None
    eng = compile_model(str(path), batch_size=batch, num_cores=threads)
    x = [np.random.default_rng(0).random((batch, 3, imgsz, imgsz), dtype=np.float32)]
    med, p90 = _time(lambda: eng.run(x), warmup, iters)
    return BenchResult("deepsparse", batch, (batch, 3, imgsz, imgsz), threads, med, p90, iters)
