"""Our training step's throughput on a fixed synthetic batch: dense, masks held, or QAT (one JSON line per run).

The step is engine/loop.py's, event for event: BatchStart -> autocast forward + loss -> LossComputed ->
non-finite check -> scaled backward -> OptimizerPreStep (plan LR written, gradients masked) -> unscale, clip 10,
scaler.step, update, zero_grad -> OptimizerPostStep (weights and momentum masked) -> EMA update + EMA masked ->
running mean of the loss items on the host. As in the loop, QAT runs without AMP and without EMA (the loop
turns both off at QAT start). Timing protocol as ../shared/peer/peer_step.py (warm-up steps, then one wall-clock
span and per-step CUDA events), so the two JSON lines compare directly.

    python bench/gpu_step.py --mode dense --cfg yolov5s --batch 64 --imgsz 640 --amp --channels-last
    python bench/gpu_step.py --device cpu --cfg yolov5n --batch 2 --imgsz 128 --steps 2 --warmup 1   # smoke

Flags: --mode dense|masks|qat, --no-ema, --no-loop-syncs (drop the loop's two per-step host reads, to see
their cost), --compile (torch.compile the model), --sparsity (masks, default 0.75), --cudnn-benchmark.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", default="dense", choices=["dense", "masks", "qat"])
    p.add_argument("--cfg", default="yolov5s")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--amp", action="store_true", help="fp16 autocast + GradScaler (CUDA), as the loop does")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--no-ema", action="store_true")
    p.add_argument("--no-loop-syncs", action="store_true", help="skip the loop's isfinite and loss-items reads")
    p.add_argument("--compile", action="store_true", help="torch.compile(model)")
    p.add_argument("--cudnn-benchmark", action="store_true")
    p.add_argument("--sparsity", type=float, default=0.75)
    p.add_argument("--boxes", type=int, default=8, help="synthetic boxes per image")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--device", default="cuda:0")
    p.add_argument("--tag", default="")
    p.add_argument("--out", default=None, help="append the JSON line to this file too")
    return p.parse_args(argv)


class _Plan:
    """The loop only asks the plan for the step's LRs here (no pruning updates / QAT switches are timed)."""

    def lr_at(self, step):
        return (0.01, 0.01, 0.01)


def synthetic_batch(torch, b, imgsz, nboxes, nc, device, channels_last, seed=0):
    g = torch.Generator().manual_seed(seed)
    imgs = torch.rand((b, 3, imgsz, imgsz), generator=g).to(device)
    if channels_last:
        imgs = imgs.contiguous(memory_format=torch.channels_last)
    n = b * nboxes
    wh = torch.rand((n, 2), generator=g) * 0.45 + 0.05
    xy = wh / 2 + torch.rand((n, 2), generator=g) * (1 - wh)
    t = torch.cat([torch.arange(b).repeat_interleave(nboxes)[:, None].float(),
                   torch.randint(0, nc, (n, 1), generator=g).float(), xy, wh], 1).to(device)
    return imgs, t


