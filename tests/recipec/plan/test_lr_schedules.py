"""LR schedules at odd steps_per_epoch, on hand-computed values (spec A.2, A.4-A.6)."""

import math

import pytest
from hypothesis import given, settings, strategies as st

from recipec.plan.clock import epoch_at
from recipec.plan.lr_functions import cosine_lr, cyclic_linear_lr, linear_lr, lr_function_array
from recipec.plan.manager import PlanItem as P
from recipec.plan.simulate import simulate

import numpy as np


def er(end, index=0):
    return P("EpochRangeModifier", 0, end, index)


def lrf(start, end, init, final, func="linear", groups=None, index=1, **kw):
    return P("LearningRateFunctionModifier", start, end, index,
             dict(lr_func=func, init_lr=init, final_lr=final, param_groups=groups, **kw))


def setlr(start, lr, groups=None, index=2):
    return P("SetLearningRateModifier", start, -1, index, dict(learning_rate=lr, param_groups=groups))


def lrm(start, end, init, cls, index=3, **kw):
    return P("LearningRateModifier", start, end, index, dict(lr_class=cls, lr_kwargs=kw, init_lr=init))


def col(plan, g=1):
    return [plan.lr_at(i)[g] for i in range(plan.total_steps)]


def test_yolov5_warmup_start_end_and_handover():
    items = [er(10, 0), lrf(3, 10, 0.01, 0.002, "cosine", index=1),
             lrf(0, 3, 0.0, 0.01, groups=[0, 1], index=2), lrf(0, 3, 0.1, 0.01, groups=[2], index=3)]
    p = simulate(items, 7)
    assert p.total_steps == 70
    assert p.lr_at(0) == (0.0, 0.0, 0.1)  # warm-up start
    assert p.lr_at(1)[0] == 0.0 + ((1 / 7) / 3) * 0.01
    assert p.lr_at(20)[2] == pytest.approx(0.1 + (20 / 7 / 3) * (0.01 - 0.1), rel=1e-15)
    # hand-over at e = 3: both write, the cosine (later end) wins with cos(0)
    assert p.lr_at(21) == (cosine_lr(3.0, 3, 10, 0.01, 0.002),) * 3
    assert p.lr_at(21)[0] == pytest.approx(0.01, abs=1e-17)


def test_cosine_midpoint():
    p = simulate([er(4, 0), lrf(0, 2, 0.01, 0.002, "cosine")], 7)
    assert p.lr_at(7)[1] == math.cos(0.5 * math.pi) * 0.008 / 2 + 0.008 / 2 + 0.002
    assert p.lr_at(7)[1] == pytest.approx(0.006, abs=1e-15)
    assert p.lr_at(14)[1] == pytest.approx(0.002, abs=1e-15)  # on-grid end: final
    assert p.lr_at(27)[1] == p.lr_at(14)[1]  # held after the end


def test_cosine_increasing_uses_shifted_form():
    v = cosine_lr(0.5, 0, 1, 0.001, 0.01)
    r = 0.01 - 0.001
    assert v == math.cos(0.5 * math.pi + math.pi) * r / 2 + r / 2 + 0.001


def test_off_grid_start_and_end_linear():
    p = simulate([er(3, 0), lrf(0.25, 1.25, 0.1, 0.01)], 7)
    assert col(p)[:2] == [0.01, 0.01]  # base lr before the window
    assert p.lr_at(2)[1] == pytest.approx(0.0967857142857, abs=1e-12)  # not 0.1
    assert p.lr_at(9)[1] == pytest.approx(0.0067857142857, abs=1e-12)  # overshoots final 0.01
    assert p.lr_at(20)[1] == p.lr_at(9)[1]  # and holds


def test_end_at_horizon_never_reaches_final():
    p = simulate([er(3, 0), lrf(0, 3, 0.01, 0.002, "cosine")], 7)
    assert p.lr_at(20)[1] == cosine_lr(epoch_at(20, 7), 0, 3, 0.01, 0.002)
    assert p.lr_at(20)[1] > 0.002


