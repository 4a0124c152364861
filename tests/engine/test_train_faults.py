"""`recipec train` under faults: an unwritable or misplaced --project, a full disk, two runs racing for the same
folder, and a run stopped during its finalization. Fast: tiny synthetic data (64 px, 2 images, 1 step per
epoch); the real kill -9 runs are in test_train_slow.py."""

from __future__ import annotations

import errno
import os
import subprocess
import threading
from pathlib import Path

import pytest
import torch

from engine import checkpoint as ck
from engine import train as T
from recipec.cli.train_app import run_training

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from yolo.data.synthetic import make_synthetic

    return make_synthetic(tmp_path_factory.mktemp("d") / "data", n_train=2, n_val=1, size_range=(64, 64))


def cli(*argv):
    from typer.testing import CliRunner

    from recipec.cli import build_app

    r = CliRunner().invoke(build_app(), ["train", *argv])
    return subprocess.CompletedProcess(argv, r.exit_code, r.stdout, r.stderr)


def train_argv(data, project, *extra):
    return ["--data", str(data), "--weights", "yolov5n", "--init", "random", "--epochs", "1", "--imgsz", "64",
            "--batch", "2", "--project", str(project), "--no-progress", "--threads", "1", *extra]


# 20. two runs with the same --project/--name never share a folder

def test_run_folders_are_created_atomically_under_a_race(tmp_path):
    from engine.run_dir import create_run_dir

    got: list[Path] = []
    start = threading.Barrier(8)

    def one():
        start.wait()
        got.append(create_run_dir(tmp_path, "exp"))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p.name for p in got) == sorted(["exp"] + [f"exp{i}" for i in range(2, 9)])
    assert all(p.is_dir() for p in got)


def test_exist_ok_reuses_the_named_folder(tmp_path):
    from engine.run_dir import create_run_dir

    assert create_run_dir(tmp_path, "exp") == tmp_path / "exp"
    assert create_run_dir(tmp_path, "exp", exist_ok=True) == tmp_path / "exp"
    assert create_run_dir(tmp_path, "exp") == tmp_path / "exp2"


def test_train_takes_another_folder_when_its_name_is_taken_meanwhile(data, tmp_path, monkeypatch):
    """Another run creates runs/exp while this one sets up: this one must not write into it."""
    real = T.make_train_loader

    def rival_creates_exp(*a, **kw):
        (tmp_path / "exp").mkdir()
        return real(*a, **kw)

    class Ran(Exception):
        pass

    def fake_run(session):
        raise Ran(session.save_dir)

    monkeypatch.setattr(T, "make_train_loader", rival_creates_exp)
    monkeypatch.setattr(T, "run", fake_run)
    a = T.TrainArgs(data=str(data), weights="yolov5n", epochs=1, imgsz=64, batch=2, project=str(tmp_path),
                    progress=False)
    with pytest.raises(Ran) as e:
        run_training(a, log=lambda m: None)
    assert e.value.args[0] == tmp_path / "exp2"
    assert list((tmp_path / "exp").iterdir()) == []  # the rival's folder is untouched


# 18. a --project that is a file, or that cannot be written

def test_project_that_is_a_file_is_one_clear_error(data, tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    for project in (f, f / "sub"):
        r = cli(*train_argv(data, project))
        assert r.returncode == 2, r.stdout + r.stderr
        assert "Traceback" not in r.stderr
        assert r.stderr.strip().count("\n") == 0, r.stderr  # one line
        assert f"cannot create the run folder under {project}" in r.stderr and "not a directory" in r.stderr


def test_read_only_project_is_one_clear_error(data, tmp_path, monkeypatch):
    project = tmp_path / "ro"
    project.mkdir()
    real = os.mkdir

    def eacces(path, *a, **kw):  # tests run as root, where chmod 555 does not stop writes
        if str(path).startswith(str(project)):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path, *a, **kw)

    monkeypatch.setattr(os, "mkdir", eacces)
    r = cli(*train_argv(data, project))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr
    assert f"cannot create the run folder under {project}" in r.stderr and "permission denied" in r.stderr


# 19. a full disk: one clean message naming the file, the previous checkpoint intact

def _enospc_save(real):
    def save(obj, fh, *a, **kw):
        fh.write(b"PK\x03\x04partial")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598")
    return save


