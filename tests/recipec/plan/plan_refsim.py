"""A slow, literal step-by-step reference of SparseML's manager for LR modifiers (test oracle).

Written independently of recipec.plan's vectorised code: every step, every modifier in manager
order checks readiness and writes into a list of group LRs, with tiny emulations of torch's
StepLR / MultiStepLR (chainable) and CosineAnnealingWarmRestarts(step(epoch)).
"""

import math
import sys
from collections import Counter

EPS = sys.float_info.epsilon


def e_at(i, S):
    return float(i // S) + float(i % S) / float(S)


class _Mod:
    def __init__(self, item):
        self.it = item
        self.started = False
        self.ended = False
        self.start = item.start_epoch
        self.end = item.end_epoch

    def start_pending(self, e):
        return not self.started and not self.ended and (e >= self.start >= 0 or self.start == -1)

    def end_pending(self, e):
        return self.started and not self.ended and e >= self.end >= 0

    def ready(self, e):
        if self.start_pending(e) or self.end_pending(e):
            return True
        return self.every_step and self.started and not self.ended and e > self.start

    def flags(self, e):
        if self.start_pending(e):
            self.started = True
        if self.end_pending(e):
            self.ended = True


class RefFunction(_Mod):
    every_step = True

    def update(self, lrs, e, S, opt):
        f = self.it.fields
        s = self.start if self.start > 0 else 0.0
        x = (e - s) / (self.end - s)
        init, final = f["init_lr"], f["final_lr"]
        if f["lr_func"] == "linear":
            v = init + ((e - s) / (self.end - s)) * (final - init)
        elif f["lr_func"] == "cosine":
            if final < init:
                v = math.cos(x * math.pi + 0) * (init - final) / 2 + (init - final) / 2 + final
            else:
                v = math.cos(x * math.pi + math.pi) * (final - init) / 2 + (final - init) / 2 + init
        else:
            raise NotImplementedError
        for g in range(len(lrs)):
            if not f.get("param_groups") or g in f["param_groups"]:
                lrs[g] = v


class RefSet(_Mod):
    every_step = False

    def update(self, lrs, e, S, opt):
        for g in range(len(lrs)):
            if not self.it.fields.get("param_groups") or g in self.it.fields["param_groups"]:
                lrs[g] = self.it.fields["learning_rate"]


class RefScheduler(_Mod):
    every_step = True

    def __init__(self, item):
        super().__init__(item)
        self.sched = None
        self.steps = 0

    def _make(self, lrs, S, opt):
        f = self.it.fields
        kw = dict(f["lr_kwargs"])
        cls = f["lr_class"]
        if "initial_lr" not in opt:
            opt["initial_lr"] = list(lrs)
        if cls == "ExponentialLR":
            cls, kw["step_size"] = "StepLR", 1.0
        sch = {"cls": cls, "last": 0, "base": opt["initial_lr"]}
        if cls == "StepLR":
            sch["n"] = round(kw["step_size"] * S)
            sch["gamma"] = kw["gamma"]
        elif cls == "MultiStepLR":
            sch["m"] = Counter(round((m - self.start) * S) for m in kw["milestones"])
            sch["gamma"] = kw["gamma"]
            if 0 in sch["m"]:
                for g in range(len(lrs)):
                    lrs[g] = lrs[g] * sch["gamma"] ** sch["m"][0]
        else:
            sch["eta"], sch["t0"] = kw["lr_min"], kw["cycle_epochs"]
            self._cos(lrs, sch, 0)
        return sch

    def _cos(self, lrs, sch, ep):
        t_cur = ep % sch["t0"] if ep >= sch["t0"] else ep
        for g in range(len(lrs)):
            lrs[g] = sch["eta"] + (sch["base"][g] - sch["eta"]) * (1 + math.cos(math.pi * t_cur / sch["t0"])) / 2

    def _step(self, lrs):
        sch = self.sched
        sch["last"] += 1
        k = sch["last"]
        if sch["cls"] == "StepLR" and k % sch["n"] == 0:
            for g in range(len(lrs)):
                lrs[g] = lrs[g] * sch["gamma"]
        if sch["cls"] == "MultiStepLR" and k in sch["m"]:
            for g in range(len(lrs)):
                lrs[g] = lrs[g] * sch["gamma"] ** sch["m"][k]

    def update(self, lrs, e, S, opt):
        if self.sched is None:
            for g in range(len(lrs)):
                lrs[g] = self.it.fields["init_lr"]
        if e <= EPS:
            self.steps -= 1
            return
        if abs(self.end - e) <= EPS and self.end >= 0:
            return
        if self.sched is None:
            self.sched = self._make(lrs, S, opt)
            self.steps += round(e * S)
        if self.sched["cls"] == "CosineAnnealingWarmRestarts":
            self._cos(lrs, self.sched, e - self.start if self.start >= 0 else 0.0)
            return
        glob = round(e * S) if (self.end < 0 or e <= self.end) else round(self.end * S)
        diff = glob - self.steps
        if diff > 0:
            for _ in range(diff):
                self._step(lrs)
            self.steps = glob


KINDS = {"LearningRateFunctionModifier": RefFunction, "SetLearningRateModifier": RefSet,
         "LearningRateModifier": RefScheduler}


def reference_lrs(ordered_items, S, T, num_groups=3, base_lr=0.01):
    """LR per step and group, given the items already in manager order."""
    mods = [KINDS[it.kind](it) for it in ordered_items if it.kind in KINDS]
    lrs = [base_lr] * num_groups
    opt: dict = {}
    out = []
    for i in range(T):
        e = e_at(i, S)
        for m in mods:
            if m.ready(e):
                m.update(lrs, e, S, opt)
                m.flags(e)
        out.append(tuple(lrs))
    return out
