"""engine.progress: bars only on a terminal and when enabled; the callback and `track` drive them."""

from __future__ import annotations

import io

from engine import progress as P


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_when_not_a_terminal_or_disabled(monkeypatch):
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert not P.wanted(True)
    with P.progress_callback("x") as cb:
        assert cb is None
    assert list(P.track([1, 2, 3], "x")) == [1, 2, 3]
    monkeypatch.setattr("sys.stdout", _Tty())
    assert P.wanted(True) and not P.wanted(False)
    with P.progress_callback("x", enabled=False) as cb:
        assert cb is None


def test_bar_on_a_terminal_counts_to_the_end(monkeypatch):
    monkeypatch.setattr("sys.stdout", _Tty())
    made = []
    real = P._progress

    def spy():
        p = real()
        made.append(p)
        return p

    monkeypatch.setattr(P, "_progress", spy)
    with P.progress_callback("validating") as cb:
        for i in range(4):
            cb(i, 4)
        task = made[0].tasks[0]
        assert (task.completed, task.total, task.description) == (4, 4, "validating")
    assert list(P.track(range(5), "bench")) == list(range(5))
    assert made[1].tasks[0].completed == 5 and made[1].tasks[0].total == 5
