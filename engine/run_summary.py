"""What a finished training run left, as one dict: `recipec train --format json` prints it.

Read from the run folder itself (``results.csv`` and ``weights/``), so it says what is on disk: the per-epoch
results file, ``last.pt`` / ``best.pt``, and the metrics of the last epoch and of the epoch ``best.pt`` holds
(the last row of highest YOLOv5 fitness, 0.1 mAP50 + 0.9 mAP50-95, as the loop picks it).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

METRICS = {"precision": "metrics/precision", "recall": "metrics/recall", "map50": "metrics/mAP_0.5",
           "map50_95": "metrics/mAP_0.5:0.95"}


def _row_metrics(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"epoch": int(float(row["epoch"]))}
    for key, col in METRICS.items():
        out[key] = float(row.get(col) or 0.0)
    out["fitness"] = 0.1 * out["map50"] + 0.9 * out["map50_95"]
    return out


def _path(p: Path) -> str | None:
    return str(p) if p.is_file() else None


def run_summary(save_dir: str | Path) -> dict[str, Any]:
    """{save_dir, results_csv, results_png, weights: {last, best}, epochs, final, best} (paths None when absent;
    final / best None without results)."""
    save_dir = Path(save_dir)
    csv_path = save_dir / "results.csv"
    rows: list[dict[str, Any]] = []
    if csv_path.is_file():
        with csv_path.open(newline="") as fh:
            rows = [_row_metrics(r) for r in csv.DictReader(fh) if r.get("epoch")]
    best = None
    for r in rows:
        if best is None or r["fitness"] >= best["fitness"]:
            best = r
    wdir = save_dir / "weights"
    return {"save_dir": str(save_dir), "results_csv": _path(csv_path), "results_png": _path(save_dir / "results.png"),
            "weights": {"last": _path(wdir / "last.pt"), "best": _path(wdir / "best.pt")},
            "epochs": len(rows), "final": rows[-1] if rows else None, "best": best}