def test_disk_full_on_save_is_a_clean_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    ck.save_checkpoint(path, {"step": 1})
    monkeypatch.setattr(torch, "save", _enospc_save(torch.save))
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(100, 100, 0))
    with pytest.raises(ck.CheckpointError) as e:
        ck.save_checkpoint(path, {"step": 2})
    assert str(e.value) == f"cannot write {path}: no space left on device"
    assert ck.load_checkpoint(path)["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]  # no temp file left


def test_oserror_on_save_names_the_path_and_reason(tmp_path, monkeypatch):
    def full(obj, fh, *a, **kw):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(ck.CheckpointError, match=r"cannot write .*x\.pt: no space left on device$"):
        ck.save_checkpoint(tmp_path / "x.pt", {"step": 2})


def test_disk_full_during_training_exits_2_with_one_line(data, tmp_path, monkeypatch):
    real, calls = torch.save, {"n": 0}

    def second_save_fails(obj, fh, *a, **kw):
        calls["n"] += 1
        if calls["n"] >= 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(obj, fh, *a, **kw)

    monkeypatch.setattr(torch, "save", second_save_fails)
    r = cli(*train_argv(data, tmp_path, "--name", "full"))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr
    assert "no space left on device" in r.stderr and "cannot write" in r.stderr
    w = tmp_path / "full" / "weights"
    assert ck.load_checkpoint(w / "last.pt")["step"] == 0  # the step-0 checkpoint survives
    assert not list(w.glob(".*.tmp"))


# 17. finalization: a run stopped after training but before its end is completed by --resume

class Killed(BaseException):
    """Stands in for kill -9 (a BaseException, so no cleanup code runs on it as on a real kill)."""


def test_resume_completes_an_interrupted_finalization(data, tmp_path, monkeypatch):
    def killed_before_finish(*a, **kw):
        raise Killed

    monkeypatch.setattr(T, "_finish", killed_before_finish)
    with pytest.raises(Killed):
        run_training(T.TrainArgs(data=str(data), weights="yolov5n", epochs=1, imgsz=64, batch=2, project=str(tmp_path),
                            name="fin", progress=False), log=lambda m: None)
    monkeypatch.undo()
    w = tmp_path / "fin" / "weights"
    last = ck.load_checkpoint(w / "last.pt")
    assert last["finished"] and not last.get("stripped") and not (tmp_path / "fin" / "results.png").exists()
    (w / ".last.pt.abc123.tmp").write_bytes(b"")  # what a kill -9 inside a save leaves
    logs: list[str] = []
    run_training(T.TrainArgs(resume=str(w / "last.pt"), project=str(tmp_path), progress=False), log=logs.append)
    assert any("completing its finalization" in m for m in logs), logs
    for p in w.glob("*.pt"):
        assert ck.load_checkpoint(p).get("stripped"), p
    assert (tmp_path / "fin" / "results.png").is_file()
    assert any("Class" in m and "mAP50-95" in m for m in logs)  # the final validation table
    assert not list(w.glob(".*.tmp"))
    rows = (tmp_path / "fin" / "results.csv").read_text().splitlines()
    assert len(rows) == 2  # header + epoch 0, once
    with pytest.raises(T.TrainError, match="finished run"):  # now it is complete: nothing left to resume
        run_training(T.TrainArgs(resume=str(w / "last.pt"), project=str(tmp_path), progress=False), log=lambda m: None)


def test_results_rows_of_a_rerun_epoch_are_replaced(tmp_path):
    from engine.loop import RESULT_COLUMNS, _trim_results

    p = tmp_path / "results.csv"
    p.write_text(",".join(RESULT_COLUMNS) + "\n0,1\n1,2\n2,3\n")
    _trim_results(p, 1)
    assert p.read_text() == ",".join(RESULT_COLUMNS) + "\n0,1\n"
    _trim_results(tmp_path / "absent.csv", 0)  # nothing to do


@pytest.mark.parametrize("flag, why", [(os.ST_RDONLY, "read-only file system"), (0, "permission denied")])
def test_unwritable_project_is_refused_before_the_set_up(tmp_path, monkeypatch, flag, why):
    import types

    from engine.run_dir import RunDirError, check_project

    monkeypatch.setattr(os, "access", lambda p, mode: False)  # root passes access(); a ro mount does not
    monkeypatch.setattr(os, "statvfs", lambda p: types.SimpleNamespace(f_flag=flag))
    with pytest.raises(RunDirError, match=f"under {tmp_path / 'runs'}: {why} \\({tmp_path}\\)"):
        check_project(tmp_path / "runs")
