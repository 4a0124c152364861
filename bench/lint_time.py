"""Time `recipec lint FILE` as a whole process (interpreter start included), N runs, print the median.

Usage: python bench/lint_time.py [FILE ...] [-n RUNS] [--baseline] [--no-bytecode]
Default file: examples/recipes/yolov5s_transfer_pruned_quantized.yaml. Target: median <= 0.15 s.

Prints the wall-clock median and the median CPU time (user + system of the child process), which
stays meaningful on a loaded machine where wall time mostly measures waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "examples" / "recipes" / "yolov5s_transfer_pruned_quantized.yaml"


def installed_env(pycache: str) -> dict[str, str]:
    """The environment with Python's bytecode cache on, kept under `pycache` (out of the tree), so that a timed
    run loads compiled modules as a pip-installed recipec does (pip compiles them at install time). Without it,
    where PYTHONDONTWRITEBYTECODE=1 is set (this project's build machine), every run compiles recipec's ~60
    front-end modules from source: +0.03-0.04 s CPU per `recipec lint`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def time_cmd(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) per run; `env`: the child's environment (default: ours)."""
    subprocess.run(cmd, capture_output=True, env=env)  # warm the OS file cache (and a bytecode cache) once
    wall, cpu = [], []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env)
        wall.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
    return wall, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", default=[str(DEFAULT)])
    ap.add_argument("-n", "--runs", type=int, default=21)
    ap.add_argument("--baseline", action="store_true", help="also time a bare `python -c pass`")
    ap.add_argument("--no-bytecode", action="store_true", help="as the environment says (default: bytecode cached "
                                                               "in a temp folder, as an installed recipec runs)")
    args, extra = ap.parse_known_args()
    tmp = tempfile.TemporaryDirectory(prefix="recipec-pyc-")
    env = None if args.no_bytecode else installed_env(tmp.name)
    if args.baseline:
        wall, cpu = time_cmd([sys.executable, "-c", "pass"], args.runs, env)
        print(f"python startup: median {statistics.median(wall):.3f} s wall, {statistics.median(cpu):.3f} s CPU")
    for f in args.files:
        wall, cpu = time_cmd([sys.executable, "-m", "recipec", "lint", "--format", "concise", *extra, f], args.runs,
                              env)
        print(f"recipec lint {f}: median {statistics.median(wall):.3f} s wall (min {min(wall):.3f}, "
              f"max {max(wall):.3f}), {statistics.median(cpu):.3f} s CPU, n={len(wall)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
