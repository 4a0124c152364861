"""`recipec demo`: the seed workflow end to end on synthetic data, offline, on a CPU (`recipec.cli.demo` does the
work).

Exit codes: 0 = done, sparsity kept exactly and both exports verified; 1 = an invariant failed (the table
says which); 2 = bad input. torch / engine / yolo are imported inside the command only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def _fail(msg: str, code: int = 2) -> None:
    print(f"error: {msg}", file=sys.stderr)
    raise typer.Exit(code)


def auto_threads() -> tuple[int | None, str]:
    """1 thread when other jobs already keep every core busy, else None (torch's default: all cores).

    PyTorch's CPU threads wait for each other at every op; on cores that other processes hold, that costs
    10x or more (measured here on 2 busy cores: a yolov5n training step at 64 px took 0.4 to 11 s with 2 threads,
    0.02 s with 1)."""
    import os

    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        return None, ""
    cores = os.cpu_count() or 1
    if cores > 1 and load >= cores - 0.5:
        return 1, (f"the CPU is busy (load average {load:.1f} on {cores} cores): using 1 thread "
                   "(--threads N to choose)")
    return None, ""


def demo(
    fast: bool = typer.Option(False, "--fast", help="Tiny images, few images, few epochs (a pipeline check, "
                                                    "under a minute; the numbers mean nothing)."),
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Output folder (data, runs, ONNX, summary)."),
    weights: Path = typer.Option(None, "--weights", "-w",
                                 help="Dense start weights (.pt, e.g. a COCO yolov5n.pt); default: from scratch. "
                                      "Required with --data."),
    data: Path = typer.Option(None, "--data", help="Run on your own dataset: a data YAML or a VOC-format folder "
                              "(converted as `recipec data voc` does). Needs --weights and --upstream or "
                              "--sparse-weights."),
    upstream: Path = typer.Option(None, "--upstream", help="With --data: the data YAML to prune --weights on "
                                  "(gradual magnitude pruning), giving the pre-sparsified start."),
    sparse_weights: Path = typer.Option(None, "--sparse-weights", help="With --data: a pre-sparsified checkpoint "
                                        "to start from instead of pruning (e.g. one from SparseZoo)."),
    epochs: int = typer.Option(None, "--epochs", help="With --data: epochs of dense transfer and of sparse "
                               "transfer, >= 4 (default 40)."),
    batch: int = typer.Option(None, "--batch", "--batch-size", help="Images per batch (default 8; 16 with --data)."),
    val_fraction: float = typer.Option(0.2, "--val-fraction", help="With a VOC folder that has no split lists: "
                                       "the share of images held out for validation."),
    imgsz: int = typer.Option(None, "--imgsz", "--img", "--img-size",
                              help="Image size in pixels, a multiple of 32 (default 160; 64 with --fast; 320 with "
                                   "--data)."),
    dense_epochs: int = typer.Option(None, "--dense-epochs", help="Epochs of dense training on task A (default 15; 1 with --fast)."),
    prune_epochs: int = typer.Option(None, "--prune-epochs", help="Epochs of the GMP recipe, >= 8 (default 10; 8 with --fast)."),
    transfer_epochs: int = typer.Option(None, "--transfer-epochs",
                                        help="Epochs of sparse transfer learning, >= 4, QAT in the last 2 "
                                             "(default 15; 4 with --fast)."),
    threads: int = typer.Option(None, "--threads", help="torch and onnxruntime threads (default: all cores, or 1 "
                                                        "when the CPU is already busy)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the data, init, batch order and augmentation."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bars."),
) -> None:
    """Run the whole seed workflow offline: dense -> pruned -> sparse transfer + QAT -> verified ONNX.

    Without --data: synthetic shapes, from scratch. With --data: your dataset, a dense-transfer baseline next to
    sparse transfer from a pruned start."""
    kw = {k: v for k, v in dict(imgsz=imgsz, dense_epochs=dense_epochs, prune_epochs=prune_epochs,
                                transfer_epochs=transfer_epochs, batch=batch).items() if v is not None}
    if imgsz is not None and (imgsz < 32 or imgsz % 32):
        _fail(f"--imgsz must be a positive multiple of 32, got {imgsz}")
    if prune_epochs is not None and prune_epochs < 8:
        _fail(f"--prune-epochs must be >= 8 (the GMP recipe prunes from epoch 4 to 0.6 x epochs), got {prune_epochs}")
    if transfer_epochs is not None and transfer_epochs < 4:
        _fail(f"--transfer-epochs must be >= 4 (2 warm-up epochs, 2 QAT epochs), got {transfer_epochs}")
    if threads is not None and threads < 1:
        _fail(f"--threads must be >= 1, got {threads}")
    if dense_epochs is not None and dense_epochs < 1:
        _fail(f"--dense-epochs must be >= 1, got {dense_epochs}")
    if batch is not None and batch < 1:
        _fail(f"--batch must be >= 1, got {batch}")
    if data is None:
        extra = [f for f, v in (("--upstream", upstream), ("--sparse-weights", sparse_weights), ("--epochs", epochs))
                 if v is not None]
        if extra:
            _fail(f"{', '.join(extra)} go with --data (the synthetic demo takes --dense-epochs/--transfer-epochs)")
    else:
        if fast:
            _fail("--fast is the synthetic pipeline check; leave it out with --data (use --epochs for a short run)")
        if dense_epochs is not None or transfer_epochs is not None:
            _fail("with --data, --epochs sets both dense transfer and sparse transfer")
        if weights is None:
            _fail("--data needs --weights (the dense start, e.g. a COCO yolov5n.pt)")
        if upstream is not None and sparse_weights is not None:
            _fail("give --upstream (prune --weights on it) or --sparse-weights (a pruned checkpoint), not both")
        if epochs is not None and epochs < 4:
            _fail(f"--epochs must be >= 4 (2 warm-up epochs, 2 QAT epochs), got {epochs}")

    from rich.console import Console

    from recipec.cli.demo.run import DemoConfig, DemoError, fast_config, run_demo
    from recipec.cli.demo.report import render

    console = Console(highlight=False)
    if threads is None:
        threads, why = auto_threads()
        if why:
            console.print(why, style="yellow")
    if data is not None:
        from recipec.cli.demo.data import RealDemoConfig, run_real_demo
        from recipec.cli.demo.report import render_real

        cfg = RealDemoConfig(data=data, weights=weights, upstream=upstream, sparse_weights=sparse_weights, out=out,
                             seed=seed, threads=threads, progress=not no_progress, val_fraction=val_fraction,
                             **{k: v for k, v in dict(imgsz=imgsz, batch=batch, epochs=epochs,
                                                      prune_epochs=prune_epochs).items() if v is not None})
        run, render = run_real_demo, render_real
    else:
        base = dict(out=out, weights=str(weights) if weights else None, seed=seed, threads=threads,
                    progress=not no_progress, **kw)
        cfg = fast_config(**base) if fast else DemoConfig(**base)
        run = run_demo
    log_file = None

    def log(msg: str) -> None:
        if log_file is not None:
            log_file.write(msg + "\n")
            log_file.flush()
        if "\n" not in msg:  # tables (per-layer sparsity, val per class) go to demo.log only
            console.print(msg, style="dim", markup=False)

    def stage(title: str) -> None:
        nonlocal log_file
        if log_file is None and out.is_dir():
            log_file = open(out / "demo.log", "w", encoding="utf-8")
        console.rule(title, align="left")
        if log_file is not None:
            log_file.write(f"== {title}\n")

    from engine.export.onnx_export import ExportError

    try:
        res = run(cfg, log=log, stage=stage)
    except (DemoError, ExportError) as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"{e.filename or out}: {e.strerror or e}")
    finally:
        if log_file is not None:
            log_file.close()
    console.rule("summary", align="left")
    render(res, cfg, console)
    if not res.ok:
        raise typer.Exit(1)
