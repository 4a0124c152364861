"""Slow end-to-end guarantees of `recipec train` (run with `pytest -m slow tests/engine/test_train_slow.py`):
stop + resume == uninterrupted, a real kill -9 leaves a loadable last.pt that resumes to the same masks,
a 2-process gloo DDP run holds identical masks on both ranks, a kill -9 at each step of a run's end is
completed by --resume, and two runs started together with one --name get two folders."""

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
from recipec.cli.train_app import run_training
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
    out = run_training(targs(tmp, data, "full"), log=lambda m: None)
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
            run_training(targs(tmp, data, name), log=lambda m: None)
    finally:
        del os.environ[STOP_ENV]
    out = run_training(targs(tmp, data, name, resume=str(tmp / "runs" / name)), log=lambda m: None)
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


# kill -9 during the end of a run (#17 item 17) and two runs racing for one folder (#17 item 20)

KILLER = r"""
import os, signal, sys
from pathlib import Path

import torch

from engine import checkpoint as ck
import engine.plots

point = os.environ["KILL_AT"]
real_strip, real_save, real_plot = ck.strip_checkpoint, torch.save, engine.plots.plot_results


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def strip(path, **kw):
    if point == "strip_" + Path(path).name:
        die()
    return real_strip(path, **kw)


def save(obj, fh, *a, **kw):  # the final last.pt, killed half-written
    if point == "save_final_last" and ".last.pt." in os.readlink(f"/proc/self/fd/{fh.fileno()}") and \
            obj.get("finished"):
        fh.write(b"PK\x03\x04half")
        fh.flush()
        die()
    return real_save(obj, fh, *a, **kw)


def plot(*a, **kw):
    if point == "plot_results":
        die()
    return real_plot(*a, **kw)


ck.strip_checkpoint, torch.save, engine.plots.plot_results = strip, save, plot
from recipec.cli import main

main(sys.argv[1:])
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from yolo.data.synthetic import make_synthetic

    tmp = tmp_path_factory.mktemp("fin")
    return tmp, make_synthetic(tmp / "data", n_train=2, n_val=1, size_range=(64, 64))


def _tiny_cli(data, project, *extra):
    return ["train", "--data", str(data), "--weights", "yolov5n", "--init", "random", "--epochs", "1", "--imgsz",
            "64", "--batch", "2", "--project", str(project), "--no-progress", "--threads", "1", *extra]


@pytest.mark.parametrize("point", ["save_final_last", "strip_best.pt", "plot_results", "strip_last.pt"])
def test_kill9_during_finalization_then_resume_completes_the_run(tiny, point):
    tmp, data = tiny
    env = {**os.environ, "KILL_AT": point, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-c", KILLER, *_tiny_cli(data, tmp / "runs", "--name", point)],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == -signal.SIGKILL, r.stderr[-2000:]
    run_dir = tmp / "runs" / point
    w = run_dir / "weights"
    last = ck.load_checkpoint(w / "last.pt")  # never torn
    assert not last.get("stripped")
    assert bool(list(w.glob(".last.pt.*.tmp"))) == (point == "save_final_last")  # the half-written save
    r = subprocess.run([sys.executable, "-m", "recipec", "train", "--resume", str(run_dir), "--no-progress"],
                       capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    for p in w.glob("*.pt"):
        d = ck.load_checkpoint(p)
        assert d.get("stripped") and d["finished"], p
    assert (run_dir / "results.png").is_file() and not list(w.glob(".*.tmp"))
    assert len((run_dir / "results.csv").read_text().splitlines()) == 2  # header + epoch 0, once
    assert "Class" in r.stdout  # the final validation table
    r = subprocess.run([sys.executable, "-m", "recipec", "train", "--resume", str(run_dir)], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 2 and "finished run" in r.stderr  # complete now


def test_two_runs_started_together_with_one_name_get_two_folders(tiny):
    tmp, data = tiny
    project = tmp / "race"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "recipec", *_tiny_cli(data, project, "--name", "same")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    assert sorted(d.name for d in project.iterdir()) == ["same", "same2"]
    for d in project.iterdir():
        assert len((d / "results.csv").read_text().splitlines()) == 2, d  # one run's rows only
        assert ck.load_checkpoint(d / "weights" / "last.pt")["finished"]
