"""Step time of dense vs masks held vs QAT (BN live, BN frozen, int8-graph layout) on the same model and batch (CPU).

Runs forward + backward + SGD (momentum 0.937, nesterov, wd 5e-4) on random images; the variants are
interleaved round-robin so machine load hits them alike, and timed in process CPU time
(`time.process_time`, all threads) so that other jobs on a shared machine do not count. Prints median and
min ms per step and ratios to dense. Variants: dense, masks (50% masks held), qat (the seed recipe's layout:
SparseML's, conv inputs and outputs of model.0-23; BN statistics live), qat_bn_frozen (the same after
freeze_bn_stats), qat_silu (the `_ort` recipe's int8 graph, stem float; BN live);
every non-dense variant holds the masks too.
Goals (issues 5, 7): masks <= 1.03x, QAT (BN live) <= 1.30x of dense.
Measured (2026-11-28 03:23, yolov5n, batch 4, 256 px, 1 thread, CPU time, 8 rounds, load average 2.5 on 2 cores),
median / min ratio, the recipes' layouts: masks 1.00 / 0.99x, qat 1.21 / 1.23x, qat_bn_frozen 1.07 / 1.10x,
qat_silu 1.35 / 1.39x (dense 115 ms/step). Earlier the same day with `QuantSpec()` (conv inputs only, Detect head
quantized): qat 1.22x, qat_bn_frozen 1.07x, int8 graph with the stem quantized 1.45x; before the fused fake-quant
paths (old and new code interleaved in one process): qat 1.35x, qat_bn_frozen 1.18x, int8 graph 1.63x.

    python bench/qat_step_bench.py [--cfg yolov5n] [--batch 8] [--imgsz 320] [--rounds 5] [--steps 3]
                                   [--threads 1] [--variants dense,qat]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch


VARIANTS = ("dense", "masks", "qat", "qat_bn_frozen", "qat_silu")


def recipe_spec(QuantSpec, ort: bool = False):
    """The QAT layout the example recipes train (what `QuantSpec.from_modifier` gives for them):
    yolov5s_transfer_pruned_quantized.yaml = SparseML's layout (conv inputs and outputs, model.0-23);
    the `_ort` variant = int8 graph with the stem model.0 float."""
    if ort:
        return QuantSpec(quantize_silu=True, submodules=tuple(f"model.{i}" for i in range(1, 24)))
    return QuantSpec(quantize_conv_activations=True, submodules=tuple(f"model.{i}" for i in range(24)))


def make_variants(cfg: str, sparsity: float, names: tuple[str, ...] = VARIANTS):
    import yolo
    from engine.pruning import MaskSet, resolve_params
    from engine.quant import QuantSpec, freeze_bn_stats, prepare_qat

    torch.manual_seed(0)
    base = yolo.build_model(cfg, nc=80).train()
    out = {}
    for name in names:
        m = copy.deepcopy(base)
        opt = torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.937, nesterov=True, weight_decay=5e-4)
        if name != "dense":
            ms = MaskSet(m, resolve_params(m, "__ALL_PRUNABLE__").names)
            ms.update(sparsity)
            ms.attach(opt)
        if name.startswith("qat"):
            prepare_qat(m, recipe_spec(QuantSpec, ort=name == "qat_silu"))
            m.train()
            if name == "qat_bn_frozen":
                freeze_bn_stats(m)
        out[name] = (m, opt)
    return out


def step(m, opt, x):
    out = m(x)
    loss = sum(o.float().pow(2).mean() for o in out)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cfg", default="yolov5n")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--sparsity", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ",".join(VARIANTS))
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    from engine.malloc import keep_freed_memory  # as `recipec train` does on the CPU

    print(keep_freed_memory() or "memory: the allocator's defaults")
    names = tuple(v for v in a.variants.split(",") if v)
    unknown = [v for v in names if v not in VARIANTS]
    if unknown or "dense" not in names:
        raise SystemExit(f"--variants: need dense, know {', '.join(VARIANTS)}; got {a.variants!r}")
    variants = make_variants(a.cfg, a.sparsity, names)
    x = torch.rand(a.batch, 3, a.imgsz, a.imgsz)
    times = {k: [] for k in variants}
    for k, (m, opt) in variants.items():  # warm-up
        step(m, opt, x)
    for _ in range(a.rounds):
        for k, (m, opt) in variants.items():
            t = time.process_time()  # CPU time of this process: robust to other jobs on a shared machine
            for _ in range(a.steps):
                step(m, opt, x)
            times[k].append((time.process_time() - t) * 1000 / a.steps)
    dense, dmin = statistics.median(times["dense"]), min(times["dense"])
    print(f"{a.cfg} batch {a.batch} imgsz {a.imgsz} threads {torch.get_num_threads()} "
          f"(process CPU ms per step)")
    for k, ts in times.items():
        med, mn = statistics.median(ts), min(ts)
        print(f"{k:>14}: median {med:8.1f} ms/step ({med / dense:5.3f}x)   min {mn:8.1f} ({mn / dmin:5.3f}x dense)")


if __name__ == "__main__":
    main()