def test_set_lr_fires_once_and_holds():
    p = simulate([er(3, 0), setlr(1.3, 0.05, groups=[2])], 7)
    assert [p.lr_at(i)[2] for i in (9, 10, 20)] == [0.01, 0.05, 0.05]
    assert p.lr_at(10)[1] == 0.01


def test_set_lr_lasts_one_step_under_a_running_cosine():
    items = [er(12, 0), lrf(0, 12, 0.01, 0.002, "cosine", index=1), setlr(5, 2e-6, index=2)]
    p = simulate(items, 7)
    assert p.lr_at(35) == (2e-6,) * 3
    assert p.lr_at(36)[0] == cosine_lr(epoch_at(36, 7), 0, 12, 0.01, 0.002)


def test_set_lr_holds_where_the_cosine_ends_at_its_epoch():
    items = [er(12, 0), lrf(0, 10, 0.01, 0.002, "cosine", index=1), setlr(10, 2e-6, index=2)]
    p = simulate(items, 7)
    assert [p.lr_at(i)[0] for i in (70, 71, 83)] == [2e-6] * 3


def test_inner_window_never_shows():
    items = [er(5, 0), lrf(1, 2, 0.5, 0.4, index=1), lrf(0, 4, 0.1, 0.01, "cosine", index=2)]
    p = simulate(items, 7)
    for i in range(7, 15):
        assert p.lr_at(i)[0] == cosine_lr(epoch_at(i, 7), 0, 4, 0.1, 0.01)


def test_empty_param_groups_means_all():
    p = simulate([er(2, 0), setlr(1, 0.05, groups=[])], 7)
    assert p.lr_at(7) == (0.05, 0.05, 0.05)


def test_param_groups_out_of_range_ignored():
    p = simulate([er(1, 0), lrf(0, 1, 0.1, 0.01, groups=[2, 7])], 7)
    assert p.lr_at(0) == (0.01, 0.01, 0.1)


def test_cyclic_linear_restarts_each_cycle():
    # S=4, cycle 1 epoch = 4 steps: init at the cycle's first step, final at its last
    vals = [cyclic_linear_lr(epoch_at(i, 4), 0, 2, 0.1, 0.01, 1.0, 4) for i in range(8)]
    assert vals[0] == 0.1 and vals[4] == 0.1
    assert vals[3] == pytest.approx(0.01) and vals[7] == pytest.approx(0.01)
    arr = lr_function_array("cyclic_linear", np.array([epoch_at(i, 4) for i in range(8)]),
                            0, 2, 0.1, 0.01, 1.0, 4)
    assert arr.tolist() == vals


def test_lr_modifier_starting_late_keeps_base_lr():
    p = simulate([er(3, 0), lrm(1.0, -1, 0.05, "StepLR", gamma=0.5, step_size=1)], 7)
    assert col(p)[:7] == [0.01] * 7
    assert p.lr_at(7) == (0.05,) * 3
    assert p.lr_at(13)[0] == 0.05 and p.lr_at(14)[0] == 0.025


def test_step_lr_staircase_from_zero():
    p = simulate([er(4, 0), lrm(0, -1, 0.1, "StepLR", gamma=0.5, step_size=1)], 7)
    got = col(p)
    assert got[0] == 0.1 and got[6] == 0.1 and got[7] == 0.05 and got[14] == 0.025
    assert got[21] == 0.1 * 0.5 * 0.5 * 0.5


def test_exponential_is_per_epoch_staircase():
    p = simulate([er(3, 0), lrm(0, -1, 0.1, "ExponentialLR", gamma=0.9)], 7)
    got = col(p)
    assert got[6] == 0.1 and got[7] == 0.1 * 0.9 and got[13] == got[7]
    assert got[14] == (0.1 * 0.9) * 0.9


