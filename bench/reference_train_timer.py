"""Time the reference trainer's training epochs (pip ``yolov5==7.0.14``, its ``train.main``), validation excluded.

Runs ONLY inside a throwaway venv that has the reference package (see bench/reference_cpu.sh); nothing of the
reference's code is in this repository, this script only calls its public ``parse_opt`` / ``main`` with a
``Callbacks`` object. Per epoch it records the wall time from ``on_train_epoch_start`` (before the loader is
iterated) to ``on_train_epoch_end`` (after the last optimizer step and the LR scheduler step, before
validation) and the images seen (``on_train_batch_end``), and prints one JSON line:
``{"trainer": "yolov5-7.0.14", "epochs": [{"epoch", "images", "seconds", "images_per_s"}, ...]}``.

    python bench/reference_train_timer.py --data coco128.yaml --weights yolov5n.pt --imgsz 320 --batch 16 \
        --epochs 3 --workers 2 --project /tmp/ref_runs
"""

from __future__ import annotations

import argparse
import json
import os
import time

for _k, _v in {"YOLO_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "ULTRALYTICS_SKIP_REQUIREMENTS_CHECKS": "1",
               "WANDB_MODE": "disabled", "WANDB_DISABLED": "true", "COMET_MODE": "disabled",
               "CLEARML_OFF": "1", "YOLOv5_VERBOSE": "False"}.items():
    os.environ.setdefault(_k, _v)


def _offline_font() -> None:
    """The reference downloads Arial.ttf when its config dir lacks it (no network here): give it matplotlib's
    DejaVuSans under that name in a private config dir (it is only used for plots, which --noplots skips)."""
    import shutil
    import tempfile
    from pathlib import Path

    import matplotlib

    cfg = Path(os.environ.setdefault("YOLOV5_CONFIG_DIR", tempfile.mkdtemp(prefix="yolov5cfg-")))
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        if not (cfg / name).exists():
            shutil.copy(font, cfg / name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--project", default="/tmp/ref_runs")
    a = ap.parse_args()

    _offline_font()
    from yolov5 import train
    from yolov5.utils.callbacks import Callbacks

    rows: list[dict] = []
    state = {"t": 0.0, "n": 0}

    def epoch_start(*_a, **_k):
        state["t"], state["n"] = time.perf_counter(), 0

    def batch_end(model, ni, imgs, *_a, **_k):
        state["n"] += int(imgs.shape[0])

    def epoch_end(*_a, epoch=None, **_k):
        dt = time.perf_counter() - state["t"]
        rows.append({"epoch": epoch, "images": state["n"], "seconds": dt, "images_per_s": state["n"] / dt})

    cb = Callbacks()
    cb.register_action("on_train_epoch_start", callback=epoch_start)
    cb.register_action("on_train_batch_end", callback=batch_end)
    cb.register_action("on_train_epoch_end", callback=epoch_end)
    opt = train.parse_opt(True)
    for k, v in {"data": a.data, "weights": a.weights, "imgsz": a.imgsz, "batch_size": a.batch,
                 "epochs": a.epochs, "workers": a.workers, "device": "cpu", "project": a.project,
                 "name": "ref", "noplots": True, "exist_ok": False}.items():
        setattr(opt, k, v)
    train.main(opt, callbacks=cb)
    print(json.dumps({"trainer": "yolov5-7.0.14", "epochs": rows}), flush=True)


if __name__ == "__main__":
    main()
