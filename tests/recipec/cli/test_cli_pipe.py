"""A closed stdout (`recipec ... | head`) ends quietly, never in a BrokenPipeError traceback; `--version`."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from conftest import REPO
from recipec.cli import main

SEED = REPO / "examples" / "recipes" / "yolov5s_transfer_pruned_quantized.yaml"


class ClosedPipe(io.TextIOBase):
    """A stdout whose reader went away: every write raises BrokenPipeError; its fd is a private pipe end."""

    def __init__(self):
        self.r, self.w = os.pipe()

    def write(self, s):
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self):
        return self.w

    def isatty(self):
        return False


@pytest.mark.parametrize("argv", [["explain", "--list"], ["explain", "RC303"], ["--help"], ["--version"],
                                  ["plan", str(SEED), "-S", "5"]])
def test_closed_stdout_exits_quietly(monkeypatch, capsys, argv):
    pipe = ClosedPipe()
    monkeypatch.setattr(sys, "stdout", pipe)
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "BrokenPipeError" not in err
    os.close(pipe.r)
    os.close(pipe.w)


def test_pipe_into_head_end_to_end():
    # far more output than a pipe buffer holds, so the writer really meets the closed pipe
    r = subprocess.run(f"{sys.executable} -m recipec plan {SEED} -S 300 --format json | head -c 20", shell=True,
                       capture_output=True, text=True, timeout=300)
    assert r.stdout.startswith("{")
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr[-2000:]


def test_version(capsys):
    from recipec import __version__

    for argv in (["--version"], ["lint", "--help"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 0
    assert capsys.readouterr().out.startswith(f"recipec {__version__}\n")
    r = subprocess.run([sys.executable, "-m", "recipec", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == f"recipec {__version__}\n"
