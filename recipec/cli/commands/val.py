"""`recipec val`: mAP of a YOLOv5 checkpoint (or an exported ONNX model) on a dataset split."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import typer

from recipec.cli.commands.options import (batch_option, conf_option, device_option, device_or_exit, exist_ok_option,
                                      imgsz_option, iou_option, keep_freed_memory_on_cpu, refuse_scale_name)


def register(app: typer.Typer) -> None:
    app.command("val")(val)


def _fail(msg: str, code: int = 2):
    print(f"error: {msg}", file=sys.stderr)
    raise typer.Exit(code)


def render_table(report: dict) -> str:
    """The YOLOv5-style table: the `all` row, then one row per class that has labels."""
    head = ("Class", "Images", "Instances", "P", "R", "mAP50", "mAP50-95")
    rows = [("all", report["images"], report["instances"], report["precision"], report["recall"],
             report["map50"], report["map50_95"])]
    rows += [(c["name"], c["images"], c["instances"], c["precision"], c["recall"], c["map50"], c["map50_95"])
             for c in report["per_class"]]
    w0 = max(12, *(len(str(r[0])) for r in rows))
    lines = [f"{head[0]:>{w0}}" + "".join(f"{h:>11}" for h in head[1:])]
    for r in rows:
        lines.append(f"{str(r[0]):>{w0}}{r[1]:>11}{r[2]:>11}" + "".join(f"{v:>11.3g}" for v in r[3:]))
    sp = report.get("speed_ms")
    if sp:
        lines.append(f"Speed: {sp['preprocess']:.1f}ms preprocess, {sp['inference']:.1f}ms inference, "
                     f"{sp['nms']:.1f}ms NMS per image")
    return "\n".join(lines)


def training_settings(args: dict, imgsz: int | None, batch: int | None) -> tuple[int | None, int | None]:
    """--imgsz / --batch not given: those the checkpoint's training validated with (its imgsz, 2x its batch), so
    that `val best.pt` reproduces best.pt's results.csv row (rect batch shapes depend on the batch size)."""
    if imgsz is None and isinstance(args.get("imgsz"), int):
        imgsz = args["imgsz"]
    if batch is None and isinstance(args.get("batch"), int):
        batch = 2 * args["batch"]
    return imgsz, batch


def square_note(weights: str, b, imgsz: int) -> str:
    return (f"note: {weights} has a static {b}x3x{imgsz}x{imgsz} input, so validation forces square inference "
            f"(every image letterboxed to {imgsz}x{imgsz}); the .pt and a --dynamic export validate with rect "
            f"batches (shapes of similar aspect ratio, padded half a stride), so their numbers differ")


