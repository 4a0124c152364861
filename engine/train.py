"""The engine's side of ``recipec train``: from resolved, typed inputs to a finished run folder.

The CLI layer (``recipec/cli/train_app.py``) resolves and compiles; the engine never compiles a recipe. Called
top to bottom:

1. ``open_run``         -- ranks and device (distributed set-up), the seed, who logs;
2. ``read_resume``      -- ``--resume``: the checkpoint, read once; ``Resume.restore`` puts back its arguments;
3. ``load_hyp_for``     -- hyperparameters (the resumed run's, or ``--hyp``, or YOLOv5's defaults);
4. (CLI: the recipe compiled, the data YAML loaded, ``engine.start.load_start`` / ``check_start``)
5. ``prepare_loaders``  -- the training loader and the CPU threads: ``steps_per_epoch`` (batches per epoch on this
   rank, what the plan is built with);
6. (CLI: ``recipec.plan.build_plan`` at that ``steps_per_epoch``)
7. ``train``            -- optimizer, EMA, modifier runtime, run folder, the loop, the end of the run.

Every user-facing failure is a :class:`TrainError` (or a NonFiniteLoss from the loop) with a complete message;
the CLI prints it and exits non-zero.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from engine import checkpoint as ck
from engine.data import make_train_loader, make_validate
from engine.ema import ModelEMA
from engine.loop import Session, phase_function, run
from engine.malloc import keep_freed_memory
from engine.optim import HypError, build_optimizer, load_hyp
from engine.run_dir import RunDirError, create_run_dir, write_error
from engine.runtime import Context, MaskRegistry, ModifierError, Runtime
from engine.runtime_registry import build_runtimes
from engine.start import Start, StartError, apply_checkpoint_qat, hold_checkpoint_masks
from engine.threads import BusySampler, ThreadGovernor, apply_threads, governed
from recipec.ir.recipe import Recipe
from recipec.plan.model import Plan

Say = Callable[[str], None]


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


# The arguments a resumed run takes from its checkpoint (what decides its batches, schedule and weights).
RESUMED_ARGS = ("data", "imgsz", "batch", "seed", "hyp", "epochs", "weights", "overrides")


@dataclass(frozen=True)
class RunEnv:
    """This process in the run: rank, world size, device, and ``say`` (rank 0 logs, the others are quiet)."""

    rank: int
    world: int
    device: torch.device
    say: Say
    busy: BusySampler  # other processes' CPU use over the set-up picks the CPU thread count


@dataclass(frozen=True)
class Resume:
    """``--resume``: the checkpoint file and its content (read once). ``finalize_only``: its training had
    finished but its end (stripping, final validation) had not; resuming completes only that."""

    path: Path
    ck: dict[str, Any]
    finalize_only: bool

    def restore(self, a: TrainArgs) -> None:
        """Put back the arguments the run was started with (``RESUMED_ARGS``)."""
        prev = self.ck.get("args") or {}
        for key in RESUMED_ARGS:
            if key in prev:
                setattr(a, key, prev[key])


@dataclass(frozen=True)
class RunRecipe:
    """The run's recipe as compiled by the front end, and its text and path (what checkpoints record)."""

    recipe: Recipe
    text: str
    path: str | None = None

    @property
    def sha256(self) -> str:
        return ck.sha256_text(self.text)


@dataclass
class TrainSetup:
    """Everything resolved before the engine builds the run (the CLI layer fills it, top to bottom)."""

    args: TrainArgs
    env: RunEnv
    hyp: dict[str, Any]
    data: Any                   # yolo.data.yaml.DataConfig
    recipe: RunRecipe
    start: Start
    resume: Resume | None = None
    already_quantized: bool = False  # the starting weights are quantized (engine.start.check_start)


@dataclass
class Loaders:
    """The training loader (``loader_for(epoch, first_batch)``), its length and its dataset."""

    loader_for: Any
    steps_per_epoch: int
    dataset: Any


