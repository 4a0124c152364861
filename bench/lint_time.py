"""Time `recipec lint FILE` as a whole process (interpreter start included), N runs, print the median.

Usage: python bench/lint_time.py [FILE ...] [-n RUNS]
Default file: examples/recipes/yolov5s_transfer_pruned_quantized.yaml. Target: median <= 0.15 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "examples" / "recipes" / "yolov5s_transfer_pruned_quantized.yaml"


def time_lint(path: str, runs: int, extra: list[str]) -> list[float]:
    cmd = [sys.executable, "-m", "recipec", "lint", "--format", "concise", *extra, path]
    subprocess.run(cmd, capture_output=True)  # warm the OS file cache once
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True)
        out.append(time.perf_counter() - t)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", default=[str(DEFAULT)])
    ap.add_argument("-n", "--runs", type=int, default=21)
    ap.add_argument("--baseline", action="store_true", help="also time a bare `python -c pass`")
    args, extra = ap.parse_known_args()
    if args.baseline:
        ts = []
        for _ in range(args.runs):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"])
            ts.append(time.perf_counter() - t)
        print(f"python startup: median {statistics.median(ts):.3f} s")
    for f in args.files:
        ts = time_lint(f, args.runs, extra)
        print(f"recipec lint {f}: median {statistics.median(ts):.3f} s  (min {min(ts):.3f}, max {max(ts):.3f}, "
              f"n={len(ts)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
