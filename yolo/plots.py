"""Validation plots as YOLOv5 writes them (matplotlib, Agg backend): PR_curve.png, F1_curve.png, P_curve.png,
R_curve.png and confusion_matrix.png. `save_val_plots(save_dir, stats, cm, names)` writes all five.

The curves come from `yolo.metrics.ap_per_class` (`ClassStats.curves`): one thin grey line per class (coloured
and named in the legend when there are at most 20 classes) and the class mean in bold blue, as YOLOv5 draws them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_LEGEND = 20  # more classes than this: no per-class legend (it would cover the plot)
MAX_CM = 31      # confusion matrix cells (classes + background) drawn with values and names; more: only the
# classes that occur are kept


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _class_names(classes, names) -> list[str]:
    return [names[int(c)] if names is not None and int(c) < len(names) else str(int(c)) for c in classes]


def plot_pr_curve(path: Path, px: np.ndarray, pr: np.ndarray, ap50: np.ndarray, labels: list[str]) -> Path:
    """Precision against recall at IoU 0.5, per class and mean, with mAP@0.5 in the legend."""
    plt = _plt()
    fig, ax = plt.subplots(1, 1, figsize=(9, 6), tight_layout=True)
    per_class = 0 < len(labels) <= MAX_LEGEND
    for k, y in enumerate(pr):
        ax.plot(px, y, linewidth=1, label=f"{labels[k]} {ap50[k]:.3f}" if per_class else None,
                color=None if per_class else "grey")
    if len(pr):
        ax.plot(px, pr.mean(0), linewidth=3, color="blue", label=f"all classes {ap50.mean():.3f} mAP@0.5")
    ax.set(xlabel="Recall", ylabel="Precision", xlim=(0, 1), ylim=(0, 1), title="Precision-Recall Curve")
    ax.legend(bbox_to_anchor=(1.04, 1), loc="upper left")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_metric_curve(path: Path, px: np.ndarray, y: np.ndarray, labels: list[str], ylabel: str) -> Path:
    """A metric (F1, precision or recall) against confidence; the mean's best value is in the legend."""
    from yolo.metrics import smooth

    plt = _plt()
    fig, ax = plt.subplots(1, 1, figsize=(9, 6), tight_layout=True)
    per_class = 0 < len(labels) <= MAX_LEGEND
    for k, yk in enumerate(y):
        ax.plot(px, yk, linewidth=1, label=labels[k] if per_class else None, color=None if per_class else "grey")
    if len(y):
        m = smooth(y.mean(0), 0.05)
        i = int(m.argmax())
        ax.plot(px, m, linewidth=3, color="blue", label=f"all classes {m[i]:.2f} at {px[i]:.3f}")
    ax.set(xlabel="Confidence", ylabel=ylabel, xlim=(0, 1), ylim=(0, 1), title=f"{ylabel}-Confidence Curve")
    ax.legend(bbox_to_anchor=(1.04, 1), loc="upper left")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_confusion_matrix(path: Path, cm, names: list[str]) -> Path:
    """The column-normalized matrix (each true class sums to 1) with the background row and column."""
    plt = _plt()
    m = cm.normalized()
    ticks = (list(names) + ["background"]) if len(names) == len(m) - 1 else [str(i) for i in range(len(m))]
    title = "Confusion Matrix"
    if len(m) > MAX_CM:  # many classes (COCO's 80): only those that occur, labels or detections
        keep = np.flatnonzero((cm.matrix.sum(0) + cm.matrix.sum(1)) > 0)
        keep = np.union1d(keep, [len(m) - 1])
        m, ticks = m[np.ix_(keep, keep)], [ticks[i] for i in keep]
        title += f" ({len(keep) - 1} of {len(cm.matrix) - 1} classes occur)"
    m = np.where(m < 0.005, np.nan, m)  # blank cells instead of 0.00 everywhere
    n = len(m)
    size = min(12, 3 + 0.5 * n)
    fig, ax = plt.subplots(1, 1, figsize=(size + 1.5, size), tight_layout=True)
    im = ax.imshow(m, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if n <= MAX_CM:
        for i in range(n):
            for j in range(n):
                if not np.isnan(m[i, j]):
                    ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=8,
                            color="white" if m[i, j] > 0.5 else "black")
    if n <= MAX_CM:
        ax.set_xticks(range(n), ticks, rotation=90, fontsize=8)
        ax.set_yticks(range(n), ticks, fontsize=8)
    ax.set(xlabel="True", ylabel="Predicted", title=title)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def save_val_plots(save_dir: str | Path, stats, cm, names: list[str] | None) -> list[Path]:
    """PR_curve.png, F1_curve.png, P_curve.png, R_curve.png (from `stats.curves`) and confusion_matrix.png
    (from `cm`, a `yolo.confusion.ConfusionMatrix`) in `save_dir`; returns the paths written."""
    d = Path(save_dir)
    d.mkdir(parents=True, exist_ok=True)
    out = []
    c = stats.curves
    if c is not None:
        labels = _class_names(stats.classes, names)
        out.append(plot_pr_curve(d / "PR_curve.png", c["px"], c["pr"], stats.ap50, labels))
        for key, ylabel, fname in (("f1", "F1", "F1_curve.png"), ("p", "Precision", "P_curve.png"),
                                   ("r", "Recall", "R_curve.png")):
            out.append(plot_metric_curve(d / fname, c["px"], c[key], labels, ylabel))
    if cm is not None:
        out.append(plot_confusion_matrix(d / "confusion_matrix.png", cm, list(names or [])))
    return out