def run(a) -> dict:
    import torch
    from torch import nn

    from engine import events as ev
    from engine import optim
    from engine.ema import ModelEMA
    from engine.pruning import MaskSet, resolve_params
    from engine.runtime import Context, LearningRateRuntime, MaskRegistry, Runtime
    from yolo import build_model
    from yolo.loss import YoloLoss

    device = torch.device(a.device)
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.set_device(device)
    if a.cudnn_benchmark:
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    model = build_model(a.cfg, nc=80).to(device).train()
    if a.mode == "qat":
        from engine.quant import QuantSpec, prepare_qat

        from qat_step_bench import recipe_spec  # the seed recipe's layout

        prepare_qat(model, recipe_spec(QuantSpec))
        model.to(device).train()
    if a.channels_last:  # before the optimizer, masks and EMA see the tensors, so all share one layout
        model.to(memory_format=torch.channels_last)
    opt = optim.build_optimizer(model, optim.load_hyp(None))
    ctx = Context(model, opt, _Plan(), MaskRegistry(), log=lambda m: None)
    if a.mode == "masks":
        ms = MaskSet(model, resolve_params(model, "__ALL_PRUNABLE__").names)
        ms.update(a.sparsity)
        ctx.masks.add(0, ms)
    rt = Runtime([LearningRateRuntime(None, ctx, -1)], ctx)
    amp = a.amp and cuda and a.mode != "qat"            # the loop turns AMP off at QAT start
    ema = ModelEMA(model) if (not a.no_ema and a.mode != "qat") else None  # ... and the EMA
    loss_fn = YoloLoss.from_model(model, imgsz=a.imgsz)
    net = torch.compile(model) if a.compile else model
    scaler = torch.amp.GradScaler(device.type, enabled=amp)
    imgs, targets = synthetic_batch(torch, a.batch, a.imgsz, a.boxes, 80, device, a.channels_last)
    mloss = torch.zeros(3)
    state = {"step": 0}

    def step():
        s = state["step"]
        rt.dispatch(ev.BatchStart(s, 0.0, s))
        with torch.autocast(device.type, enabled=amp):
            preds = net(imgs)
            loss, items = loss_fn(preds, targets)
        rt.dispatch(ev.LossComputed(s, loss))
        if not a.no_loop_syncs and not torch.isfinite(loss).all():
            raise RuntimeError(f"non-finite loss at step {s}")
        scaler.scale(loss).backward()
        rt.dispatch(ev.OptimizerPreStep(s, 0.0))
        scaler.unscale_(opt)
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        rt.dispatch(ev.OptimizerPostStep(s))
        if ema is not None:
            ema.update(model)
            ctx.masks.apply_to(ema.ema)
        if not a.no_loop_syncs:
            mloss.mul_(s / (s + 1)).add_(items.detach().float().cpu() / (s + 1))
        state["step"] = s + 1
        return items

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    t_warm = time.perf_counter()
    for _ in range(a.warmup):
        step()
    sync()
    t_warm = time.perf_counter() - t_warm
    evs = [torch.cuda.Event(enable_timing=True) for _ in range(a.steps + 1)] if cuda else []
    step_ms = []
    t0 = time.perf_counter()
    if cuda:
        evs[0].record()
    for i in range(a.steps):
        ts = time.perf_counter()
        items = step()
        if cuda:
            evs[i + 1].record()
        else:
            step_ms.append((time.perf_counter() - ts) * 1e3)
    sync()
    elapsed = time.perf_counter() - t0
    if cuda:
        step_ms = [evs[i].elapsed_time(evs[i + 1]) for i in range(a.steps)]
    return {
        "trainer": "recipec", "tag": a.tag, "mode": a.mode, "model": a.cfg, "batch": a.batch, "imgsz": a.imgsz,
        "amp": "fp16" if amp else False, "channels_last": a.channels_last, "ema": ema is not None,
        "loop_syncs": not a.no_loop_syncs, "compile": a.compile, "sparsity": a.sparsity if a.mode == "masks" else 0,
        "steps": a.steps, "warmup": a.warmup, "sec": round(elapsed, 4),
        "ms_per_step": round(elapsed / a.steps * 1e3, 3), "images_per_s": round(a.steps * a.batch / elapsed, 2),
        "step_ms_median": round(statistics.median(step_ms), 3),
        "max_mem_alloc_gib": round(torch.cuda.max_memory_allocated(device) / 2**30, 3) if cuda else None,
        "max_mem_reserved_gib": round(torch.cuda.max_memory_reserved(device) / 2**30, 3) if cuda else None,
        "loss_items_last": [round(float(x), 5) for x in items.detach().float().cpu()],
        "warmup_s": round(t_warm, 2),
        "device": torch.cuda.get_device_name(device) if cuda else platform.processor() or platform.machine(),
        "torch": torch.__version__, "ok": True,
    }


def main(argv=None) -> int:
    a = parse_args(argv)
    try:
        res, rc = run(a), 0
    except Exception as e:  # an OOM or a compile failure is a result too
        traceback.print_exc(file=sys.stderr)
        res, rc = {"trainer": "recipec", "tag": a.tag, "mode": a.mode, "ok": False,
                   "error": f"{type(e).__name__}: {e}"[:500]}, 1
    line = json.dumps(res)
    print(line, flush=True)
    if a.out:
        with open(a.out, "a") as fh:
            fh.write(line + "\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())
