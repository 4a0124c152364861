"""Issue 17 items 8-9: recipes are regular files. A named pipe never blocks; folders are linted for the
recipe files inside (none: exit 2); plan, compile on anything but a regular file: one error line, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

GOOD = "m_modifiers:\n  - !EpochRangeModifier {start_epoch: 0, end_epoch: 2}\n"


def run(*args, timeout=60):
    r = subprocess.run([sys.executable, "-m", "recipec", *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    assert "Traceback" not in r.stderr, r.stderr
    return r


@pytest.fixture
def fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    p = tmp_path / "pipe.yaml"
    os.mkfifo(p)
    return p


@pytest.mark.parametrize("cmd", [["lint"], ["compile"], ["plan", "-S", "3"]])
def test_named_pipe_is_refused_without_blocking(fifo, cmd):
    r = run(cmd[0], fifo, *cmd[1:], timeout=60)  # a blocking open would hang until the timeout
    assert r.returncode == 2
    assert "not a regular file" in r.stdout + r.stderr


def test_read_source_refuses_a_pipe_in_process(fifo):
    import signal

    from recipec.frontend import read_source

    def blocked(*_):
        raise TimeoutError("read_source blocked on a named pipe")

    old = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(10)
    try:
        text, diags = read_source(fifo)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert text is None and [d.code for d in diags] == ["RC001"] and "named pipe" in diags[0].message


def test_lint_empty_folder_is_exit_2(tmp_path):
    r = run("lint", tmp_path)
    assert r.returncode == 2 and f"no recipe files (.yaml, .yml, .md) found in {tmp_path}" in r.stderr


def test_folder_named_like_a_recipe(tmp_path):
    d = tmp_path / "x.yaml"
    d.mkdir()
    r = run("lint", d)
    assert r.returncode == 2 and "no recipe files (.yaml, .yml, .md) found in" in r.stderr
    (d / "r.yaml").write_text(GOOD)
    assert run("lint", d).returncode == 0


@pytest.mark.parametrize("cmd", [["plan", "-S", "3"], ["compile"]])
def test_plan_and_compile_of_a_folder_are_exit_2(tmp_path, cmd):
    r = run(cmd[0], tmp_path, *cmd[1:])
    assert r.returncode == 2 and "directory" in r.stdout + r.stderr
