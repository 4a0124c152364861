"""The training loop: one epoch after another, one optimizer step per batch, the recipe's plan as the clock.

Reads top to bottom. Everything the loop needs is built beforehand by ``engine.train`` into a :class:`Session`
(model, optimizer, loaders, loss, validation, plan, modifier runtime, EMA, masks); this file only runs it.

Clock: ``step`` counts optimizer steps from 0 across the run; ``S = len(train loader)`` of the *current*
loader, so ``epoch = step // S`` and the float epoch the plan reads is ``step // S + (step % S) / S``.
We never shrink the batch at QAT start, so S stays what the plan was built with (SparseML's stale
steps_per_epoch after its ``batch // 4`` rescale does not exist here).

Per batch: BatchStart (QAT may switch on) -> forward + loss -> LossComputed (non-finite stops the run) ->
backward -> OptimizerPreStep (LR from the plan, pruning updates, grads masked) -> unscale + clip ->
optimizer.step -> OptimizerPostStep (weights and momentum masked) -> EMA update (masked too).
Per epoch: EpochEnd -> the next epoch's loader workers start (``train_loader_for.prefetch``, when it has one)
-> validate (EMA until QAT starts, the raw model after) -> results.csv row -> ``best.pt``, ``best_<phase>.pt``
and last ``last.pt``, which commits the epoch (atomic writes; a resumed run drops results rows after it).
``on_step`` (engine/threads.py's governor) sees each step's seconds.
"""

from __future__ import annotations

import csv
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine import checkpoint as ck
from engine import events as ev
from engine.ema import ModelEMA, _unwrap
from engine.runtime import Runtime
from recipec.ir.recipe import Recipe
from recipec.plan.model import Plan

# results.csv columns, YOLOv5's names.
RESULT_COLUMNS = (
    "epoch", "train/box_loss", "train/obj_loss", "train/cls_loss", "metrics/precision", "metrics/recall",
    "metrics/mAP_0.5", "metrics/mAP_0.5:0.95", "val/box_loss", "val/obj_loss", "val/cls_loss",
    "x/lr0", "x/lr1", "x/lr2",
)
STOP_ENV = "RECIPEC_STOP_AFTER_STEPS"  # test hook: save last.pt and stop after this many steps (a clean "kill")


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or inf; ``step`` names the optimizer step; the last good checkpoint is kept."""

    def __init__(self, step: int, epoch: int, batch: int, value: float, kept: Path | None):
        self.step, self.epoch, self.batch, self.kept = step, epoch, batch, kept
        where = f"kept {kept}" if kept else "no checkpoint had been written yet"
        what = value if not math.isfinite(value) else "non-finite on another rank"
        super().__init__(f"loss became {what} at step {step} (epoch {epoch}, batch {batch}); "
                         f"training stopped, last good checkpoint {where}")


class Stopped(Exception):
    """Raised after the STOP_ENV hook saved ``last.pt`` at the requested step."""


@dataclass
class Session:
    """Everything one run needs. Built by ``engine.train``; tests build small ones directly."""

    model: nn.Module                                   # possibly DDP-wrapped
    optimizer: torch.optim.Optimizer
    runtime: Runtime
    plan: Plan
    train_loader_for: Callable[[int, int], Any]        # (epoch, first batch) -> iterable of (imgs, targets, ...)
    steps_per_epoch: int
    loss_fn: Callable[[Any, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]  # -> (loss, items[box,obj,cls])
    validate: Callable[[nn.Module], dict[str, float]] | None
    save_dir: Path
    meta: ck.RunRecord                                 # names, nc, cfg, hyp, args, recipe text/path, ...
    ema: ModelEMA | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    amp: bool = False
    epochs: int = 1
    step: int = 0                                      # next step (resume)
    best_fitness: dict[str, float] = field(default_factory=dict)
    log: Callable[[str], None] = print
    progress: bool = True
    rank: int = 0
    rewrap: Callable[[nn.Module], nn.Module] | None = None  # re-wrap for DDP after QAT changes the module
    phase_of: Callable[[int], str] = lambda epoch: "dense"
    stop_after: int | None = None
    channels_last: bool | None = None                  # feed channels-last images; None = only on CUDA
    on_step: Callable[[float], None] | None = None     # called with each step's seconds (batch in hand -> EMA done)


def fitness(m: dict[str, float]) -> float:
    """YOLOv5's model fitness: 0.1 * mAP@0.5 + 0.9 * mAP@0.5:0.95."""
    return 0.1 * m.get("mAP50", 0.0) + 0.9 * m.get("mAP50_95", 0.0)


