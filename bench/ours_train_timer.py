"""Time `recipec train`'s training epochs exactly as bench/reference_train_timer.py times the reference's.

Runs ``engine.train.train`` (what the ``recipec train`` command calls) with the given arguments and records,
per epoch, the wall time from the moment the loop asks for the epoch's loader (before it is iterated: the
loop's own ``t0``) to the ``EpochEnd`` event (after the last optimizer step and EMA update, before validation),
and the images the loader yielded. Same span as the "epoch k: X img/s" line the loop prints, at full
precision. Threads as ``recipec train`` chooses them (``--threads auto``; the log says how many). Prints one
JSON line: ``{"trainer": "recipec", "epochs": [{"epoch", "images", "seconds", "images_per_s"}, ...]}``.
``--train-only`` exits right after the last epoch's span (no validation or checkpoints): quick A/B runs.

    python bench/ours_train_timer.py --data coco128.yaml --weights yolov5n.pt --imgsz 320 --batch 16 \
        --epochs 1 --workers 2 --project /tmp/ours_runs
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--project", default="/tmp/ours_runs")
    ap.add_argument("--threads", default="auto", help="auto (what `recipec train` does) or a count")
    ap.add_argument("--train-only", action="store_true",
                    help="exit after the last epoch's training span (no validation, checkpoints or final table): "
                         "quick A/B runs of the training span only")
    a = ap.parse_args()

    import engine.train as et
    from engine import events as ev
    from engine.runtime import Runtime

    rows: list[dict] = []
    state = {"t": 0.0, "n": 0, "epoch": 0}
    make = et.make_train_loader

    class Done(Exception):
        pass

    def timed_make(*args, **kw):
        loader_for, steps, ds = make(*args, **kw)

        def timed_for(epoch, first):
            state["t"], state["n"], state["epoch"] = time.perf_counter(), 0, epoch
            for batch in loader_for(epoch, first):
                state["n"] += int(batch[0].shape[0])
                yield batch

        if hasattr(loader_for, "prefetch"):  # the loop and train() start an epoch's workers ahead
            timed_for.prefetch = loader_for.prefetch
        return timed_for, steps, ds

    dispatch = Runtime.dispatch

    def timed_dispatch(self, event):
        if isinstance(event, ev.EpochEnd):
            dt = time.perf_counter() - state["t"]
            rows.append({"epoch": state["epoch"], "images": state["n"], "seconds": dt,
                         "images_per_s": state["n"] / dt})
            print("timer epoch " + json.dumps(rows[-1]), flush=True)  # before validation, which can be slow
            if a.train_only and len(rows) == a.epochs:
                raise Done
        return dispatch(self, event)

    et.make_train_loader = timed_make
    Runtime.dispatch = timed_dispatch
    kw = {"threads": a.threads if a.threads == "auto" else int(a.threads)}
    if "threads" not in et.TrainArgs.__dataclass_fields__:  # an older recipec (A/B runs against a checkout)
        kw = {}
    args = et.TrainArgs(data=a.data, weights=a.weights, epochs=a.epochs, imgsz=a.imgsz, batch=a.batch,
                        device=a.device, workers=a.workers, project=a.project, name="ours", progress=False, **kw)
    try:
        try:  # the CLI layer's entry (recipec >= the typed-Plan split); older checkouts: engine.train.train
            from recipec.cli.train_app import run_training
        except ImportError:
            run_training = et.train
        run_training(args, log=lambda m: print(m, flush=True))
    except Done:
        pass
    print(json.dumps({"trainer": "recipec", "epochs": rows}), flush=True)


if __name__ == "__main__":
    main()
