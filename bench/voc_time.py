"""Time `recipec data voc SRC --out TMP --link L` as a whole process (interpreter start included), N runs each.

Usage: python bench/voc_time.py [SRC] [-n RUNS] [--links symlink,copy]
Default SRC: ../shared/external/bccd/VOCdevkit/BCCD (364 images, 4,888 objects). Target: a few seconds at most.

Prints the wall-clock median and the median CPU time (user + system of the child process) per link mode.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lint_time import time_cmd  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared" / "external" / "bccd" / "VOCdevkit" / "BCCD"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", nargs="?", default=str(DEFAULT))
    ap.add_argument("-n", "--runs", type=int, default=5)
    ap.add_argument("--links", default="symlink,copy")
    args = ap.parse_args()
    if not Path(args.src).is_dir():
        print(f"error: {args.src} not found", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        for link in args.links.split(","):
            cmd = [sys.executable, "-m", "recipec", "data", "voc", args.src, "--out", f"{tmp}/{link}", "--link", link]
            wall, cpu = time_cmd(cmd, args.runs)  # each run replaces the previous conversion
            print(f"recipec data voc --link {link}: median {statistics.median(wall):.2f} s wall (min {min(wall):.2f}), "
                  f"{statistics.median(cpu):.2f} s CPU, n={len(wall)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