def val(
    weights: str = typer.Option(..., "--weights", "-w", help="Checkpoint (.pt: ultralytics, SparseZoo or recipec) "
                                "or an exported .onnx model."),
    data: str = typer.Option(..., "--data", help="Data YAML (ultralytics format), e.g. coco128.yaml or VOC.yaml."),
    split: str = typer.Option("val", "--split", help="Which split of the data YAML: val, test or train."),
    imgsz: int = imgsz_option(None, "Inference size in pixels (long side), a multiple of 32 (default: a recipec "
                                    "checkpoint's training size, else 640)."),
    batch: int = batch_option(None, "Batch size; images of similar aspect ratio share a shape, so it changes the "
                                    "numbers a little (default: what training validated with, 2x its --batch, "
                                    "else 16)."),
    conf: float = conf_option(0.001),
    iou: float = iou_option(0.6),
    device: str = device_option(),
    half: bool = typer.Option(False, "--half", help="fp16 inference (CUDA only)."),
    workers: int = typer.Option(0, "--workers", help="DataLoader worker processes."),
    fmt: str = typer.Option("table", "--format", help="Output: table or json."),
    project: Path = typer.Option(Path("runs/val"), "--project", help="Folder holding the runs (plots)."),
    name: str = typer.Option("exp", "--name", help="Run name; exp, exp2, ... when it exists."),
    exist_ok: bool = exist_ok_option(),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="Write YOLOv5's plots (confusion matrix, PR/F1/"
                                                               "P/R curves, val_batch0 images) to the run folder."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar (none is drawn when stdout "
                                                                   "is not a terminal either)."),
) -> None:
    """Validate WEIGHTS on the --data split: precision, recall, mAP50 and mAP50-95, overall and per class."""
    if fmt not in ("table", "json"):
        _fail(f"--format must be table or json, got {fmt!r}")
    if imgsz is not None and (imgsz < 32 or imgsz % 32):
        _fail(f"--imgsz must be a positive multiple of 32, got {imgsz}")
    if (batch is not None and batch < 1) or workers < 0:
        _fail("--batch must be >= 1 and --workers >= 0")
    if not (0.0 <= conf <= 1.0 and 0.0 <= iou <= 1.0):
        _fail("--conf and --iou must be in [0, 1]")
    refuse_scale_name(weights)
    dev = device_or_exit(device)
    keep_freed_memory_on_cpu(dev)
    if half and dev.type != "cuda":
        _fail("--half needs a CUDA --device")

    from yolo.data import DataError, create_dataloader, list_images, load_data_yaml
    from yolo.val import OnnxModel, validate

    try:
        cfg = load_data_yaml(data)
        list_images(cfg, split)  # missing data is reported before any model is loaded
    except DataError as e:
        _fail(str(e))
    rect, stride = True, 32
    if weights.lower().endswith(".onnx"):
        if not Path(weights).is_file():
            _fail(f"ONNX model not found: {weights}")
        try:
            model = OnnxModel(weights, imgsz=imgsz)
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own error types
            _fail(f"cannot load {weights} with onnxruntime: {e}")
        if model.fixed_hw is not None:  # a static input: every batch must have that shape
            if model.fixed_hw[0] != model.fixed_hw[1]:
                _fail(f"{weights}: non-square static input {model.fixed_hw} is not supported")
            imgsz, rect = model.fixed_hw[0], False
            print(square_note(weights, model.fixed_batch or "B", imgsz), file=sys.stderr)
        if model.fixed_batch and model.fixed_batch != batch:
            batch = model.fixed_batch
        nc_model = model.nc
        what = "the ONNX model"
    else:
        from engine.checkpoint import CheckpointError as RecipecError
        from engine.export.load import load_for_export
        from yolo.checkpoint import CheckpointError

        try:  # as `recipec export` loads it: a QAT checkpoint is the QAT model (fake-quant), not the float one
            loaded = load_for_export(weights)
            model = loaded.model.to(dev)
        except (CheckpointError, RecipecError) as e:
            _fail(str(e))
        except (RuntimeError, ValueError) as e:
            _fail(f"cannot load {weights} on {dev}: {e}")
        stride = max(32, int(model.stride.max()))
        nc_model = model.nc
        what = loaded.describe()
        imgsz, batch = training_settings(loaded.args, imgsz, batch)
    imgsz, batch = imgsz or 640, batch or 16
    print(f"evaluating {what} at --imgsz {imgsz} --batch {batch} ({'rect' if rect else 'square'} batches)",
          file=sys.stderr)
    if nc_model is not None and nc_model != cfg.nc:
        _fail(f"the model predicts {nc_model} classes but {data} has nc={cfg.nc}")

    data_log = logging.getLogger("yolo.data")
    data_log.disabled = True  # the scan summary is printed below, once
    try:
        loader, ds = create_dataloader(cfg, split, imgsz=imgsz, batch_size=batch, augment=False, rect=rect,
                                       stride=stride, workers=workers)
    except DataError as e:
        _fail(str(e))
    except ValueError as e:  # no usable images after the scan
        _fail(str(e))
    finally:
        data_log.disabled = False
    if ds.scan.issues:
        print(ds.scan.summary(), file=sys.stderr)
    save_dir = None
    if plots:  # runs/val/exp, exp2, ... made by the mkdir that picks the name (never shared by two runs)
        from engine.run_dir import RunDirError, create_run_dir

        try:
            save_dir = create_run_dir(project, name, exist_ok)
        except RunDirError as e:
            _fail(str(e))
    from engine.progress import progress_callback

    try:
        with progress_callback("validating", enabled=not no_progress) as bar:
            report = validate(model, loader, conf=conf, iou=iou, device=dev, half=half, names=list(cfg.names),
                              progress=bar, plots_dir=save_dir)
    except RuntimeError as e:  # e.g. an ONNX model whose shapes do not fit
        _fail(f"validation failed: {e}")
    except OSError as e:
        _fail(f"cannot write the plots to {save_dir}: {e.strerror or e}")
    if report.get("nonfinite_images"):  # NMS drops NaN scores: mAP 0 would look like a bad but working model
        _fail(f"the model output NaN or inf for {report['nonfinite_images']} of {report['images']} images: it is "
              "broken, so no mAP is reported", 1)
    if save_dir is not None:
        print(f"plots saved to {save_dir}", file=sys.stderr)
    if fmt == "json":
        print(json.dumps(report, indent=2))
    else:
        print(render_table(report))