def test_multistep_half_to_even_milestone():
    p = simulate([er(7, 0), lrm(0, -1, 0.1, "MultiStepLR", gamma=0.1, milestones=[5.5])], 7)
    got = col(p)
    assert got[37] == 0.1 and got[38] == 0.1 * 0.1  # 38.5 rounds to 38


def test_multistep_off_grid_start():
    p = simulate([er(4, 0), lrm(0.25, -1, 0.1, "MultiStepLR", gamma=0.5, milestones=[2.25])], 7)
    got = col(p)
    assert got[:2] == [0.01, 0.01] and got[2] == 0.1
    assert got[15] == 0.1 and got[16] == 0.05  # k = i - 2 reaches round(2*7) = 14


def test_step_lr_end_on_and_off_grid():
    on = col(simulate([er(3, 0), lrm(0, 2, 0.1, "StepLR", gamma=0.5, step_size=0.5)], 4))
    assert on[7] == 0.1 * 0.5 ** 3 and on[8] == on[7] and on[11] == on[7]
    off = col(simulate([er(3, 0), lrm(0, 1.9, 0.1, "StepLR", gamma=0.5, step_size=0.5)], 4))
    assert off[8] == 0.1 * 0.5 ** 4 and off[11] == off[8]  # caught up to round(7.6) = 8
    off2 = col(simulate([er(3, 0), lrm(0, 1.8, 0.1, "StepLR", gamma=0.5, step_size=0.5)], 4))
    assert off2[8] == off2[7] == 0.1 * 0.5 ** 3  # round(7.2) = 7: no step


def test_warm_restarts():
    p = simulate([er(4, 0), lrm(0, -1, 0.1, "CosineAnnealingWarmRestarts",
                                lr_min=0.0, cycle_epochs=2)], 4)
    got = col(p)
    assert got[0] == 0.1
    assert got[1] == 0.0 + (0.1 - 0.0) * (1 + math.cos(math.pi * 0.25 / 2)) / 2
    assert got[8] == 0.1  # restart at e = 2
    assert got[12] == (0.1 - 0.0) * (1 + math.cos(math.pi * 1.0 / 2)) / 2


def test_warm_restarts_inherit_first_initial_lr():
    items = [er(6, 0), lrm(0, 2, 0.1, "StepLR", index=1, gamma=0.5, step_size=1),
             lrm(2, -1, 0.05, "CosineAnnealingWarmRestarts", index=2, lr_min=0.0, cycle_epochs=4)]
    got = col(simulate(items, 4))
    # base is the first scheduler's initial_lr (0.1), not this modifier's init_lr 0.05
    assert got[12] == 0.1 * (1 + math.cos(math.pi * 1.0 / 4)) / 2


@settings(max_examples=60, deadline=None)
@given(
    s=st.integers(1, 60), start=st.floats(0, 5), length=st.floats(0.05, 6),
    init=st.floats(0, 1), final=st.floats(0, 1), func=st.sampled_from(["linear", "cosine"]),
)
def test_lr_within_endpoints(s, start, length, init, final, func):
    end = start + length
    p = simulate([er(math.ceil(end) + 1, 0), lrf(start, end, init, final, func)], s)
    lo, hi = min(init, final), max(init, final)
    tol = 1e-15 + 1e-12 * hi
    from recipec.plan.windows import end_step, start_step
    a, b = start_step(start, s), end_step(start, end, s)
    last = b if epoch_at(b, s) == end else b - 1  # an off-grid end extrapolates
    for i in range(a, last + 1):
        v = p.lr_at(i)[0]
        assert lo - tol <= v <= hi + tol
    if epoch_at(b, s) == end:
        assert p.lr_at(b)[0] == pytest.approx(final, abs=tol)
    assert linear_lr(start if start > 0 else 0.0, start, end, init, final) == init
