"""GMP update clocks and interpolation, ConstantPruning and QAT phases (spec A.7, 4.9, 4.12)."""

import math

import pytest
from hypothesis import given, settings, strategies as st

from recipec.plan.clock import epoch_at
from recipec.plan.manager import PlanItem as P
from recipec.plan.pruning import gmp_updates, interpolate_sparsity, update_steps
from recipec.plan.qat import qat_schedule
from recipec.plan.simulate import simulate


def test_update_clock_integer_frequency():
    u = update_steps(4, 100, 1.0, 100, 30200)
    assert u[:3] == [400, 500, 600] and u[-1] == 10000 and len(u) == 97
    assert update_steps(4, 100, 1.0, 7, 2114)[:3] == [28, 35, 42]


def test_update_clock_rephases_on_actual_epoch():
    assert update_steps(4, 100, 0.5, 7, 854)[:4] == [28, 32, 36, 40]
    assert len(update_steps(4, 100, 0.5, 7, 854)) == 169  # yolov5l.pruned_quantized at S=7
    assert update_steps(4, 100, 0.2, 7, 854)[:3] == [28, 30, 32]
    assert update_steps(4, 100, 0.25, 7, 854)[:3] == [28, 30, 32]


def test_update_clock_float_drift():
    assert update_steps(4, 100, 0.2, 100, 30200)[:6] == [400, 420, 440, 461, 481, 502]
    assert len(update_steps(4, 100, 0.2, 100, 30200)) == 475
    assert update_steps(0, 1, 0.2, 100, 200) == [0, 20, 40, 61, 81, 100]


def test_update_clock_end_after_run_and_every_step():
    assert update_steps(0, 5, 1.0, 7, 21) == [0, 7, 14]  # no end update inside the run
    assert update_steps(0, 1, -1, 4, 10) == [0, 1, 2, 3, 4]


def test_cubic_midpoint():
    ups = gmp_updates(0.05, 0.85, 0, 2, 1.0, "cubic", 7, 21)
    assert ups[7] == (1 - (1 - 0.5) ** 3) * (0.85 - 0.05) + 0.05 == pytest.approx(0.75)
    assert ups[0] == 0.05 and ups[14] == 0.85


def test_linear_and_inverse_cubic_values():
    assert interpolate_sparsity(1.0, 0, 2, 0.0, 0.8, "linear") == 0.5 * 0.8
    y = 1 - (1 - 0.5) ** (1 / 3)
    assert interpolate_sparsity(1.0, 0, 2, 0.0, 0.8, "inverse_cubic") == y * 0.8


def test_off_grid_start_first_value_is_interpolated():
    ups = gmp_updates(0.0, 0.9, 0.5, 4.5, 0.5, "inverse_cubic", 7, 70)
    first = min(ups)
    assert first == 4
    x = (4 / 7 - 0.5) / 4.0
    assert ups[4] == (1 - (1 - x) ** (1 / 3)) * 0.9 and ups[4] > 0.0


def test_appendix_inverse_cubic_first_value():
    ups = gmp_updates(0.0, 0.6, 0.5, 4.5, 0.5, "inverse_cubic", 7, 70)
    assert ups[4] == pytest.approx(0.0035929, abs=5e-8)


def test_final_at_first_step_past_off_grid_end_inverse_cubic_clamped():
    ups = gmp_updates(0.0, 0.9, 0.5, 4.5, 0.5, "inverse_cubic", 7, 70)
    assert max(ups) == 32 and ups[32] == 0.9  # SparseML crashes here; recipec applies final


def test_plan_sparsity_null_before_start_and_held():
    items = [P("EpochRangeModifier", 0, 6, 0),
             P("GMPruningModifier", 1, 3, 1, dict(init_sparsity=0.05, final_sparsity=0.8,
                                                   update_frequency=0.5, inter_func="cubic")),
             P("ConstantPruningModifier", 0, -1, 2, dict(params="__ALL_PRUNABLE__"))]
    p = simulate(items, 7)
    assert p.sparsity_at(6) == (None, None)
    assert p.sparsity_at(7) == (0.05, None)
    assert p.sparsity_at(41) == (0.8, None)
    gmp, const = p.pruning
    assert gmp.start_step == 7 and gmp.end_step == 21 and gmp.leave_enabled
    assert not const.stepwise and const.start_step == 0 and const.update_steps == {}


def test_target_for_list_final():
    items = [P("EpochRangeModifier", 0, 4, 0),
             P("GMPruningModifier", 0, 2, 1, dict(init_sparsity=0.0, final_sparsity=[0.5, 0.9],
                                                   update_frequency=1.0, inter_func="linear"))]
    gmp = simulate(items, 4).pruning[0]
    assert gmp.sparsity_at(4) == 0.45  # reported for the largest target
    assert gmp.target_for(0.5, 4) == 0.25 and gmp.target_for(0.5, 9) == 0.5


@settings(max_examples=60, deadline=None)
@given(s=st.integers(1, 50), start=st.floats(0, 5), length=st.floats(0.1, 10),
       freq=st.floats(0.05, 3), init=st.floats(0, 0.5), final=st.floats(0.5, 0.99),
       func=st.sampled_from(["linear", "cubic", "inverse_cubic"]))
def test_gmp_monotone_and_reaches_final(s, start, length, freq, init, final, func):
    end = start + length
    total = (math.ceil(end) + 1) * s
    ups = gmp_updates(init, final, start, end, freq, func, s, total)
    vals = [ups[k] for k in sorted(ups)]
    assert all(a <= b for a, b in zip(vals, vals[1:]))
    last = max(ups)
    assert epoch_at(last, s) >= end and (last == 0 or epoch_at(last - 1, s) < end or last == min(ups))
    assert vals[-1] == final


def test_qat_phases():
    q = qat_schedule(120, 121, 122, 7, 123 * 7)
    assert (q.start_step, q.freeze_bn_step, q.disable_observer_step) == (840, 847, 854)
    assert [q.state_at(i) for i in (839, 840, 847, 854)] == ["off", "observing", "bn_frozen", "frozen"]
    assert qat_schedule(120, None, None, 7, 840) is None
    q2 = qat_schedule(1.5, None, 2.5, 7, 28)
    assert q2.start_step == 11 and q2.freeze_bn_step is None and q2.disable_observer_step == 18
    assert qat_schedule(-1, None, None, 7, 7).start_step == 0


def test_plan_qat_state():
    items = [P("EpochRangeModifier", 0, 3, 0), P("QuantizationModifier", 2, -1, 1,
                                                  dict(freeze_bn_stats_epoch=2.5))]
    p = simulate(items, 7)
    assert p.qat_state_at(13) == "off" and p.qat_state_at(14) == "observing"
    assert p.qat_state_at(18) == "bn_frozen"
