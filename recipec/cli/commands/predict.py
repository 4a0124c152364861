"""`recipec predict`: run a YOLOv5 checkpoint or exported ONNX model on images and draw the boxes.

Outputs go to `--project runs/predict --name exp` (exp2, exp3, ... unless `--exist-ok`), as YOLOv5's detect
writes them: `<stem>.jpg` with labelled boxes, and with `--save-txt` `labels/<stem>.txt` in YOLO format.
"""

from __future__ import annotations

import glob
import json
import sys
from pathlib import Path

import typer

from recipec.cli.commands.options import (conf_option, device_option, device_or_exit, exist_ok_option, fail,
                                      imgsz_option, iou_option, keep_freed_memory_on_cpu, refuse_scale_name)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def register(app: typer.Typer) -> None:
    app.command("predict")(predict)


def expand_sources(sources: list[str]) -> list[Path]:
    """Files as given, folders as their images (sorted, not recursive), globs as their matches (sorted).
    Raises ValueError naming a source that matches nothing."""
    out: list[Path] = []
    for s in sources:
        p = Path(s)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
            if not found:
                raise ValueError(f"--source {s}: no images in this folder ({', '.join(IMAGE_SUFFIXES)})")
        elif p.exists():
            found = [p]
        elif glob.has_magic(s):
            found = sorted(Path(f) for f in glob.glob(s, recursive=True) if Path(f).is_file())
            if not found:
                raise ValueError(f"--source {s}: no file matches this pattern")
        else:
            raise ValueError(f"{s}: no such file or folder")
        out.extend(found)
    return out


def _load(weights: str, device: str):
    """A YoloModel (.pt) or an OnnxModel (.onnx), or exit 2 with one line."""
    if weights.lower().endswith(".onnx"):
        from yolo.errtext import first_line
        from yolo.val import OnnxModel

        try:
            return OnnxModel(weights)
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own error types
            fail(f"cannot load {weights} with onnxruntime: {first_line(e)}")
    from yolo.checkpoint import CheckpointError, load_model

    dev = device_or_exit(device)
    keep_freed_memory_on_cpu(dev)
    try:
        return load_model(weights, device=dev)
    except CheckpointError as e:
        fail(str(e))
    except (RuntimeError, ValueError, AssertionError) as e:
        fail(f"cannot load {weights} on {dev}: {e}")


def predict(
    images: list[str] = typer.Argument(None, help="Image files (same as --source).", show_default=False,
                                       metavar="[IMAGE]..."),
    source: list[str] = typer.Option(None, "--source", help="Image file, folder or glob ('data/*.jpg'); "
                                                            "repeatable."),
    weights: str = typer.Option(..., "--weights", "-w", help="Checkpoint (.pt: ultralytics, SparseZoo or recipec) "
                                                             "or an exported .onnx model."),
    imgsz: int = imgsz_option(640, "Inference size in pixels (long side), a multiple of 32."),
    conf: float = conf_option(0.25),
    iou: float = iou_option(0.45),
    max_det: int = typer.Option(1000, "--max-det", help="Maximum detections per image."),
    project: Path = typer.Option(Path("runs/predict"), "--project", help="Folder holding the runs."),
    name: str = typer.Option("exp", "--name", help="Run name; exp, exp2, ... when it exists."),
    exist_ok: bool = exist_ok_option(),
    out: Path = typer.Option(None, "--out", "-o", help="Write into this folder exactly (instead of "
                                                       "--project/--name)."),
    save_txt: bool = typer.Option(False, "--save-txt", help="Also write labels/<stem>.txt: class x y w h, "
                                                            "normalized (YOLO format)."),
    save_conf: bool = typer.Option(False, "--save-conf", help="With --save-txt: the confidence as a 6th column."),
    fmt: str = typer.Option("text", "--format", help="Console output: text or json."),
    device: str = device_option(),
) -> None:
    """Detect objects in images (--source: files, folders, globs) and write <stem>.jpg with labelled boxes."""
    if fmt not in ("text", "json"):
        fail(f"--format must be text or json, got {fmt!r}")
    if imgsz < 32 or imgsz % 32:
        fail(f"--imgsz must be a positive multiple of 32, got {imgsz}")
    if not (0.0 <= conf <= 1.0 and 0.0 <= iou <= 1.0):
        fail("--conf and --iou must be in [0, 1]")
    if not images and not source:
        fail("give the images: --source FILE|FOLDER|GLOB (or file arguments)")
    try:
        paths = expand_sources(list(source or []) + list(images or []))
    except ValueError as e:
        fail(str(e))
    refuse_scale_name(weights)
    if not Path(weights).is_file():
        fail(f"weights file not found: {weights} (nothing is downloaded; pass the path of a .pt or .onnx file)")
    model = _load(weights, device)

    from engine.run_dir import RunDirError, create_run_dir
    from yolo.predict import ImageError, detect, draw, load_image, summarize, yolo_label_lines

    try:  # runs/predict/exp, exp2, ...: the mkdir picks the name, so two runs started together never share one
        save_dir = out if out is not None else create_run_dir(project, name, exist_ok)
        (save_dir / "labels" if save_txt else save_dir).mkdir(parents=True, exist_ok=True)
    except RunDirError as e:
        fail(str(e))
    except OSError as e:
        fail(f"cannot create output folder {save_dir}: {e.strerror or e}")

    results, failed, used = [], 0, set()
    for path in paths:
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
        target = save_dir / f"{stem}.jpg"
        try:
            draw(img, dets).save(target, quality=90)
            if save_txt:
                lines = yolo_label_lines(dets, img.shape, with_conf=save_conf)
                (save_dir / "labels" / f"{stem}.txt").write_text("".join(f"{ln}\n" for ln in lines))
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
    else:
        print(f"results saved to {save_dir}" + (f", labels in {save_dir / 'labels'}" if save_txt else ""),
              file=sys.stderr)
    if failed:
        raise typer.Exit(2)
