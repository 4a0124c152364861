"""`recipec plan --plot FILE.png`: LR per group and sparsity per pruning modifier against epochs,
with the QAT phases shaded. matplotlib is imported lazily with the Agg backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recipec.plan.model import Plan

GROUP_NAMES = ("bn", "weights", "biases")
QAT_COLORS = {"observing": "#fde0a8", "bn_frozen": "#f7c27a", "frozen": "#e99a5c"}


def _qat_spans(plan: Plan):
    q = plan.qat
    if q is None:
        return []
    S, T = plan.steps_per_epoch, plan.total_steps
    marks = sorted({(q.start_step, "x")} | {(s, "x") for s in (q.freeze_bn_step, q.disable_observer_step)
                                            if s is not None})
    edges = [s for s, _ in marks] + [T]
    return [(a / S, b / S, q.state_at(a)) for a, b in zip(edges, edges[1:]) if b > a]


def plot_plan(plan: Plan, path: str | Path, *, title: str = "") -> Path:
    """Write the figure to `path` (PNG) and return it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    S, T = plan.steps_per_epoch, plan.total_steps
    x = np.arange(T) / S
    stepwise = [p for p in plan.pruning if p.stepwise]
    n_ax = 2 if stepwise else 1
    fig, axes = plt.subplots(n_ax, 1, figsize=(10, 3.2 * n_ax), sharex=True, squeeze=False)
    ax = axes[0][0]
    for g in range(plan.num_groups):
        name = GROUP_NAMES[g] if g < len(GROUP_NAMES) else str(g)
        ax.plot(x, plan.lr[:, g], label=f"lr[{g}] {name}", lw=1.2)
    ax.set_ylabel("learning rate")
    ax.legend(loc="upper right", fontsize=8)
    if stepwise:
        ax2 = axes[1][0]
        for p in stepwise:
            ax2.step(x, _sparsity(p, T), where="post", label=p.label)
        ax2.set_ylabel("target sparsity")
        ax2.set_ylim(0, 1)
        ax2.legend(loc="lower right", fontsize=8)
    for row in axes:
        for a, b, state in _qat_spans(plan):
            row[0].axvspan(a, b, color=QAT_COLORS.get(state, "#eeeeee"), alpha=0.6, lw=0,
                           label=None)
    axes[-1][0].set_xlabel("epoch")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def _sparsity(p, T: int) -> np.ndarray:
    out = np.full(T, np.nan)
    steps = sorted(s for s in p.update_steps if s < T)
    for n, s in enumerate(steps):
        nxt = steps[n + 1] if n + 1 < len(steps) else T
        out[s:nxt] = p.update_steps[s]
    return out
