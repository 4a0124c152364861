"""The float epoch clock, "first step at or after", windows and max_epochs (spec A.1, A.3)."""

from hypothesis import given, strategies as st

from recipec.plan.clock import epoch_array, epoch_at, first_step_at_or_after, is_on_grid
from recipec.plan.manager import PlanItem, manager_order
from recipec.plan.windows import end_step, max_epochs, start_step


def test_epoch_clock_float_expression():
    assert epoch_at(136, 100) == 1.3599999999999999
    assert epoch_at(136, 100) < 1.36
    assert epoch_at(10, 7) == 1.0 + 3.0 / 7.0


def test_first_step_float_not_ceil():
    assert first_step_at_or_after(1.36, 100) == 137  # ceil(1.36*100) would say 136
    assert first_step_at_or_after(0.0, 7) == 0
    assert first_step_at_or_after(-1, 7) == 0
    assert first_step_at_or_after(3, 7) == 21
    assert first_step_at_or_after(0.25, 7) == 2
    assert first_step_at_or_after(1.3, 7) == 10
    assert first_step_at_or_after(4.5, 7) == 32


def test_epoch_array_matches_scalar():
    arr = epoch_array(2000, 7)
    assert all(arr[i] == epoch_at(i, 7) for i in range(2000))


@given(x=st.floats(min_value=-1, max_value=400, allow_nan=False), s=st.integers(1, 1500))
def test_first_step_is_the_first(x, s):
    i = first_step_at_or_after(x, s)
    assert epoch_at(i, s) >= x
    assert i == 0 or epoch_at(i - 1, s) < x


def test_is_on_grid():
    assert is_on_grid(1.0, 7) and is_on_grid(4.0, 100)
    assert not is_on_grid(4.5, 7) and not is_on_grid(1.36, 100)


def test_windows():
    assert start_step(-1, 7) == 0
    assert start_step(-0.5, 7) > 10**15  # `e >= start >= 0 or start == -1`: never
    assert end_step(0, -1, 7) is None
    assert end_step(0.25, 1.25, 7) == 9
    # a window between two steps starts and ends on the same step
    assert start_step(0.1, 7) == end_step(0.1, 0.12, 7) == 1


def test_max_epochs():
    assert max_epochs([(0, 122), (3, 122), (120, -1)]) == 122
    assert max_epochs([(0.5, 10.2)]) == 11
    assert max_epochs([(-1, -1)]) == -1


def _it(kind, start, end, index):
    return PlanItem(kind, start, end, index)


def test_manager_order_end_then_start_then_file_order():
    items = [
        _it("EpochRangeModifier", 0, 302, 0),
        _it("LR cosine", 3, 302, 1),
        _it("LR warmup w", 0, 3, 2),
        _it("LR warmup b", 0, 3, 3),
        _it("SetLR", 300, -1, 4),
        _it("QAT", 300, -1, 5),
        _it("Constant", 0, -1, 6),
    ]
    got = [i.kind for i in manager_order(items)]
    assert got == ["LR warmup w", "LR warmup b", "EpochRangeModifier", "LR cosine", "Constant",
                   "SetLR", "QAT"]


def test_manager_order_stages_run_in_stage_order():
    items = [
        PlanItem("B", 10, 20, 0, stage="late"),
        PlanItem("A", 0, 5, 1, stage="early"),
        PlanItem("C", 0, -1, 2, stage="early"),
    ]
    # comparator_lists takes the numeric max end (5 for "early": -1 is smaller), so "early" first
    assert [i.kind for i in manager_order(items)] == ["A", "C", "B"]
    items[1] = PlanItem("A", 0, -1, 1, stage="early")  # every modifier of "early" never ends
    assert [i.kind for i in manager_order(items)] == ["B", "A", "C"]
