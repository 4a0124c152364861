"""`recipec predict`: run a YOLOv5 checkpoint on images and draw the boxes to PNGs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("predict")(predict)


def predict(
    images: list[Path] = typer.Argument(..., help="Image files to run on.", show_default=False,
                                      metavar="IMAGE"),
    weights: str = typer.Option(..., "--weights", "-w", help="Checkpoint (.pt: ultralytics, SparseZoo or recipec)."),
    imgsz: int = typer.Option(640, "--imgsz", help="Inference size in pixels (long side), a multiple of 32."),
    conf: float = typer.Option(0.25, "--conf", help="Confidence threshold (objectness x class score)."),
    iou: float = typer.Option(0.45, "--iou", help="NMS IoU threshold."),
    max_det: int = typer.Option(1000, "--max-det", help="Maximum detections per image."),
    out: Path = typer.Option(Path("runs/predict"), "--out", "-o", help="Folder for the annotated PNGs."),
    fmt: str = typer.Option("text", "--format", help="Console output: text or json."),
    device: str = typer.Option("cpu", "--device", help="torch device, e.g. cpu or cuda:0."),
) -> None:
    """Detect objects in IMAGE... and write IMAGE-stem.png with labelled boxes to --out."""
    if fmt not in ("text", "json"):
        _fail(f"--format must be text or json, got {fmt!r}")
    if imgsz < 32 or imgsz % 32:
        _fail(f"--imgsz must be a positive multiple of 32, got {imgsz}")
    if not (0.0 <= conf <= 1.0 and 0.0 <= iou <= 1.0):
        _fail("--conf and --iou must be in [0, 1]")

    if not Path(weights).is_file():  # a bare "yolov5s" would give an untrained model: useless here
        _fail(f"weights file not found: {weights} (nothing is downloaded; pass the path of a .pt file)")

    from yolo.checkpoint import CheckpointError, load_model
    from yolo.predict import ImageError, detect, draw, load_image, summarize

    try:
        model = load_model(weights, device=device)
    except CheckpointError as e:
        _fail(str(e))
    except (RuntimeError, ValueError, AssertionError) as e:  # e.g. an unavailable --device
        _fail(f"cannot load {weights} on {device}: {e}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        _fail(f"cannot create output folder {out}: {e.strerror or e}")

    results, failed, used = [], 0, set()
    for path in images:
        try:
            img = load_image(path)
        except ImageError as e:
            print(f"error: {e}", file=sys.stderr)
            failed += 1
            continue
        dets = detect(model, img, imgsz=imgsz, conf=conf, iou=iou, max_det=max_det)
        stem, k = path.stem, 1
        while stem in used:  # same file name from two folders: do not overwrite
            stem, k = f"{path.stem}_{k}", k + 1
        used.add(stem)
        target = out / f"{stem}.png"
        try:
            draw(img, dets).save(target)
        except OSError as e:
            print(f"error: cannot write {target}: {e.strerror or e}", file=sys.stderr)
            failed += 1
            continue
        results.append({"image": str(path), "output": str(target), "size": [img.shape[1], img.shape[0]],
                        "detections": [{"name": d.name, "class": d.cls, "conf": round(d.conf, 4),
                                        "xyxy": [round(v, 1) for v in d.xyxy]} for d in dets]})
        if fmt == "text":
            print(f"{path}: {img.shape[1]}x{img.shape[0]} {summarize(dets)} -> {target}")
    if fmt == "json":
        print(json.dumps(results, indent=2))
    if failed:
        raise typer.Exit(2)


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(2)
