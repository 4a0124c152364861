"""Training step time: dense vs masks held vs a GMP update step vs QAT, same model and batch (not a test).

    python bench/step_bench.py [--cfg yolov5n] [--imgsz 320] [--batch 8] [--steps 20] [--device cpu]

A step is exactly what engine/loop.py does per batch (channels-last model and images, as `recipec train` runs
them on the CPU and CUDA alike): forward, loss, backward, pre-step hooks (LR from a
plan, pruning update, gradient masking), clip, SGD step, post-step hooks (weights and momentum masked),
masked EMA update. Prints median and min seconds per step and ratios to dense; goals: masks <= 1.03x,
QAT <= 1.30x. Modes run round-robin so CPU-load drift hits all alike; on a shared CPU the *min* column and the
two contention-robust lines (masks A/B on one model instance, mask hooks timed alone) are the ones to trust.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch


class _Plan:
    def __init__(self, steps_gmp: bool):
        self.steps_gmp = steps_gmp

    def lr_at(self, step):
        return (0.01, 0.01, 0.01)


def _setup(cfg: str, device: str, mode: str):
    from engine import optim
    from engine.ema import ModelEMA
    from engine.pruning import MaskSet, resolve_params
    from engine.runtime import Context, MaskRegistry
    from yolo import build_model
    from yolo.loss import YoloLoss

    torch.manual_seed(0)
    model = build_model(cfg, nc=80).to(device).train()
    model.to(memory_format=torch.channels_last)  # as engine/train.py's session does, on the CPU too
    opt = optim.build_optimizer(model, optim.load_hyp(None))
    ctx = Context(model, opt, _Plan(mode == "gmp"), MaskRegistry(), log=lambda m: None)
    names = resolve_params(model, "__ALL_PRUNABLE__").names
    ms = None
    if mode in ("masks", "gmp", "qat_masks"):
        ms = MaskSet(model, names)
        ms.update(0.75)
        ctx.masks.add(0, ms)
    qat = None
    if mode.startswith("qat"):
        from engine.quant import QuantSpec, prepare_qat

        from qat_step_bench import recipe_spec  # the seed recipe's layout

        qat = prepare_qat(model, recipe_spec(QuantSpec))
    ema = None if mode.startswith("qat") else ModelEMA(model)
    return model, opt, ctx, ms, ema, YoloLoss.from_model(model), qat


def _step(model, opt, ctx, ms, ema, loss_fn, x, t, gmp_update: bool):
    from engine.optim import set_lrs

    preds = model(x)
    loss, _ = loss_fn(preds, t)
    loss.backward()
    set_lrs(opt, ctx.plan.lr_at(0))
    if gmp_update and ms is not None:
        ms.update(0.75)
    ctx.masks.mask_grads()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    ctx.masks.mask_weights(opt)
    if ema is not None:
        ema.update(model)
        ctx.masks.apply_to(ema.ema)


def bench(cfg="yolov5n", imgsz=320, batch=8, steps=20, device="cpu", modes=("dense", "masks", "gmp", "qat")):
    if device == "cpu":  # as `recipec train` does on the CPU (engine/malloc.py); RECIPEC_MALLOC=system to compare
        from engine.malloc import keep_freed_memory

        print(keep_freed_memory() or "memory: the allocator's defaults")
    g = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 3, imgsz, imgsz, generator=g, device="cpu").to(device)
    x = x.contiguous(memory_format=torch.channels_last)  # the loop feeds channels-last images (channels_last=True)
    t = torch.cat([torch.arange(batch).repeat_interleave(4)[:, None].float(),
                   torch.randint(0, 80, (batch * 4, 1), generator=g).float(),
                   0.2 + 0.6 * torch.rand(batch * 4, 2, generator=g), 0.05 + 0.3 * torch.rand(batch * 4, 2, generator=g)],
                  1).to(device)
    out: dict[str, float | None] = {}
    setups = {}
    for mode in modes:
        try:
            setups[mode] = _setup(cfg, device, mode)
        except ImportError as e:
            out[mode] = None
            print(f"{mode}: skipped ({e})")
    times: dict[str, list[float]] = {m: [] for m in setups}
    names = list(setups)
    for i in range(steps + 3):  # round-robin over modes so CPU load drift hits all of them alike; the order
        # rotates every round, so no mode always runs after the same one (a GMP update leaves cold caches)
        for mode in names[i % len(names):] + names[:i % len(names)]:
            model, opt, ctx, ms, ema, loss_fn, _ = setups[mode]
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            _step(model, opt, ctx, ms, ema, loss_fn, x, t, gmp_update=(mode == "gmp"))
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            if i >= 3:
                times[mode].append(time.perf_counter() - t0)
    best: dict[str, float] = {}
    for mode in modes:
        if mode in times:
            out[mode] = statistics.median(times[mode])
            best[mode] = min(times[mode])  # the least-disturbed step: robust when other jobs share the CPU
    dense, dense_min = out["dense"], best["dense"]
    print(f"{'mode':<8}{'median s':>10}{'x dense':>9}{'min s':>10}{'x dense':>9}   ({cfg}, imgsz {imgsz}, "
          f"batch {batch}, {device}, {torch.get_num_threads()} threads)")
    for mode, v in out.items():
        if v is None:
            print(f"{mode:<8}{'-':>10}")
            continue
        print(f"{mode:<8}{v:>10.4f}{v / dense:>9.3f}{best[mode]:>10.4f}{best[mode] / dense_min:>9.3f}")
    ab = _ab_masks(setups.get("masks"), x, t, steps)
    if ab is not None:
        print(f"masks A/B on one model instance (hooks on vs off, interleaved): min {ab['min']:.4f}x, "
              f"median {ab['median']:.4f}x")
    overhead = _hook_overhead(setups.get("masks"))
    if overhead is not None:
        print(f"masks hooks alone (grad mask + weight/momentum mask + EMA mask): {overhead * 1000:.2f} ms/step "
              f"= {1 + overhead / dense:.4f}x dense (robust to CPU contention)")
    paired = {k: statistics.median(a / b for a, b in zip(v, times["dense"])) for k, v in times.items()}
    print("paired (median of each round's mode / dense): "
          + ", ".join(f"{k} {v:.3f}x" for k, v in paired.items() if k != "dense"))
    return {"step_s": out, "ratio": {k: (v / dense if v else None) for k, v in out.items()}, "ratio_paired": paired,
            "step_min_s": best, "ratio_min": {k: v / dense_min for k, v in best.items()},
            "mask_hooks_s": overhead, "masks_ab": ab}


def _ab_masks(setup, x, t, steps: int) -> dict | None:
    """The same pruned model stepped with the mask hooks on and off in pairs, the order alternating: the hooks'
    cost alone, free of differences between model instances (memory layout, cache state). `median`: the median
    of the per-pair ratios on / off (a pair shares the machine's state, so slow drifts cancel); `min`: the ratio
    of the fastest steps."""
    if setup is None:
        return None
    from engine.runtime import MaskRegistry

    model, opt, ctx, ms, ema, loss_fn, _ = setup
    full, empty = ctx.masks, MaskRegistry()
    ts: dict[bool, list[float]] = {True: [], False: []}
    for i in range(steps + 2):
        for on in ((True, False) if i % 2 else (False, True)):
            ctx.masks = full if on else empty
            t0 = time.perf_counter()
            _step(model, opt, ctx, ms, ema, loss_fn, x, t, gmp_update=False)
            if i >= 2:
                ts[on].append(time.perf_counter() - t0)
    ctx.masks = full
    return {"min": min(ts[True]) / min(ts[False]),
            "median": statistics.median(a / b for a, b in zip(ts[True], ts[False]))}


def _hook_overhead(setup, n: int = 30) -> float | None:
    """Median seconds of only the per-step mask work the loop adds (no forward/backward)."""
    if setup is None:
        return None
    model, opt, ctx, ms, ema, _, _ = setup
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        ctx.masks.mask_grads()
        ctx.masks.mask_weights(opt)
        ctx.masks.apply_to(ema.ema)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cfg", default="yolov5n")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    res = bench(a.cfg, a.imgsz, a.batch, a.steps, a.device)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=2)


if __name__ == "__main__":
    main()