def open_run(a: TrainArgs, log: Say = print) -> RunEnv:
    """Ranks and device (``WORLD_SIZE`` / ``RANK`` / ``LOCAL_RANK`` as torchrun sets them), the seed."""
    busy = BusySampler()
    rank, world, device = _setup_distributed(a.device)
    torch.manual_seed(a.seed)
    return RunEnv(rank, world, device, log if rank == 0 else (lambda m: None), busy)


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


def read_resume(path: Path) -> Resume:
    """Read the checkpoint to resume from (once). A finished run (its checkpoints stripped) cannot be resumed,
    as in YOLOv5: say how to train on."""
    try:
        data = ck.load_checkpoint(path)
    except ck.CheckpointError as e:
        raise TrainError(str(e)) from None
    if data.get("stripped") or data.get("optimizer") is None:
        if data.get("finished"):
            raise TrainError(f"{path} is from a finished run (epoch {data.get('epoch')}); nothing to resume. "
                             f"Start a new run from it instead: recipec train --weights {path} ...")
        raise TrainError(f"{path} is a stripped checkpoint (no optimizer state); it cannot be resumed. Resume "
                         "from the run's last.pt, or start a new run with --weights " + str(path))
    return Resume(path, data, finalize_only=bool(data.get("finished")))


def load_hyp_for(a: TrainArgs, resume: Resume | None) -> dict[str, Any]:
    """The resumed run's hyperparameters, else ``--hyp``, else YOLOv5's hyp.scratch-low."""
    if resume is not None and resume.ck.get("hyp"):
        return resume.ck["hyp"]
    try:
        return load_hyp(a.hyp)
    except HypError as e:
        raise TrainError(str(e)) from None


def prepare_loaders(s: TrainSetup) -> Loaders:
    """The training loader on this rank, and the CPU threads (after the data scan / image cache: a longer window
    for the busy sample, before any worker forks). ``steps_per_epoch`` is its length."""
    from yolo.data.yaml import DataError

    a, env = s.args, s.env
    try:
        loader_for, steps, dataset = make_train_loader(s.data, a, s.hyp, env.rank, env.world)
    except DataError as e:
        raise TrainError(str(e)) from None
    try:
        prev = (s.resume.ck.get("args") or {}).get("threads") if s.resume is not None else None
        used = apply_threads(a.threads, env.device.type, env.say, env.busy,
                             previous=prev if isinstance(prev, int) else None)
        a.threads = used if used is not None else a.threads  # recorded in the checkpoint's args for --resume
        if env.device.type == "cpu":  # before the first step; the loader workers fork later and inherit it
            line = keep_freed_memory()
            if line:
                env.say(line)
    except ValueError as e:
        raise TrainError(str(e)) from None
    return Loaders(loader_for, steps, dataset)


