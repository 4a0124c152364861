"""Time `recipec lint FILE` as a whole process (interpreter start included), N runs, print the median.

Usage: python bench/lint_time.py [FILE ...] [-n RUNS] [--baseline]
Default file: examples/recipes/yolov5s_transfer_pruned_quantized.yaml. Target: median <= 0.15 s.

Prints the wall-clock median and the median CPU time (user + system of the child process), which
stays meaningful on a loaded machine where wall time mostly measures waiting for a core.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "examples" / "recipes" / "yolov5s_transfer_pruned_quantized.yaml"


def time_cmd(cmd: list[str], runs: int) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) per run."""
    subprocess.run(cmd, capture_output=True)  # warm the OS file cache once
    wall, cpu = [], []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True)
        wall.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
    return wall, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", default=[str(DEFAULT)])
    ap.add_argument("-n", "--runs", type=int, default=21)
    ap.add_argument("--baseline", action="store_true", help="also time a bare `python -c pass`")
    args, extra = ap.parse_known_args()
    if args.baseline:
        wall, cpu = time_cmd([sys.executable, "-c", "pass"], args.runs)
        print(f"python startup: median {statistics.median(wall):.3f} s wall, {statistics.median(cpu):.3f} s CPU")
    for f in args.files:
        wall, cpu = time_cmd([sys.executable, "-m", "recipec", "lint", "--format", "concise", *extra, f], args.runs)
        print(f"recipec lint {f}: median {statistics.median(wall):.3f} s wall (min {min(wall):.3f}, "
              f"max {max(wall):.3f}), {statistics.median(cpu):.3f} s CPU, n={len(wall)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
