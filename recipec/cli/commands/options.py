"""Options several commands share, spelled as YOLOv5 spells them, and the one `--device` check.

Every command that takes an image size accepts `--imgsz`, `--img` and `--img-size`; a batch size `--batch` and
`--batch-size`; thresholds `--conf`/`--conf-thres` and `--iou`/`--iou-thres`; `--device` defaults to `auto`.
No torch at import time (see `recipec/cli/commands/__init__.py`).
"""

from __future__ import annotations

import sys

import typer

IMGSZ = ("--imgsz", "--img", "--img-size")
BATCH = ("--batch", "--batch-size")
CONF = ("--conf", "--conf-thres")
IOU = ("--iou", "--iou-thres")
DEVICE_HELP = "auto (cuda:0 when CUDA is available, else cpu), cpu, cuda, cuda:N or N."
EXIST_OK_HELP = "Reuse --project/--name as it is instead of numbering a new folder (exp2, exp3, ...)."


def imgsz_option(default: int, help: str):
    return typer.Option(default, *IMGSZ, help=help)


def batch_option(default, help: str):
    return typer.Option(default, *BATCH, help=help)


def conf_option(default: float):
    return typer.Option(default, *CONF, help="Confidence threshold (objectness x class score).")


def iou_option(default: float):
    return typer.Option(default, *IOU, help="NMS IoU threshold.")


def device_option():
    return typer.Option("auto", "--device", help=DEVICE_HELP)


def exist_ok_option():
    return typer.Option(False, "--exist-ok", help=EXIST_OK_HELP)


def fail(msg: str, code: int = 2):
    print(f"error: {msg}", file=sys.stderr)
    raise typer.Exit(code)


def device_or_exit(spec: str):
    """`yolo.device.select_device(spec)`, or one error line and exit 2 (CUDA asked for on a machine without)."""
    from yolo.device import DeviceError, select_device

    try:
        return select_device(spec)
    except DeviceError as e:
        fail(str(e))


def keep_freed_memory_on_cpu(dev) -> None:
    """On the CPU, keep freed tensor memory for the next batch (engine/malloc.py; measured: `recipec val` of
    yolov5n on coco128 at 640 took 11.3-12.4 s instead of 14.0-14.8 s). Quiet here (`recipec train` logs it);
    a bad RECIPEC_MALLOC is one error line and exit 2."""
    if getattr(dev, "type", dev) != "cpu":
        return
    from engine.malloc import keep_freed_memory

    try:
        keep_freed_memory()
    except ValueError as e:
        fail(str(e))


def malloc_setting_or_exit() -> None:
    """A bad RECIPEC_MALLOC is one error line and exit 2 before anything starts (not after the data scan)."""
    import os
    import platform

    from engine.malloc import malloc_choice

    try:
        malloc_choice(os.environ, platform.libc_ver()[0])
    except ValueError as e:
        fail(str(e))


def parse_sets_or_exit(sets: list[str] | None) -> dict[str, float]:
    """`--set NAME=VALUE` (repeatable) as `recipec lint` parses it, or one error line and exit 2."""
    from recipec.cli.commands.lint import UsageError, _parse_sets

    try:
        return _parse_sets(sets)
    except UsageError as e:
        fail(str(e))


def refuse_scale_name(weights: str) -> None:
    """`--weights yolov5n` where no such file exists: val/predict/export need trained weights, so one error line
    and exit 2 (a bare name used to build a random model silently). Paths and zoo: stubs are left to the loader."""
    from pathlib import Path

    p = Path(weights)
    if p.exists() or p.suffix or len(p.parts) != 1 or weights.startswith("zoo:"):
        return
    fail(f"--weights {weights}: no such file (nothing is downloaded; pass the path of a .pt file). "
         f"To start from a fresh model, use `recipec train --weights {weights} --init random`")