def train(s: TrainSetup, loaders: Loaders, plan: Plan) -> Path:
    """Run one training on a compiled recipe's plan; returns the run folder. Raises TrainError on bad input."""
    env, S = s.env, loaders.steps_per_epoch
    model = s.start.model.to(env.device)
    optimizer = build_optimizer(model, s.hyp)
    ctx = Context(model, optimizer, plan, MaskRegistry(), log=env.say)
    runtime = _modifier_runtime(s, ctx)
    ema = ModelEMA(model)
    step, best = _restore_state(s, runtime, optimizer, ema, S)
    if not (s.resume is not None and s.resume.finalize_only):  # the first batches decode during the rest
        loaders.loader_for.prefetch(step // S, step % S)
    _apply_checkpoint_qat(s, ctx)
    save_dir = _run_folder(s)  # created here, atomically: after every check passed
    if env.rank == 0:
        _start_run_folder(s, save_dir, loaders.dataset)
        _log_sparsity(model, env.say, "start")
    session = _session(s, loaders, plan, runtime, ema, save_dir, step, best)
    _run_loop(session, save_dir)
    if env.world > 1:
        _check_masks_agree(ctx, env.say)
    if env.rank == 0:
        _finish_run(session, s.recipe.text, save_dir, env.say)
        _log_sparsity(model, env.say, "end")
    return save_dir


def _modifier_runtime(s: TrainSetup, ctx: Context) -> Runtime:
    """One runtime per runnable modifier; the checkpoint's masks held where no pruning modifier owns them."""
    ctx.state.already_quantized = s.already_quantized and s.resume is None
    try:
        runtime = Runtime(build_runtimes(s.recipe.recipe, ctx), ctx)
    except ModifierError as e:
        raise TrainError(str(e)) from None
    hold_checkpoint_masks(s.start.masks, runtime, ctx, ctx.model, s.env.say)
    return runtime


def _restore_state(s: TrainSetup, runtime: Runtime, optimizer: torch.optim.Optimizer, ema: ModelEMA,
                   S: int) -> tuple[int, dict[str, float]]:
    """On resume: runtime, optimizer, EMA, RNG state and the step to continue from; else step 0."""
    if s.resume is None:
        return 0, {}
    r = s.resume.ck
    runtime.load_state_dict(r.get("runtime") or {})
    optimizer.load_state_dict(r["optimizer"])
    if r.get("ema") is not None:
        ema.load_state_dict(r["ema"], int(r.get("updates", 0)))
    step, best = int(r["step"]), dict(r.get("best_fitness") or {})
    ck.set_rng_state(r.get("rng"))  # global RNGs as they were (batch order and augmentation do not depend on
    # them: they are seeded by (seed, epoch, index))
    if int(r.get("steps_per_epoch", S)) != S:
        raise TrainError(f"cannot resume: the checkpoint ran {r['steps_per_epoch']} steps per epoch, "
                         f"this loader has {S} (same data, --batch and world size needed)")
    s.env.say(f"resuming {s.resume.path} at step {step} (epoch {step // S}, batch {step % S})")
    return step, best


def _apply_checkpoint_qat(s: TrainSetup, ctx: Context) -> None:
    """A checkpoint saved during QAT restarts as a QAT model; quantized starting weights keep EMA and AMP off."""
    try:
        apply_checkpoint_qat(s.start.qat, ctx.model, ctx, s.env.say)
    except StartError as e:
        raise TrainError(str(e)) from None
    if s.already_quantized and s.resume is None:
        ctx.state.ema_enabled = ctx.state.amp_enabled = False


def _run_folder(s: TrainSetup) -> Path:
    """The resumed run's folder, or a new one that rank 0 creates atomically (``engine.run_dir``) and tells the
    other ranks."""
    if s.resume is not None:
        return s.resume.path.parent.parent
    a, env = s.args, s.env
    path = None
    if env.rank == 0:
        try:
            path = create_run_dir(a.project, a.name, a.exist_ok)
        except RunDirError as e:
            raise TrainError(str(e)) from None
    if env.world > 1:
        import torch.distributed as dist

        box = [str(path) if path is not None else None]
        dist.broadcast_object_list(box, src=0)
        path = Path(box[0])
    return path


def _start_run_folder(s: TrainSetup, save_dir: Path, dataset: Any) -> None:
    """hyp.yaml, opt.yaml and labels.jpg (as YOLOv5 writes them at the start of a run); stale temporary files of
    an interrupted save removed; a reused folder's results.csv started afresh."""
    from engine.run_files import write_args, write_labels_plot

    a, say, resuming = s.args, s.env.say, s.resume is not None
    try:
        if a.exist_ok and not resuming:  # a new run in a reused folder: its per-epoch rows start afresh
            (save_dir / "results.csv").unlink(missing_ok=True)
        say(f"results go to {save_dir}")
        for t in ck.remove_stale_temps(save_dir / "weights") if resuming else ():
            say(f"removed {t.name}, left by a save that was interrupted")
        write_args(save_dir, a, s.hyp)
        write_labels_plot(save_dir, dataset, list(s.data.names))
    except OSError as e:
        raise TrainError(write_error(e, e.filename or save_dir)) from None
    if resuming and s.resume.finalize_only:
        say(f"{s.resume.path}: the run's training had finished but its end had not; completing its "
            "finalization (stripped checkpoints, final validation, plots)")


def _checkpoint_meta(s: TrainSetup, plan: Plan) -> ck.RunRecord:
    """What every checkpoint of the run records besides the training state (see engine/checkpoint.py)."""
    a, model = s.args, s.start.model
    args = {k: v for k, v in asdict(a).items() if isinstance(v, (str, int, float, bool, type(None)))}
    args["epochs"] = a.epochs
    args["overrides"] = dict(a.overrides) if a.overrides else None  # `--set`, for --resume
    return ck.RunRecord(names=list(s.data.names), nc=s.data.nc, cfg=getattr(model, "cfg", None), hyp=dict(s.hyp),
                        args=args, recipe=s.recipe.text, recipe_sha256=s.recipe.sha256, recipe_path=s.recipe.path,
                        checkpoint_recipe=s.start.recipe_text, plan_version=plan.version)


def _session(s: TrainSetup, loaders: Loaders, plan: Plan, runtime: Runtime, ema: ModelEMA, save_dir: Path,
             step: int, best: dict[str, float]) -> Session:
    """The loop's inputs; channels-last on the CPU too (oneDNN convolutions: ~10 % less CPU per yolov5n step at
    320 px); under DDP the model wrapped (and re-wrapped when QAT changes its modules)."""
    a, env, model = s.args, s.env, s.start.model
    model.to(memory_format=torch.channels_last)
    net, rewrap = model, None
    if env.world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        def rewrap(m):
            return DDP(m, device_ids=[env.device.index] if env.device.type == "cuda" else None)

        net = rewrap(model)
    from yolo.loss import LossHyp, YoloLoss

    loss_fn = YoloLoss.from_model(model, imgsz=a.imgsz, hyp=LossHyp.from_dict(s.hyp))
    meta = _checkpoint_meta(s, plan)
    on_step = None
    if governed(a.threads, env.device.type) and env.rank == 0 and env.world == 1:  # (under DDP every rank would
        # have to switch together)
        on_step = ThreadGovernor(torch.get_num_threads(), os.cpu_count() or 1, env.say,
                                 on_change=lambda n: meta.args.__setitem__("threads", n)).observe
    validate = make_validate(s.data, a, loaders.dataset, s.hyp, env.device, loss_fn)
    return Session(model=net, optimizer=runtime.ctx.optimizer, runtime=runtime, plan=plan,
                   train_loader_for=loaders.loader_for, steps_per_epoch=loaders.steps_per_epoch, loss_fn=loss_fn,
                   validate=validate, save_dir=save_dir, meta=meta, ema=ema, device=env.device,
                   amp=env.device.type == "cuda", epochs=plan.epochs, step=step, best_fitness=best, log=env.say,
                   progress=a.progress, rank=env.rank, rewrap=rewrap,
                   phase_of=phase_function(s.recipe.recipe, start_pruned=bool(s.start.masks)),
                   channels_last=True, on_step=on_step)


def _run_loop(session: Session, save_dir: Path) -> None:
    try:
        run(session)
    except ModifierError as e:
        raise TrainError(str(e)) from None
    except ck.CheckpointError as e:
        raise TrainError(f"{e} (training stopped at step {session.step})") from None
    except OSError as e:  # results.csv and the like
        raise TrainError(f"{write_error(e, e.filename or save_dir)} (training stopped at step {session.step})") \
            from None


def _finish_run(session: Session, recipe_text: str, save_dir: Path, say: Say) -> None:
    try:
        _finish(session, recipe_text, say)
    except ck.CheckpointError as e:
        raise TrainError(f"{e} (training done; `--resume {save_dir}` completes the end of the run)") from None
    except OSError as e:
        raise TrainError(f"{write_error(e, e.filename or save_dir)} (training done; `--resume {save_dir}` "
                         "completes the end of the run)") from None


def _log_sparsity(model, say: Say, when: str) -> None:
    """Per-layer zeros of every prunable weight (printed when the model has any sparsity)."""
    from engine.pruning import format_table, sparsity_table

    rows = sparsity_table(model)
    zeros, total = sum(r.zeros for r in rows), sum(r.numel for r in rows)
    if total and zeros / total >= 0.01:
        say(f"per-layer sparsity at the {when} of training:\n" + format_table(rows))


def _check_masks_agree(ctx: Context, say: Say) -> None:
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


def _finish(s: Session, recipe_text: str, say: Say) -> None:
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
