"""Slow end-to-end guarantees of `recipec train` (run with `pytest -m slow tests/engine/test_train_slow.py`):
stop + resume == uninterrupted, a real kill -9 leaves a loadable last.pt that resumes to the same masks,
and a 2-process gloo DDP run holds identical masks on both ranks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from engine import checkpoint as ck
from engine import train as T
from engine.loop import STOP_ENV, Stopped

pytestmark = pytest.mark.slow

RECIPE = """num_epochs: 3
modifiers:
  - !EpochRangeModifier
    start_epoch: 0
    end_epoch: eval(num_epochs)
  - !LearningRateFunctionModifier
    start_epoch: 0
    end_epoch: eval(num_epochs)
    lr_func: cosine
    init_lr: 0.01
    final_lr: 0.001
  - !GMPruningModifier
    params: __ALL_PRUNABLE__
    init_sparsity: 0.05
    final_sparsity: 0.6
    start_epoch: 0
    end_epoch: 2
    update_frequency: 0.5
  - !QuantizationModifier
    start_epoch: 2
    submodules: ['model.0', 'model.1', 'model.2', 'model.3', 'model.4']
"""


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    from yolo.data.synthetic import make_synthetic

    tmp = tmp_path_factory.mktemp("slow")
    data = make_synthetic(tmp / "data", n_train=4, n_val=2, size_range=(64, 96))
    (tmp / "r.yaml").write_text(RECIPE)
    return tmp, data


def targs(tmp, data, name, **kw):
    base = dict(data=str(data), weights="yolov5n", recipe=str(tmp / "r.yaml"), imgsz=64, batch=2, workers=0,
                project=str(tmp / "runs"), name=name, seed=3, progress=False)
    base.update(kw)
    return T.TrainArgs(**base)


@pytest.fixture(scope="module")
def full(work):
    tmp, data = work
    out = T.train(targs(tmp, data, "full"), log=lambda m: None)
    return ck.load_checkpoint(out / "weights" / "last.pt")


def assert_same(a, b):
    assert a["step"] == b["step"]
    assert set(a["masks"]) == set(b["masks"])
    for n in a["masks"]:
        assert torch.equal(a["masks"][n], b["masks"][n]), n
    for n, v in a["model"].items():
        assert torch.equal(v, b["model"][n]), n


@pytest.mark.parametrize("stop", [1, 3, 5])
def test_stop_then_resume_equals_uninterrupted(work, full, stop):
    tmp, data = work
    name = f"stop{stop}"
    os.environ[STOP_ENV] = str(stop)
    try:
        with pytest.raises(Stopped):
            T.train(targs(tmp, data, name), log=lambda m: None)
    finally:
        del os.environ[STOP_ENV]
    out = T.train(targs(tmp, data, name, resume=str(tmp / "runs" / name)), log=lambda m: None)
    assert_same(full, ck.load_checkpoint(out / "weights" / "last.pt"))


def _cli(tmp, data, *extra):
    return [sys.executable, "-m", "recipec", "train", "--data", str(data), "--weights", "yolov5n", "--init", "random",
            "--recipe", str(tmp / "r.yaml"), "--imgsz", "64", "--batch", "2", "--seed", "3", "--project",
            str(tmp / "runs"), "--no-progress", *extra]


def _same_threads_env():
    """The CLI picks its CPU thread count from the free cores; `full` ran in this process with torch's current
    count. Bit-exact equality needs the same count (reductions round differently when split differently)."""
    from engine.threads import THREADS_ENV

    return {**os.environ, THREADS_ENV: str(torch.get_num_threads())}


def test_kill9_leaves_loadable_last_and_resume_matches(work, full):
    tmp, data = work
    proc = subprocess.Popen(_cli(tmp, data, "--name", "kill"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=_same_threads_env())
    last = tmp / "runs" / "kill" / "weights" / "last.pt"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if last.exists():
            try:
                if ck.load_checkpoint(last)["step"] >= 2:
                    break
            except ck.CheckpointError:
                pytest.fail("last.pt was not loadable while training")
        time.sleep(0.2)
    assert proc.poll() is None, "training ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    d = ck.load_checkpoint(last)  # loadable after kill -9
    assert 2 <= d["step"] < 6
    r = subprocess.run(_cli(tmp, data, "--resume", str(last)), capture_output=True, text=True, timeout=600,
                       env=_same_threads_env())
    assert r.returncode == 0, r.stderr
    assert_same(full, ck.load_checkpoint(last))


def test_ddp_two_gloo_processes_hold_identical_masks(work):
    tmp, data = work
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "recipec",
           "train", "--data", str(data), "--weights", "yolov5n", "--init", "random", "--recipe", str(tmp / "r.yaml"),
           "--imgsz", "64",
           "--batch", "1", "--project", str(tmp / "runs"), "--name", "ddp", "--no-progress"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "masks identical on all 2 ranks" in r.stdout
    d = ck.load_checkpoint(Path(tmp / "runs" / "ddp" / "weights" / "last.pt"))
    assert d["steps_per_epoch"] == 2 and d["step"] == 6  # 4 images / 2 ranks / batch 1