def run(s: Session) -> dict[str, Any]:
    """Train from ``s.step`` to ``s.epochs * S``. Returns the last metrics. Raises NonFiniteLoss / Stopped."""
    S, main = s.steps_per_epoch, s.rank == 0
    wdir = s.save_dir / "weights"
    last = wdir / "last.pt"
    stop_after = s.stop_after if s.stop_after is not None else _env_int(STOP_ENV)
    ctx = s.runtime.ctx
    state = ctx.state
    amp = s.amp and s.device.type == "cuda" and state.amp_enabled  # off once QAT has started
    scaler = torch.amp.GradScaler(s.device.type, enabled=amp)
    metrics: dict[str, float] = {}
    channels_last = s.channels_last if s.channels_last is not None else s.device.type == "cuda"
    if main and not last.exists():
        _save(s, last, epoch=s.step // S, metrics={})  # a loadable last.pt exists from the very start
    start_epoch = s.step // S
    if main:  # rows of epochs a crash interrupted after their row was written: they run again
        _trim_results(s.save_dir / "results.csv", start_epoch)
    for epoch in range(start_epoch, s.epochs):
        s.model.train()
        first = s.step - epoch * S                         # > 0 only when resuming mid-epoch
        loader = s.train_loader_for(epoch, first)
        mloss = torch.zeros(3)
        t0, seen = time.time(), 0
        if main and s.progress:
            s.log(f"{'Epoch':>9} {'box_loss':>9} {'obj_loss':>9} {'cls_loss':>9} {'Instances':>9} {'Size':>5}")
        bar = _Bar(s, epoch, S, first) if (main and s.progress) else None
        for i, batch in enumerate(loader, start=first):
            t_step = time.perf_counter()
            imgs, targets = batch[0], batch[1]
            step = s.step
            e_float = float(step // S) + float(step % S) / float(S)
            # 1. batch start: QAT may switch on here (EMA and AMP off, DDP re-wrapped)
            was_qat = state.qat is not None
            s.runtime.dispatch(ev.BatchStart(step, e_float, i))
            if state.qat is not None and not was_qat:
                _on_qat_start(s, scaler)
            imgs = imgs.to(s.device, non_blocking=True).float()
            if channels_last:
                imgs = imgs.contiguous(memory_format=torch.channels_last)
            targets = targets.to(s.device)
            # 2. forward + loss (AMP only on CUDA and only before QAT)
            with torch.autocast(s.device.type, enabled=scaler.is_enabled()):
                preds = s.model(imgs)
                loss, items = s.loss_fn(preds, targets)
            s.runtime.dispatch(ev.LossComputed(step, loss))
            if not _all_finite(loss):  # under DDP every rank stops together (no rank left waiting)
                raise NonFiniteLoss(step, epoch, i, float(loss.detach().sum()), last if last.exists() else None)
            # 3. backward, then the plan's writes (LR, pruning) before the optimizer step
            scaler.scale(loss).backward()
            s.runtime.dispatch(ev.OptimizerPreStep(step, e_float))
            scaler.unscale_(s.optimizer)
            nn.utils.clip_grad_norm_(s.model.parameters(), max_norm=10.0)
            scaler.step(s.optimizer)
            scaler.update()
            s.optimizer.zero_grad(set_to_none=True)
            # 4. after the step: masks re-applied to weights and momentum, then the (masked) EMA
            s.runtime.dispatch(ev.OptimizerPostStep(step))
            if s.ema is not None and state.ema_enabled:
                s.ema.update(s.model)
                ctx.masks.apply_to(s.ema.ema)
            if s.on_step is not None:
                s.on_step(time.perf_counter() - t_step)
            s.step = step + 1
            mloss = (mloss * (i - first) + items.detach().float().cpu()) / (i - first + 1)
            seen += imgs.shape[0]
            if bar:
                bar.update(i, mloss, targets.shape[0], imgs.shape[-1])
            if stop_after is not None and s.step >= stop_after:
                if main:
                    _save(s, last, epoch=epoch, metrics=metrics)
                raise Stopped(f"stopped after step {s.step} ({STOP_ENV}); resume with --resume {last}")
        if bar:
            bar.close()
        # 5. epoch end: validation, results row, checkpoints
        train_s = time.time() - t0  # the epoch's training span: data loading in, validation and saving out
        s.runtime.dispatch(ev.EpochEnd(epoch + 1, s.step))
        del loader  # (its workers are done) then the next epoch's start decoding during validation + saving
        prefetch = getattr(s.train_loader_for, "prefetch", None)
        if prefetch is not None and epoch + 1 < s.epochs:
            prefetch(epoch + 1, 0)
        if not main:
            continue
        net = s.ema.ema if (s.ema is not None and state.ema_enabled) else _unwrap(s.model)
        val = s.validate(net) if s.validate else {}
        metrics = {**val, "train_box": float(mloss[0]), "train_obj": float(mloss[1]), "train_cls": float(mloss[2])}
        lrs = [g["lr"] for g in s.optimizer.param_groups]
        _append_results(s.save_dir / "results.csv", epoch, mloss, val, lrs)
        s.log(f"epoch {epoch}: {seen / max(train_s, 1e-9):.2f} img/s training ({train_s:.1f} s), "
              f"P {val.get('P', 0):.3f} R {val.get('R', 0):.3f} mAP50 {val.get('mAP50', 0):.3f} "
              f"mAP50-95 {val.get('mAP50_95', 0):.3f}")
        phase = s.phase_of(epoch)
        fit = fitness(val)
        if fit >= s.best_fitness.get("all", -1.0):
            s.best_fitness["all"] = fit
            _save(s, wdir / "best.pt", epoch=epoch + 1, metrics=metrics, phase=phase)
        if fit >= s.best_fitness.get(phase, -1.0):  # resets at each phase switch (a new key)
            s.best_fitness[phase] = fit
            _save(s, wdir / f"best_{phase}.pt", epoch=epoch + 1, metrics=metrics, phase=phase)
        # last.pt last: it commits the epoch (a crash before it re-runs the epoch on --resume, rows and bests too)
        _save(s, last, epoch=epoch + 1, metrics=metrics, phase=phase)
    return metrics


def _on_qat_start(s: Session, scaler: torch.amp.GradScaler) -> None:
    """QAT just switched on (the runtime already switched the EMA off): stop AMP, re-wrap for DDP."""
    if scaler.is_enabled():
        scaler._enabled = False  # as the SparseML YOLOv5 integration does
    if s.rewrap is not None:
        s.model = s.rewrap(_unwrap(s.model))


def _save(s: Session, path: Path, *, epoch: int, metrics: dict[str, float], phase: str | None = None) -> None:
    """Write a full checkpoint (see engine/checkpoint.py for every key)."""
    ctx = s.runtime.ctx
    model = _unwrap(s.model)
    handle = ctx.state.qat
    float_sd = handle.float_state_dict() if handle is not None else model.state_dict()
    ema_on = s.ema is not None and ctx.state.ema_enabled
    masks = ctx.masks.active_masks()
    params = dict(model.named_parameters())
    payload = {
        "model": {k: v.detach().float().cpu() if v.is_floating_point() else v.cpu() for k, v in float_sd.items()},
        "ema": s.ema.state_dict() if ema_on else None,
        "updates": s.ema.updates if s.ema is not None else 0,
        "masks": masks,
        "optimizer": s.optimizer.state_dict(),
        "runtime": s.runtime.state_dict(),
        "qat": ({"started": True, "state": handle.state_dict()} if handle is not None else None),
        "step": s.step,
        "epoch": epoch,
        "epoch_float": s.step / s.steps_per_epoch,
        "steps_per_epoch": s.steps_per_epoch,
        "finished": s.step >= s.epochs * s.steps_per_epoch,
        "phase": phase or s.phase_of(max(epoch - 1, 0)),
        "best_fitness": dict(s.best_fitness),
        "metrics": dict(metrics),
        "sparsity": {n: 1.0 - int(torch.count_nonzero(params[n])) / params[n].numel() for n in masks if n in params},
        "rng": ck.rng_state(),
    }
    payload.update(s.meta.to_dict())
    ck.save_checkpoint(path, payload)


def _append_results(path: Path, epoch: int, mloss: torch.Tensor, val: dict[str, float], lrs: list[float]) -> None:
    new = not path.exists()
    with path.open("a", newline="") as fh:
        w = csv.writer(fh)
        if new:
            w.writerow(RESULT_COLUMNS)
        vl = val.get("val_losses", (0.0, 0.0, 0.0))
        row = [epoch, *[float(x) for x in mloss], val.get("P", 0.0), val.get("R", 0.0), val.get("mAP50", 0.0),
               val.get("mAP50_95", 0.0), *[float(x) for x in vl], *(list(lrs) + [0.0] * 3)[:3]]
        w.writerow([f"{x:.6g}" if isinstance(x, float) else x for x in row])


def _trim_results(path: Path, first_epoch: int) -> None:
    """Drop the rows of epochs >= ``first_epoch`` (written before a crash that ``--resume`` re-runs them from)."""
    if not path.is_file():
        return
    lines = path.read_text().splitlines(keepends=True)
    keep = lines[:1] + [ln for ln in lines[1:] if _row_epoch(ln) < first_epoch]
    if keep != lines:
        path.write_text("".join(keep))


def _row_epoch(line: str) -> float:
    try:
        return float(line.split(",", 1)[0])
    except ValueError:
        return math.inf  # a torn last line goes too


def _all_finite(loss: torch.Tensor) -> bool:
    """True when the loss is finite on this rank and, under DDP, on every rank."""
    bad = (~torch.isfinite(loss.detach())).any().float().reshape(1)
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(bad)
    return not bool(bad.item())


def _env_int(name: str) -> int | None:
    v = os.environ.get(name)
    return int(v) if v and v.strip().isdigit() else None


class _Bar:
    """A rich progress bar per epoch: epoch, box/obj/cls loss, instances, image size, ETA."""

    def __init__(self, s: Session, epoch: int, total: int, first: int):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.p = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeRemainingColumn(), transient=False)
        self.epoch, self.epochs = epoch, s.epochs
        self.p.start()
        self.t = self.p.add_task(self._desc(torch.zeros(3), 0, 0), total=total, completed=first)

    def _desc(self, mloss: torch.Tensor, inst: int, size: int) -> str:
        return (f"{f'{self.epoch}/{self.epochs - 1}':>9} {mloss[0]:>9.4f} {mloss[1]:>9.4f} {mloss[2]:>9.4f} "
                f"{inst:>9} {size:>5}")

    def update(self, i: int, mloss: torch.Tensor, inst: int, size: int) -> None:
        self.p.update(self.t, completed=i + 1, description=self._desc(mloss, inst, size))

    def close(self) -> None:
        self.p.stop()


def phase_function(recipe: Recipe, start_pruned: bool = False) -> Callable[[int], str]:
    """Epoch -> ``dense`` / ``pruned`` / ``quantized`` / ``pruned_quantized`` (SPEC §6.3: a phase begins at the
    floor of its first modifier's start epoch, modifiers told apart by their ``category``; a start of -1 counts
    as 0)."""
    def first(category: str) -> float:
        starts = [max(m.start, 0.0) for m in recipe.by_category(category)]
        return math.floor(min(starts)) if starts else math.inf

    prune = 0.0 if start_pruned else first("pruning")
    quant = first("quantization")

    def phase(epoch: int) -> str:
        if epoch >= quant:
            return "pruned_quantized" if epoch >= prune else "quantized"
        return "pruned" if epoch >= prune else "dense"

    return phase
