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
    made = _spy(monkeypatch)
    with P.progress_callback("validating") as cb:
        for i in range(4):
            cb(i, 4)
        task = made[0].tasks[0]
        assert (task.completed, task.total, task.description) == (4, 4, "validating")
    assert list(P.track(range(5), "bench")) == list(range(5))
    assert made[1].tasks[0].completed == 5 and made[1].tasks[0].total == 5


def _spy(monkeypatch) -> list:
    monkeypatch.setattr("sys.stdout", _Tty())
    made = []
    real = P._progress

    def spy():
        p = real()
        made.append(p)
        return p

    monkeypatch.setattr(P, "_progress", spy)
    return made


def test_bench_runs_drive_a_bar(monkeypatch, tmp_path):
    import numpy as np
    from onnx_testutil import constant_onnx

    from engine.export.bench import bench_onnx

    constant_onnx(tmp_path / "c.onnx", np.zeros((1, 2, 8), np.float32))
    made = _spy(monkeypatch)
    bench_onnx(str(tmp_path / "c.onnx"), iters=3, warmup=1, progress=True)
    assert made and made[0].tasks[0].completed == 3 and made[0].tasks[0].total == 3
    bench_onnx(str(tmp_path / "c.onnx"), iters=3, warmup=1)  # library default: no bar
    assert len(made) == 1


def test_verify_checks_drive_a_bar(monkeypatch):
    from engine.export import verify as V

    calls = []
    report = V.VerifyReport("m.onnx", "fp32", on_check=calls.append)
    V._run(lambda: (True, "fine"), "first", report)
    V._run(lambda: 1 / 0, "second", report)  # a failed check still advances the bar
    assert calls == [0, 1] and [c.ok for c in report.checks] == [True, False]
    made = _spy(monkeypatch)
    rep = V.verify("missing.onnx", torch_nn_identity(), [], progress=True)  # onnx.checker fails: 1 check
    assert not rep.ok and made[0].tasks[0].completed == 1


def torch_nn_identity():
    import torch

    return torch.nn.Identity()
