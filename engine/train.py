"""``recipec train``: turn arguments into a training :class:`engine.loop.Session` and run it.

Order: distributed setup -> resume checkpoint (if any) -> recipe (path or zoo stub; ``--epochs`` sets its
``num_epochs`` variable) -> data YAML -> weights (path, zoo stub, or a scale name for a fresh model; a different
``nc`` re-initialises the Detect head and says so) -> what the starting checkpoint's own recipe demands
(SPEC §6.3: its masks are kept, QAT twice is refused) -> loader and plan (``steps_per_epoch`` = batches per epoch
on this rank) -> optimizer, EMA, modifier runtime -> the loop -> final validation table, stripped checkpoints,
``results.png``.

Every user-facing failure is a :class:`TrainError` (or a NonFiniteLoss from the loop) with a complete message;
the CLI prints it and exits non-zero.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from engine import checkpoint as ck
from engine import zoo
from engine.data import make_train_loader, make_validate
from engine.ema import ModelEMA
from engine.loop import Session, phase_function, run
from engine.optim import HypError, build_optimizer, load_hyp
from engine.run_dir import RunDirError, check_project, create_run_dir, write_error
from engine.runtime import Context, MaskRegistry, Runtime, ModifierError, build_runtimes
from engine.start import (StartError, apply_checkpoint_qat, check_start, hold_checkpoint_masks,
                          load_start)
from engine.threads import BusySampler, ThreadGovernor, apply_threads, governed

class TrainError(Exception):
    """Bad input for training; the message is complete and meant for the user."""


@dataclass
class TrainArgs:
    data: str | None = None
    weights: str = "yolov5s"
    recipe: str | None = None
    epochs: int | None = None
    imgsz: int = 640
    batch: int = 16
    device: str = "auto"  # auto = cuda:0 when CUDA is available, else cpu (YOLOv5's default)
    workers: int = 0
    project: str = "runs/train"
    name: str = "exp"
    resume: str | None = None          # "" = the latest last.pt under project
    allow_recipe_change: bool = False
    seed: int = 0
    hyp: str | None = None
    progress: bool = True
    threads: int | str | None = None   # torch CPU threads: N, "auto" (by the free cores, what `recipec train`
    # passes; engine/threads.py) or None (leave torch's setting alone: library callers such as the demo)
    overrides: dict[str, float] | None = None  # recipe variables set before evaluation (`--set NAME=VALUE`)
    init: str | None = None  # "weights": `weights` must be a file or zoo: stub (what `recipec train` passes by
    # default); "random": `weights` names a scale (yolov5n..x) built freshly; None: either (library callers)
    exist_ok: bool = False   # reuse project/name as it is instead of numbering exp2, exp3, ...


def increment_dir(project: str | Path, name: str) -> Path:
    """runs/train/exp, exp2, exp3, ... (the first that does not exist), as YOLOv5 numbers runs. Only a name:
    nothing is reserved (training creates its folder atomically: ``engine.run_dir.create_run_dir``)."""
    base = Path(project) / name
    if not base.exists():
        return base
    n = 2
    while (Path(project) / f"{name}{n}").exists():
        n += 1
    return Path(project) / f"{name}{n}"


def find_resume(arg: str, project: str) -> Path:
    """``--resume PATH`` or, with no path, the most recent ``last.pt`` under the project folder."""
    if arg:
        p = Path(arg)
        return p / "weights" / "last.pt" if p.is_dir() else p
    found = sorted(Path(project).glob("*/weights/last.pt"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise TrainError(f"--resume: no last.pt found under {project}/*/weights/")
    return found[-1]


def compile_recipe_text(path: str | None, text: str, epochs: int | None, say=print,
                        overrides: dict[str, float] | None = None) -> tuple[Any, dict]:
    """Compile exactly as ``recipec plan`` does (``--epochs`` overrides ``num_epochs``, `overrides` other
    top-level variables); returns the recipe and the extra ``build_plan`` keywords. Errors become TrainError;
    warnings are printed."""
    from recipec.frontend import compile_recipe

    src = path or "<recipe>"
    overrides = dict(overrides or {})
    res = compile_recipe(src, text=text, overrides=overrides or None)
    plan_kw: dict[str, Any] = {}
    if epochs is not None and res.recipe is not None:
        if "num_epochs" not in res.recipe.variables:
            raise TrainError(f"--epochs {epochs}: the recipe has no `num_epochs` variable, so its epochs are "
                             "fixed; edit the recipe or drop --epochs")
        fixed = {i for i, name in res.recipe.fixed_values("num_epochs") if name == "start_epoch"}
        res = compile_recipe(src, text=text, overrides={**overrides, "num_epochs": float(epochs)})
        plan_kw = {"fixed_from_epochs": fixed, "epochs_override": epochs}
    errors = [d for d in res.diagnostics if d.severity == "error"]
    if errors or res.recipe is None:
        lines = [f"{_where(d)}{d.code} {d.message}" for d in errors[:10]]
        from recipec.plan.epochs_fit import epochs_fit_hint

        hint = epochs_fit_hint(src, text, epochs, overrides) if plan_kw else None
        if hint is not None:  # the recipe is fine as written (lint shows nothing); --epochs N is what breaks it
            raise TrainError(f"--epochs {epochs}: {hint}\n  " + "\n  ".join(lines))
        raise TrainError("the recipe has errors (run `recipec lint` for details):\n  " + "\n  ".join(lines))
    for d in res.diagnostics:
        if d.severity == "warning":
            say(f"warning: {_where(d)}{d.code} {d.message}")
    return res.recipe, plan_kw


def _where(d: Any) -> str:
    return f"{d.span.path}:{d.span.line}:{d.span.col}: " if getattr(d, "span", None) else ""


def epoch_recipe(epochs: int, hyp: dict | None = None) -> str:
    """The recipe used when none is given: YOLOv5's own schedule, written as a recipe.

    A linear warm-up over `warmup_epochs` (weights and BN weights from 0, biases from `warmup_bias_lr`, to
    `lr0`), then a linear decay from `lr0` to `lr0 * lrf` at the last epoch (YOLOv5's default `linear_lr`).
    The warm-up is in epochs (YOLOv5 also warms for at least 100 iterations), and is shortened to half the
    run when the run is shorter than twice the warm-up. `recipec plan` shows the same schedule.
    """
    h = {"lr0": 0.01, "lrf": 0.01, "warmup_epochs": 3.0, "warmup_bias_lr": 0.1, **(hyp or {})}
    lr0, lrf, bias_lr = float(h["lr0"]), float(h["lrf"]), float(h["warmup_bias_lr"])
    warm = min(float(h["warmup_epochs"]), epochs / 2)
    text = (f"# the schedule recipec train uses without --recipe (YOLOv5's warm-up + linear decay)\n"
            f"num_epochs: {epochs}\nwarmup_epochs: {warm!r}\nlr0: {lr0!r}\nfinal_lr: {lr0 * lrf!r}\n"
            + (f"warmup_bias_lr: {bias_lr!r}\n" if warm > 0 else "")
            + "modifiers:\n"
            "  - !EpochRangeModifier\n    start_epoch: 0.0\n    end_epoch: eval(num_epochs)\n")
    if warm > 0:
        text += ("  - !LearningRateFunctionModifier\n    lr_func: linear\n    start_epoch: 0.0\n"
                 "    end_epoch: eval(warmup_epochs)\n    init_lr: 0.0\n    final_lr: eval(lr0)\n"
                 "    param_groups: [0, 1]\n"
                 "  - !LearningRateFunctionModifier\n    lr_func: linear\n    start_epoch: 0.0\n"
                 "    end_epoch: eval(warmup_epochs)\n    init_lr: eval(warmup_bias_lr)\n    final_lr: eval(lr0)\n"
                 "    param_groups: [2]\n")
    text += ("  - !LearningRateFunctionModifier\n    lr_func: linear\n    start_epoch: eval(warmup_epochs)\n"
             "    end_epoch: eval(num_epochs)\n    init_lr: eval(lr0)\n    final_lr: eval(final_lr)\n")
    return text


def _setup_distributed(device: str) -> tuple[int, int, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    from yolo.device import DeviceError, select_device

    try:
        dev = select_device(device)
    except DeviceError as e:
        raise TrainError(str(e)) from None
    if world > 1:
        import torch.distributed as dist

        backend = "nccl" if dev.type == "cuda" else "gloo"
        if not dist.is_initialized():
            dist.init_process_group(backend=backend)
        dev = torch.device(f"cuda:{local}") if dev.type == "cuda" else torch.device("cpu")
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        return rank, world, dev
    return 0, 1, dev


def train(a: TrainArgs, log: Callable[[str], None] = print) -> Path:
    """Run one training; returns the run folder. Raises TrainError on bad input."""
    busy = BusySampler()  # other processes' CPU use over the set-up below picks the CPU thread count
    rank, world, device = _setup_distributed(a.device)
    say = log if rank == 0 else (lambda m: None)
    torch.manual_seed(a.seed)

    # 1. resume: the run folder, arguments and recipe come from the checkpoint
    resume_ck, resume_path = None, None
    if a.resume is not None:
        resume_path = find_resume(a.resume, a.project)
        try:
            resume_ck = ck.load_checkpoint(resume_path)
        except ck.CheckpointError as e:
            raise TrainError(str(e)) from None
        finalize_only = _check_resumable(resume_ck, resume_path)
        prev = resume_ck.get("args") or {}
        for key in ("data", "imgsz", "batch", "seed", "hyp", "epochs", "weights", "overrides"):
            if key in prev:
                setattr(a, key, prev[key])
    else:
        finalize_only = False
        try:
            check_project(a.project)  # a file or a read-only folder in the way: say so before the long set-up
        except RunDirError as e:
            raise TrainError(str(e)) from None

    # 2. hyperparameters and recipe
    try:
        hyp = resume_ck["hyp"] if resume_ck and resume_ck.get("hyp") else load_hyp(a.hyp)
    except HypError as e:
        raise TrainError(str(e)) from None
    recipe_path, recipe_text = _recipe_source(a)
    if resume_ck is not None:
        recipe_text = _check_recipe_change(resume_ck, recipe_text, a.allow_recipe_change, say)
        recipe_path = recipe_path or resume_ck.get("recipe_path")
    if recipe_text is None:
        if a.epochs is None:
            raise TrainError("give --recipe (a file or zoo: stub) or --epochs N to train without one")
        recipe_text = epoch_recipe(a.epochs, hyp)
    recipe, plan_kw = compile_recipe_text(recipe_path, recipe_text, a.epochs if a.recipe or resume_ck else None,
                                          say, overrides=a.overrides if a.recipe or resume_ck else None)

    # 3. data
    from yolo.data.yaml import DataError, load_data_yaml

    if not a.data:
        raise TrainError("--data DATA.yaml is required")
    try:
        data = load_data_yaml(a.data)
    except DataError as e:
        raise TrainError(str(e)) from None

    # 4. model and what its checkpoint's own recipe demands
    try:
        model, start = load_start(a, resume_ck, data, say)
    except StartError as e:
        raise TrainError(str(e)) from None
    model.to(device)
    try:
        already_quantized = check_start(start, recipe, resume_ck is not None, say)
    except StartError as e:
        raise TrainError(str(e)) from None

    # 5. loader, threads and plan (steps_per_epoch = batches per epoch on this rank, the current loader length)
    try:
        loader_for, S, dataset = make_train_loader(data, a, hyp, rank, world)
    except DataError as e:
        raise TrainError(str(e)) from None
    govern = governed(a.threads, device.type)
    try:  # after the data scan / image cache: a longer window for the busy sample, before any worker forks
        prev = (resume_ck.get("args") or {}).get("threads") if resume_ck is not None else None
        used = apply_threads(a.threads, device.type, say, busy, previous=prev if isinstance(prev, int) else None)
        a.threads = used if used is not None else a.threads  # recorded in the checkpoint's args for --resume
    except ValueError as e:
        raise TrainError(str(e)) from None
    from recipec.plan import build_plan

    plan = build_plan(recipe, S, base_lr=hyp["lr0"], num_groups=3, **plan_kw)
    for d in plan.diagnostics:
        if d.severity in ("error", "warning"):
            say(f"plan {d.severity}: {d.code} {d.message}")
    say(f"plan: {plan.epochs} epochs x {S} steps = {plan.total_steps} optimizer steps")

    # 6. optimizer, EMA, runtime
    optimizer = build_optimizer(model, hyp)
    ctx = Context(model, optimizer, plan, MaskRegistry(), log=say)
    ctx.flags["already_quantized"] = already_quantized and resume_ck is None
    try:
        runtime = Runtime(build_runtimes(recipe, ctx), ctx)
    except ModifierError as e:
        raise TrainError(str(e)) from None
    hold_checkpoint_masks(start.get("masks"), runtime, ctx, model, say)
    ema = ModelEMA(model)
    step, best = 0, {}
    if resume_ck is not None:
        runtime.load_state_dict(resume_ck.get("runtime") or {})
        optimizer.load_state_dict(resume_ck["optimizer"])
        if resume_ck.get("ema") is not None:
            ema.load_state_dict(resume_ck["ema"], int(resume_ck.get("updates", 0)))
        step, best = int(resume_ck["step"]), dict(resume_ck.get("best_fitness") or {})
        ck.set_rng_state(resume_ck.get("rng"))  # global RNGs as they were (batch order and augmentation
        # do not depend on them: they are seeded by (seed, epoch, index))
        if int(resume_ck.get("steps_per_epoch", S)) != S:
            raise TrainError(f"cannot resume: the checkpoint ran {resume_ck['steps_per_epoch']} steps per epoch, "
                             f"this loader has {S} (same data, --batch and world size needed)")
        say(f"resuming {resume_path} at step {step} (epoch {step // S}, batch {step % S})")
    if not finalize_only:  # the first batches decode while the rest (validation data) is set up
        loader_for.prefetch(step // S, step % S)
    try:
        apply_checkpoint_qat(start.get("qat"), model, ctx, say)
    except StartError as e:
        raise TrainError(str(e)) from None
    if ctx.flags.get("qat") or (already_quantized and resume_ck is None):
        ctx.flags["ema_enabled"] = False
        ctx.flags["amp_enabled"] = False
    save_dir = _run_folder(a, resume_path, rank, world)  # created here, atomically: after every check passed
    if rank == 0:
        try:
            if a.exist_ok and resume_ck is None:  # a new run in a reused folder: its per-epoch rows start afresh
                (save_dir / "results.csv").unlink(missing_ok=True)
            say(f"results go to {save_dir}")
            for t in ck.remove_stale_temps(save_dir / "weights") if resume_ck is not None else ():
                say(f"removed {t.name}, left by a save that was interrupted")
            _write_run_files(save_dir, a, hyp, dataset, data)
        except OSError as e:
            raise TrainError(write_error(e, e.filename or save_dir)) from None
        if finalize_only:
            say(f"{resume_path}: the run's training had finished but its end had not; completing its "
                "finalization (stripped checkpoints, final validation, plots)")
        _log_sparsity(model, ctx, say, "start")

    # 7. the loop; channels-last on the CPU too (oneDNN convolutions: ~10 % less CPU per yolov5n step at 320 px)
    model.to(memory_format=torch.channels_last)
    net = model
    rewrap = None
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        def rewrap(m):
            return DDP(m, device_ids=[device.index] if device.type == "cuda" else None)

        net = rewrap(model)
    from yolo.loss import LossHyp, YoloLoss

    loss_fn = YoloLoss.from_model(model, imgsz=a.imgsz, hyp=LossHyp.from_dict(hyp))
    meta = {"names": list(data.names), "nc": data.nc, "cfg": getattr(model, "cfg", None), "hyp": dict(hyp),
            "args": {k: v for k, v in asdict(a).items() if isinstance(v, (str, int, float, bool, type(None)))},
            "recipe": recipe_text, "recipe_sha256": ck.sha256_text(recipe_text), "recipe_path": recipe_path,
            "checkpoint_recipe": start.get("old_recipe_text"), "plan_version": getattr(plan, "version", 1)}
    meta["args"]["epochs"] = a.epochs
    meta["args"]["overrides"] = dict(a.overrides) if a.overrides else None  # `--set`, for --resume
    on_step = None
    if govern and rank == 0 and world == 1:  # (under DDP every rank would have to switch together)
        on_step = ThreadGovernor(torch.get_num_threads(), os.cpu_count() or 1, say,
                                 on_change=lambda n: meta["args"].__setitem__("threads", n)).observe
    session = Session(model=net, optimizer=optimizer, runtime=runtime, plan=plan, train_loader_for=loader_for,
                      steps_per_epoch=S, loss_fn=loss_fn, validate=make_validate(data, a, dataset, hyp, device, loss_fn),
                      save_dir=save_dir, meta=meta, ema=ema, device=device, amp=device.type == "cuda",
                      epochs=plan.epochs, step=step, best_fitness=best, log=say, progress=a.progress, rank=rank,
                      rewrap=rewrap, phase_of=phase_function(recipe, start_pruned=bool(start.get("masks"))),
                      channels_last=True, on_step=on_step)
    try:
        run(session)
    except ModifierError as e:
        raise TrainError(str(e)) from None
    except ck.CheckpointError as e:
        raise TrainError(f"{e} (training stopped at step {session.step})") from None
    except OSError as e:  # results.csv and the like
        raise TrainError(f"{write_error(e, e.filename or save_dir)} (training stopped at step {session.step})") \
            from None
    if world > 1:
        _check_masks_agree(ctx, say)
    if rank == 0:
        try:
            _finish(session, recipe_text, say)
        except ck.CheckpointError as e:
            raise TrainError(f"{e} (training done; `--resume {save_dir}` completes the end of the run)") from None
        except OSError as e:
            raise TrainError(f"{write_error(e, e.filename or save_dir)} (training done; `--resume {save_dir}` "
                             "completes the end of the run)") from None
        _log_sparsity(model, ctx, say, "end")
    return save_dir


def _check_resumable(resume_ck: dict, path: Path) -> bool:
    """A finished run (its checkpoints stripped) cannot be resumed, as in YOLOv5: say how to train on.

    Returns True for a run whose training finished but whose end did not (killed between the last epoch's
    ``last.pt`` and its stripping, which ``_finish`` does last): resuming it only completes the finalization."""
    if resume_ck.get("stripped") or resume_ck.get("optimizer") is None:
        if resume_ck.get("finished"):
            raise TrainError(f"{path} is from a finished run (epoch {resume_ck.get('epoch')}); nothing to resume. "
                             f"Start a new run from it instead: recipec train --weights {path} ...")
        raise TrainError(f"{path} is a stripped checkpoint (no optimizer state); it cannot be resumed. Resume "
                         "from the run's last.pt, or start a new run with --weights " + str(path))
    return bool(resume_ck.get("finished"))


def _run_folder(a: TrainArgs, resume_path: Path | None, rank: int, world: int) -> Path:
    """The resumed run's folder, or a new one that rank 0 creates atomically (``engine.run_dir``) and tells the
    other ranks."""
    if resume_path is not None:
        return resume_path.parent.parent
    path = None
    if rank == 0:
        try:
            path = create_run_dir(a.project, a.name, a.exist_ok)
        except RunDirError as e:
            raise TrainError(str(e)) from None
    if world > 1:
        import torch.distributed as dist

        box = [str(path) if path is not None else None]
        dist.broadcast_object_list(box, src=0)
        path = Path(box[0])
    return path


def _recipe_source(a: TrainArgs) -> tuple[str | None, str | None]:
    if not a.recipe:
        return None, None
    try:
        if zoo.is_stub(a.recipe):
            path = zoo.resolve_recipe(a.recipe)
        else:  # a bare name that is no file here may be an example shipped with recipec
            from recipec.examples import resolve_recipe_arg

            path = Path(resolve_recipe_arg(a.recipe))
    except zoo.ZooError as e:
        raise TrainError(str(e)) from None
    try:
        return str(path), path.read_text()
    except OSError as e:
        raise TrainError(f"cannot read recipe {path}: {e.strerror or e}") from None


def _check_recipe_change(resume_ck: dict, new_text: str | None, allow: bool, say) -> str:
    old = resume_ck.get("recipe") or ""
    if new_text is None or new_text == old:
        return old
    if not allow:
        raise TrainError("the recipe differs from the one the checkpoint was trained with "
                         f"(sha256 {ck.sha256_text(old)[:12]} -> {ck.sha256_text(new_text)[:12]}); "
                         "pass --allow-recipe-change to resume with the new one")
    diff = "\n".join(difflib.unified_diff(old.splitlines(), new_text.splitlines(), "checkpoint recipe",
                                          "new recipe", lineterm="", n=0))
    say("resuming with a changed recipe (--allow-recipe-change):\n" + diff)
    return new_text


def _log_sparsity(model, ctx: Context, say, when: str) -> None:
    """Per-layer zeros of every prunable weight (printed when the model has any sparsity)."""
    from engine.pruning import format_table, sparsity_table

    rows = sparsity_table(model)
    zeros, total = sum(r.zeros for r in rows), sum(r.numel for r in rows)
    if total and zeros / total >= 0.01:
        say(f"per-layer sparsity at the {when} of training:\n" + format_table(rows))


def _check_masks_agree(ctx: Context, say) -> None:
    """Under DDP: every rank's masks must be identical (a hash per rank, compared on all ranks)."""
    import hashlib

    import torch.distributed as dist

    h = hashlib.sha256()
    for n, m in sorted(ctx.masks.active_masks().items()):
        h.update(n.encode())
        h.update(m.numpy().tobytes())
    hashes: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(hashes, h.hexdigest())
    if len(set(hashes)) != 1:
        raise TrainError(f"masks differ between ranks: {hashes}")
    say(f"masks identical on all {len(hashes)} ranks (sha256 {hashes[0][:16]})")


def _write_run_files(save_dir: Path, a: TrainArgs, hyp: dict, dataset: Any, data: Any) -> None:
    """hyp.yaml, opt.yaml and labels.jpg, as YOLOv5 writes them at the start of a run."""
    from engine.run_files import write_args, write_labels_plot

    write_args(save_dir, a, hyp)
    write_labels_plot(save_dir, dataset, list(data.names))


def _finish(s: Session, recipe_text: str, say) -> None:
    """Stripped checkpoints (``ck.strip_checkpoint``), the final validation table and plots, results.png.

    Every step can run again (stripping is idempotent, the rest is rewritten), and ``last.pt`` is stripped last:
    a stripped ``last.pt`` means the run is complete, an unstripped finished one that ``--resume`` finishes it."""
    wdir = s.save_dir / "weights"
    for p in sorted(wdir.glob("*.pt")):
        if p.name != "last.pt":
            ck.strip_checkpoint(p, checkpoint_recipe=recipe_text)
    if s.validate is not None:
        table = getattr(s.validate, "final_table", None)
        if table is not None:  # best.pt as `recipec val` loads it; YOLOv5's plots from this validation
            say(table(wdir / "best.pt", plots_dir=s.save_dir))
    from engine.plots import plot_results

    png = plot_results(s.save_dir / "results.csv")
    ck.strip_checkpoint(wdir / "last.pt", checkpoint_recipe=recipe_text)
    say(f"done: {wdir / 'last.pt'}, {wdir / 'best.pt'}" + (f", {png}" if png else ""))

