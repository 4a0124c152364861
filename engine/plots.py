"""The training-curve PNG: every numeric column of results.csv against epoch (matplotlib, Agg backend)."""

from __future__ import annotations

import csv
from pathlib import Path


def plot_results(csv_path: str | Path) -> Path | None:
    """Write ``results.png`` beside ``results.csv``; returns its path, or None when there is nothing to plot."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        return None
    with csv_path.open() as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = [c for c in rows[0] if c != "epoch"]
    x = [float(r["epoch"]) for r in rows]
    fig, axes = plt.subplots(2, (len(cols) + 1) // 2, figsize=(2.6 * ((len(cols) + 1) // 2), 5.2))
    for ax, c in zip(axes.ravel(), cols):
        ax.plot(x, [float(r[c]) for r in rows], marker=".")
        ax.set_title(c, fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in axes.ravel()[len(cols):]:
        ax.axis("off")
    fig.tight_layout()
    out = csv_path.with_suffix(".png")
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
