"""`recipec train` flags and bad input: clear message, non-zero exit, no traceback (nothing trains), plus two
1-epoch 64 px runs: `--format json` and the bad-label report."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import REPO
from engine import train as T
from recipec.cli import run_paths
from recipec.cli import train_app as A


def cli(*argv, env=None):
    """Run `recipec train ARGV` in-process (typer's runner): returncode, stdout, stderr."""
    from typer.testing import CliRunner

    from recipec.cli import build_app

    r = CliRunner().invoke(build_app(), ["train", *argv], env=env)
    return subprocess.CompletedProcess(argv, r.exit_code, r.stdout, r.stderr)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from yolo.data.synthetic import make_synthetic

    return make_synthetic(tmp_path_factory.mktemp("d") / "data", n_train=2, n_val=1, size_range=(64, 64))


@pytest.mark.parametrize("argv, msg", [
    (["--imgsz", "65", "--epochs", "1"], "multiple of 32"),
    (["--batch", "0", "--epochs", "1"], "--batch must be >= 1"),
    (["--threads", "0", "--epochs", "1"], "--threads must be >= 1"),
    (["--epochs", "1", "stray"], "unexpected argument"),
    (["--recipe", "nope.yaml"], "cannot read recipe nope.yaml"),
    (["--epochs", "1", "--hyp", "missing.yaml"], "cannot read hyperparameter file"),
    (["--recipe", "zoo:cv/detection/yolov5-s/pytorch/ultralytics/coco/pruned_quant-aggressive_94?x=1"],
     "String argument x not found"),
    (["--recipe", "zoo:cv/detection/yolov5-s/pytorch/ultralytics/coco/pruned_quant-aggressive_94"],
     "unreachable"),
    (["--weights", "missing.pt", "--epochs", "1"], "not found"),
    (["--resume", "nowhere/last.pt"], "checkpoint not found"),
])
def test_bad_input(data, tmp_path, argv, msg):
    r = cli("--data", str(data), "--project", str(tmp_path), *argv, env={"RECIPEC_ZOO_DIR": str(tmp_path)})
    assert r.returncode == 2, r.stdout + r.stderr
    assert msg in r.stderr
    assert "Traceback" not in r.stderr


def test_bad_threads_env_is_a_clear_error(data, tmp_path):
    r = cli("--data", str(data), "--weights", "yolov5n", "--init", "random", "--epochs", "1", "--imgsz", "64",
            "--project", str(tmp_path), env={"RECIPEC_THREADS": "zero"})
    assert r.returncode == 2, r.stdout + r.stderr
    assert "RECIPEC_THREADS='zero'" in r.stderr and "Traceback" not in r.stderr


def test_bad_malloc_env_is_one_line_before_anything_runs(data, tmp_path):
    r = cli("--data", str(data), "--weights", "yolov5n", "--init", "random", "--epochs", "1", "--imgsz", "64",
            "--project", str(tmp_path), env={"RECIPEC_MALLOC": "fast"})
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.strip() == "error: RECIPEC_MALLOC='fast': expected 'keep' or 'system'"
    assert list(tmp_path.iterdir()) == []  # no run folder made


def test_missing_data(tmp_path):
    r = cli("--data", str(tmp_path / "nope.yaml"), "--epochs", "1", "--project", str(tmp_path))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "nope.yaml" in r.stderr


def test_recipe_with_errors(data, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("modifiers:\n  - !GMPruningModifer\n    start_epoch: 0\n")
    r = cli("--data", str(data), "--recipe", str(bad), "--project", str(tmp_path))
    assert r.returncode == 2 and "recipe has errors" in r.stderr and "Traceback" not in r.stderr


def test_epochs_needs_num_epochs_variable(data, tmp_path):
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text("modifiers:\n  - !EpochRangeModifier\n    start_epoch: 0\n    end_epoch: 3\n")
    with pytest.raises(T.TrainError, match="no `num_epochs` variable"):
        A.compile_for_training(str(fixed), fixed.read_text(), 5)


def test_head_reinitialised_for_other_nc(data, external_dir):
    from yolo.data.yaml import load_data_yaml

    logs: list[str] = []
    a = T.TrainArgs(data=str(data), weights=str(external_dir / "weights" / "yolov5n.pt"))
    from engine.start import load_start

    model = load_start(a.weights, None, load_data_yaml(data), logs.append).model
    assert model.nc == 3
    assert any("nc=80" in m and "nc=3" in m and "re-initialised" in m for m in logs)


def test_find_resume_latest_and_folder(tmp_path):
    import os

    for name, t in (("exp", 100), ("exp2", 200)):
        p = tmp_path / name / "weights" / "last.pt"
        p.parent.mkdir(parents=True)
        p.write_bytes(b"x")
        os.utime(p, (t, t))
    assert run_paths.find_resume("", str(tmp_path)) == tmp_path / "exp2" / "weights" / "last.pt"
    assert run_paths.find_resume(str(tmp_path / "exp"), str(tmp_path)) == tmp_path / "exp" / "weights" / "last.pt"
    assert run_paths.find_resume("", str(tmp_path / "empty")) is None
    with pytest.raises(T.TrainError, match="no last.pt"):
        A._resume(T.TrainArgs(resume="", project=str(tmp_path / "empty")))


def test_recipe_change_allowed_prints_what_moved():
    logs: list[str] = []
    old = "a: 1\nb: 2\n"
    assert A.check_recipe_change({"recipe": old}, old, False, logs.append) == old
    with pytest.raises(T.TrainError, match="allow-recipe-change"):
        A.check_recipe_change({"recipe": old}, "a: 1\nb: 3\n", False, logs.append)
    assert A.check_recipe_change({"recipe": old}, "a: 1\nb: 3\n", True, logs.append) == "a: 1\nb: 3\n"
    assert "-b: 2" in logs[-1] and "+b: 3" in logs[-1]


def test_zoo_stub_weights_follow_transfer_rule(data, external_dir, tmp_path, monkeypatch):
    from engine.start import StartError, load_start
    from yolo.data.yaml import load_data_yaml

    stub = "zoo:cv/detection/yolov5-n/pytorch/ultralytics/coco/pruned_quant-none"
    d = tmp_path / stub[4:] / "training"
    d.mkdir(parents=True)
    (d / "model.ckpt.pt").symlink_to(external_dir / "weights" / "yolov5n.pt")
    (d / "model.pt").write_bytes(b"not a checkpoint")  # would fail to load: the transfer rule must skip it
    monkeypatch.setenv("RECIPEC_ZOO_DIR", str(tmp_path))
    logs: list[str] = []
    a = T.TrainArgs(data=str(data), weights=stub, recipe="recipes/my_transfer.yaml")
    model = load_start(a.weights, None, load_data_yaml(data), logs.append, recipe_arg=a.recipe).model
    assert model.nc == 3 and any("model.ckpt.pt" in m for m in logs)
    with pytest.raises(StartError, match="model.pt"):
        load_start(stub, None, load_data_yaml(data), logs.append, recipe_arg="ft.yaml")


def test_epochs_too_short_for_the_seed_recipe_names_the_fix():
    seed = REPO / "examples/recipes/yolov5s_transfer_pruned_quantized.yaml"
    with pytest.raises(T.TrainError) as e:
        A.compile_for_training(str(seed), seed.read_text(), 2, say=lambda m: None)
    first = str(e.value).splitlines()[0]
    assert first == ("--epochs 2: warmup_epochs (2) + qat_epochs (2) do not fit in 2 epochs: lower them, "
                     "e.g. --set warmup_epochs=1 --set qat_epochs=1")
    assert "recipec lint" not in str(e.value)
    recipe, _ = A.compile_for_training(str(seed), seed.read_text(), 2, say=lambda m: None,
                                       overrides={"warmup_epochs": 1, "qat_epochs": 1})
    assert recipe.variables["num_epochs"].value == 2


def test_scale_name_needs_explicit_init(data, tmp_path):
    r = cli("--data", str(data), "--weights", "yolov5n", "--epochs", "1", "--project", str(tmp_path))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--weights yolov5n: no such file" in r.stderr and "--init random" in r.stderr
    assert not list(tmp_path.iterdir())  # no run folder for a refused start
    (tmp_path / "w.pt").write_bytes(b"")
    r = cli("--data", str(data), "--weights", str(tmp_path / "w.pt"), "--init", "random", "--epochs", "1",
            "--project", str(tmp_path))
    assert r.returncode == 2 and "--init random builds a fresh model" in r.stderr
    help_text = " ".join(cli("--help").stdout.replace("│", " ").split())
    assert "with no such file needs --init random" in help_text


@pytest.mark.parametrize("argv, msg", [
    (["--device", "cuda"], "CUDA is not available"),
    (["--device", "0"], "CUDA is not available"),
    (["--set", "warmup_epochs"], "--set expects NAME=VALUE"),
    (["--init", "pretrained"], "--init must be weights or random"),
    (["--format", "xml"], "--format must be text or json"),
])
def test_bad_flags_exit_2_in_one_line(data, tmp_path, monkeypatch, argv, msg):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    r = cli("--data", str(data), "--weights", "yolov5n", "--init", "random", "--epochs", "1", "--project",
            str(tmp_path), *argv)
    assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_json_output_and_exist_ok(data, tmp_path):
    import json

    recipe = tmp_path / "r.yaml"
    recipe.write_text("num_epochs: 4\nwarmup_epochs: 2\nmodifiers:\n  - !EpochRangeModifier\n    start_epoch: 0\n"
                      "    end_epoch: eval(num_epochs)\n  - !LearningRateFunctionModifier\n    start_epoch: 0\n"
                      "    end_epoch: eval(warmup_epochs)\n    lr_func: linear\n    init_lr: 0.0\n"
                      "    final_lr: 0.01\n")
    argv = ("--data", str(data), "--weights", "yolov5n", "--init", "random", "--recipe", str(recipe), "--epochs", "1",
            "--set", "warmup_epochs=0.5", "--img-size", "64", "--batch-size", "2", "--project", str(tmp_path),
            "--name", "j", "--format", "json", "--threads", "1")
    r = cli(*argv)
    assert r.returncode == 0, r.stderr[-2000:]
    from engine import checkpoint as ck

    args = ck.load_checkpoint(tmp_path / "j" / "weights" / "last.pt")["args"]
    assert args["overrides"] == {"warmup_epochs": 0.5} and args["init"] == "random"  # what --resume restores
    out = json.loads(r.stdout)  # nothing else on stdout: the log went to stderr
    run = tmp_path / "j"
    assert out["save_dir"] == str(run) and out["results_csv"] == str(run / "results.csv")
    assert out["weights"] == {"last": str(run / "weights/last.pt"), "best": str(run / "weights/best.pt")}
    assert out["epochs"] == 1 and out["final"]["epoch"] == 0 and out["best"] == out["final"]
    assert set(out["final"]) == {"epoch", "precision", "recall", "map50", "map50_95", "fitness"}
    assert "results go to" in r.stderr
    r = cli(*argv, "--exist-ok")
    assert r.returncode == 0 and json.loads(r.stdout)["save_dir"] == str(run) and not (tmp_path / "j2").exists()
    assert json.loads(r.stdout)["epochs"] == 1  # the reused folder's results.csv restarted


def test_bad_label_reported_once_before_training(tmp_path):
    """train and val are one folder (as in coco128): the class-95 line is reported once, with its file, line,
    value and the allowed range, before the first epoch."""
    from yolo.data.synthetic import make_synthetic

    y = make_synthetic(tmp_path / "d", n_train=2, n_val=1, size_range=(64, 64))
    y.write_text(y.read_text().replace("val: images/val", "val: images/train"))
    label = sorted((tmp_path / "d" / "labels" / "train").glob("*.txt"))[0]
    n = len(label.read_text().splitlines())
    label.write_text(label.read_text() + "95 0.5 0.5 0.2 0.2\n")
    # a real process: what the user's terminal shows (the log is on stderr with --format json, so in order)
    r = subprocess.run([sys.executable, "-m", "recipec", "train", "--data", str(y), "--weights", "yolov5n", "--init",
                        "random", "--epochs", "1", "--imgsz", "64", "--batch", "2", "--project", str(tmp_path / "runs"),
                        "--format", "json", "--threads", "1", "--no-progress"], capture_output=True, text=True,
                       timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-2000:]
    msg = f"{label}:{n + 1}: class 95 out of range 0..2 (nc=3)"
    assert r.stderr.count(msg) == 1, r.stderr
    assert r.stderr.index(msg) < r.stderr.index("epoch 0:")
