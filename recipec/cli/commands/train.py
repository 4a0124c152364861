"""`recipec train`: sparse transfer learning of YOLOv5 driven by a recipe (arguments checked here; `train_app`
resolves and compiles, engine.train runs)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer

from recipec.cli.commands.options import (batch_option, device_option, device_or_exit, exist_ok_option, imgsz_option,
                                      malloc_setting_or_exit, parse_sets_or_exit)


def register(app: typer.Typer) -> None:
    app.command("train", context_settings={"allow_extra_args": True, "ignore_unknown_options": False})(train)


def train(
    ctx: typer.Context,
    data: str = typer.Option(None, "--data", help="Data YAML (ultralytics format)."),
    weights: str = typer.Option("yolov5s", "--weights", "-w",
                                help="Start weights: a .pt file or a zoo: stub. Nothing is downloaded: a scale name "
                                     "(yolov5n..yolov5x) with no such file needs --init random."),
    init: str = typer.Option("weights", "--init",
                             help="weights: load --weights; random: a freshly initialised model of the scale "
                                  "--weights names, trained from scratch (--weights yolov5n --init random)."),
    recipe: str = typer.Option(None, "--recipe", help="Recipe file, zoo: stub (?recipe_type=...), or the bare name "
                                                      "of an example recipe shipped with recipec (e.g. "
                                                      "yolov5s_transfer_pruned_quantized.yaml) when no such file is "
                                                      "here."),
    epochs: int = typer.Option(None, "--epochs", help="Sets the recipe's num_epochs variable (as `recipec plan`)."),
    sets: list[str] = typer.Option(None, "--set", help="Override a recipe variable: NAME=VALUE (repeatable), "
                                                       "as `recipec lint` and `plan`."),
    imgsz: int = imgsz_option(640, "Training image size in pixels, a multiple of 32."),
    batch: int = batch_option(16, "Images per batch (per process under DDP)."),
    device: str = device_option(),
    workers: int = typer.Option(0, "--workers", help="DataLoader worker processes (0 = load in the main process)."),
    project: str = typer.Option("runs/train", "--project", help="Folder holding the runs."),
    name: str = typer.Option("exp", "--name", help="Run name; exp, exp2, ... when it exists."),
    exist_ok: bool = exist_ok_option(),
    resume: bool = typer.Option(False, "--resume",
                                help="Resume: `--resume PATH` (last.pt or its run folder), or bare for the latest "
                                     "run under --project."),
    allow_recipe_change: bool = typer.Option(False, "--allow-recipe-change",
                                             help="Resume even though the recipe changed (prints what moved)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the batch order, augmentation and init."),
    hyp: Path = typer.Option(None, "--hyp", help="Hyperparameter YAML (YOLOv5 hyp format)."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bars."),
    threads: int = typer.Option(None, "--threads", help="torch CPU threads (default: the cores other processes "
                                                        "leave free; RECIPEC_THREADS also sets it)."),
    fmt: str = typer.Option("text", "--format", help="text, or json: the log goes to stderr and stdout gets one "
                                                     "JSON object at the end (metrics, weights, results.csv)."),
) -> None:
    """Train YOLOv5 with a recipe: LR, pruning and QAT follow `recipec plan` step by step."""
    extra = list(ctx.args)
    if extra and not resume:
        _fail(f"unexpected argument(s): {' '.join(extra)}")
    if len(extra) > 1:
        _fail("--resume takes at most one path")
    if imgsz < 32 or imgsz % 32:
        _fail(f"--imgsz must be a positive multiple of 32, got {imgsz}")
    if batch < 1 or workers < 0:
        _fail("--batch must be >= 1 and --workers >= 0")
    if epochs is not None and epochs < 1:
        _fail(f"--epochs must be >= 1, got {epochs}")
    if threads is not None and threads < 1:
        _fail(f"--threads must be >= 1, got {threads}")
    if init not in ("weights", "random"):
        _fail(f"--init must be weights or random, got {init!r}")
    if fmt not in ("text", "json"):
        _fail(f"--format must be text or json, got {fmt!r}")
    overrides = parse_sets_or_exit(sets)
    device_or_exit(device)
    malloc_setting_or_exit()

    from engine.loop import NonFiniteLoss, Stopped
    from engine.train import TrainArgs, TrainError
    from recipec.cli.train_app import run_training

    args = TrainArgs(data=data, weights=weights, recipe=recipe, epochs=epochs, imgsz=imgsz, batch=batch,
                     device=device, workers=workers, project=project, name=name,
                     resume=(extra[0] if extra else "") if resume else None,
                     allow_recipe_change=allow_recipe_change, seed=seed, hyp=str(hyp) if hyp else None,
                     progress=not no_progress and fmt != "json", threads=threads if threads is not None else "auto",
                     overrides=overrides or None, init=init, exist_ok=exist_ok)
    out = sys.stderr if fmt == "json" else sys.stdout  # json: stdout holds the result object only
    try:
        save_dir = run_training(args, log=lambda m: print(m, file=out, flush=True))
    except TrainError as e:
        _fail(str(e))
    except NonFiniteLoss as e:
        print(f"error: {e}", file=sys.stderr)
        raise typer.Exit(1)
    except Stopped as e:
        print(str(e), file=sys.stderr)
        raise typer.Exit(3)
    if fmt == "json" and int(os.environ.get("RANK", "0")) == 0:  # one object, from rank 0 only under DDP
        from engine.run_summary import run_summary

        print(json.dumps(run_summary(save_dir), indent=2))


def _fail(msg: str) -> None:
    print(f"error: {msg}", file=sys.stderr)
    raise typer.Exit(2)
