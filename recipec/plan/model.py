"""The Plan: what a recipe does at every optimizer step, as compact arrays plus sparse events.

The engine queries it per step; `recipec plan` renders it. All steps are 0-based optimizer
steps (SparseML "steps" = batches); step `i` runs at float epoch `epoch_at(i)`, and every value
here is the one in effect *for* that step (modifiers update before the optimizer step).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from recipec.plan.clock import epoch_at as _epoch_at
from recipec.plan.qat import QatSchedule

# The version of the Plan's meaning (its fields and what each step's values stand for). Checkpoints record the
# version of the plan they were trained with (`plan_version`); bump it when a field changes meaning.
PLAN_VERSION = 1


@dataclass(frozen=True)
class PruningSchedule:
    """One pruning modifier's schedule.

    `update_steps`: step -> target sparsity computed before that optimizer step (masks are
    recomputed there and held until the next update; after the last one they stay as long as
    `leave_enabled`). Empty for modifiers with no step-wise target (ConstantPruningModifier
    keeps the current zeros from `start_step`; LayerPruningModifier). `end_step` is the end
    update (None when it never ends or ends after the run). `progress` maps each update step
    to SparseML's interpolation value y (<= eps means init, >= 1 - eps means final), so a
    per-parameter target (a list or dict `final_sparsity`) is `target_for(final, step)`.
    """

    label: str
    kind: str
    index: int
    start_step: int | None
    end_step: int | None
    leave_enabled: bool
    update_steps: dict[int, float] = field(default_factory=dict)
    progress: dict[int, float] = field(default_factory=dict)
    init_sparsity: float | None = None
    stepwise: bool = True
    group_finals: tuple[float, ...] | None = None  # per-group finals of a mapping/list final_sparsity
    runs: bool = True  # False: `recipec train` does not run this kind (the plan shows SparseML's schedule)

    def __post_init__(self):
        object.__setattr__(self, "_steps", sorted(self.update_steps))

    def group_targets(self) -> list[dict[int, float]] | None:
        """Per group (mapping order), step -> target at each update; None without groups."""
        if not self.group_finals or not self.progress or self.init_sparsity is None:
            return None
        return [{u: self.target_for(f, u) for u in self._steps} for f in self.group_finals]

    def targets_at(self, step: int) -> tuple[float, ...] | None:
        """Per-group targets for `step` (None before the first update or without groups)."""
        if not self.group_finals or self.init_sparsity is None or self.last_update_at(step) is None:
            return None
        return tuple(self.target_for(f, step) for f in self.group_finals)

    def sparsity_at(self, step: int) -> float | None:
        """Target in effect for `step` (the last update at or before it), None before the first."""
        if not self.stepwise:
            return None
        k = bisect.bisect_right(self._steps, step) - 1
        return None if k < 0 else self.update_steps[self._steps[k]]

    def last_update_at(self, step: int) -> int | None:
        """The update step in effect for `step`, or None before the first update."""
        k = bisect.bisect_right(self._steps, step) - 1
        return None if k < 0 else self._steps[k]

    def target_for(self, final: float, step: int) -> float | None:
        """Target for a parameter whose own final sparsity is `final`, at `step`."""
        u = self.last_update_at(step)
        if u is None or self.init_sparsity is None:
            return None
        from recipec.plan.pruning import EPS

        y = self.progress[u]
        if y <= EPS:
            return self.init_sparsity
        if y >= 1.0 - EPS:
            return final
        return y * (final - self.init_sparsity) + self.init_sparsity

    def enforced_at(self, step: int) -> bool:
        """Whether this modifier's masks are enforced during `step`."""
        if self.start_step is None or step < self.start_step:
            return False
        if self.end_step is not None and step > self.end_step and not self.leave_enabled:
            return False
        return True


@dataclass(frozen=True)
class WeightDecayWrite:
    """SetWeightDecayModifier: `weight_decay` goes into `groups` (None = all) before `step`."""

    step: int
    groups: tuple[int, ...] | None
    value: float
    label: str


@dataclass(frozen=True)
class ModifierSpan:
    """Where one modifier acts, for tables and timelines: [start_step, last_step], or None."""

    label: str
    kind: str
    index: int
    rank: int  # position in manager order
    start_step: int | None  # None: never starts within the run
    last_step: int | None  # last step it acts; None with a start means "to the end of the run"
    point: bool = False  # acts once (SetLearningRate, SetWeightDecay)


@dataclass(frozen=True)
class Plan:
    """Per-step schedule of a recipe at a given `steps_per_epoch`.

    * `lr_at(step)`: the LR each param group uses for optimizer step `step`;
    * `pruning`: one `PruningSchedule` per modifier whose kind ends in `PruningModifier`, in file order;
    * `qat`: the `QatSchedule` (None without QAT) and `qat_state_at(step)`;
    * `weight_decay`: SetWeightDecayModifier writes; `weight_decay_at(step)` per group (None:
      the optimizer's own value);
    * `lr` is the (total_steps, num_groups) float64 table behind `lr_at` (read-only);
    * `diagnostics`: plan-level findings (RC5xx) when built by `build_plan`; `problems`: the
      modifiers left out because SparseML would fail on them;
    * `version`: `PLAN_VERSION` of the code that built it (checkpoints store it as `plan_version`).
    """

    steps_per_epoch: int
    epochs: int
    total_steps: int
    num_groups: int
    base_lr: float
    lr: np.ndarray
    pruning: tuple[PruningSchedule, ...]
    qat: QatSchedule | None
    weight_decay: tuple[WeightDecayWrite, ...]
    modifiers: tuple[ModifierSpan, ...]
    diagnostics: tuple = ()
    problems: tuple[tuple[int, str], ...] = ()  # (file index, why SparseML would fail there)
    version: int = PLAN_VERSION

    def epoch_at(self, step: int) -> float:
        """The float epoch SparseML's clock shows before optimizer step `step`."""
        return _epoch_at(step, self.steps_per_epoch)

    def lr_at(self, step: int) -> tuple[float, ...]:
        """LR per param group used by optimizer step `step` (0 <= step < total_steps)."""
        if not 0 <= step < self.total_steps:
            raise IndexError(f"step {step} outside the plan (0..{self.total_steps - 1})")
        return tuple(float(v) for v in self.lr[step])

    def sparsity_at(self, step: int) -> tuple[float | None, ...]:
        """Target per pruning modifier (file order) for `step`; None before it applies."""
        return tuple(p.sparsity_at(step) for p in self.pruning)

    def qat_state_at(self, step: int) -> str:
        """`off` / `observing` / `bn_frozen` / `frozen`."""
        return "off" if self.qat is None else self.qat.state_at(step)

    def weight_decay_at(self, step: int) -> tuple[float | None, ...]:
        """Weight decay per group written by the recipe and in effect for `step` (None: untouched)."""
        out: list[float | None] = [None] * self.num_groups
        for w in self.weight_decay:  # already in (step, manager order)
            if w.step > step:
                break
            for g in range(self.num_groups) if w.groups is None else w.groups:
                if 0 <= g < self.num_groups:
                    out[g] = w.value
        return tuple(out)

    def active_at(self, step: int) -> tuple[str, ...]:
        """Labels of the modifiers acting on `step` (point modifiers only on their own step)."""
        out = []
        for m in self.modifiers:
            if m.start_step is None or step < m.start_step:
                continue
            if m.last_step is not None and step > m.last_step:
                continue
            out.append(m.label)
        return tuple(out)
