"""The front end must not import torch: lint and plan start fast and run where torch is absent."""

import subprocess
import sys


def test_cli_help_does_not_import_torch():
    code = (
        "import sys\n"
        "from recipec.cli import build_app\n"
        "build_app()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'engine', 'yolo'})\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_cli_help_exits_zero():
    r = subprocess.run([sys.executable, "-m", "recipec", "--help"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "recipec" in r.stdout
