"""`recipec train` end to end on a tiny synthetic set (yolov5n, imgsz 64, 4 images, batch 2 = 2 steps/epoch).

One chain, shared by the tests of this module (module-scoped fixtures, so it runs once):
  A: fresh yolov5n, cosine LR + GMP 0.05 -> 0.5 over epoch 0..1, 2 epochs;
  B: transfer from A's last.pt with ConstantPruning + QAT from epoch 1, stopped after 3 steps (the test hook),
     then resumed to the end.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine import checkpoint as ck
from engine import train as T
from recipec.cli.train_app import run_training
from engine.loop import RESULT_COLUMNS, STOP_ENV, Stopped

RECIPE_A = """num_epochs: 2
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
  - !LearningRateFunctionModifier
    start_epoch: 0
    end_epoch: 1
    lr_func: linear
    init_lr: 0.1
    final_lr: 0.01
    param_groups: [2]
  - !GMPruningModifier
    params: __ALL_PRUNABLE__
    init_sparsity: 0.05
    final_sparsity: 0.5
    start_epoch: 0
    end_epoch: 1
    update_frequency: 0.5
"""

RECIPE_B = """num_epochs: 2
modifiers:
  - !EpochRangeModifier
    start_epoch: 0
    end_epoch: eval(num_epochs)
  - !LearningRateFunctionModifier
    start_epoch: 0
    end_epoch: eval(num_epochs)
    lr_func: linear
    init_lr: 0.005
    final_lr: 0.001
  - !ConstantPruningModifier
    start_epoch: 0
    params: __ALL_PRUNABLE__
  - !QuantizationModifier
    start_epoch: 1
    submodules: ['model.0', 'model.1', 'model.2', 'model.3', 'model.4', 'model.5', 'model.6', 'model.7', 'model.8', 'model.9', 'model.10', 'model.11', 'model.12', 'model.13', 'model.14', 'model.15', 'model.16', 'model.17', 'model.18', 'model.19', 'model.20', 'model.21', 'model.22', 'model.23']
"""


def args(tmp: Path, data: Path, recipe: Path, name: str, **kw) -> T.TrainArgs:
    base = dict(data=str(data), weights="yolov5n", recipe=str(recipe), imgsz=64, batch=2, workers=0,
                project=str(tmp / "runs"), name=name, seed=0, progress=False)
    base.update(kw)
    return T.TrainArgs(**base)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    from yolo.data.synthetic import make_synthetic

    tmp = tmp_path_factory.mktemp("train")
    data = make_synthetic(tmp / "data", n_train=4, n_val=2, size_range=(64, 96))
    (tmp / "a.yaml").write_text(RECIPE_A)
    (tmp / "b.yaml").write_text(RECIPE_B)
    return tmp, data


@pytest.fixture(scope="module")
def run_a(work):
    tmp, data = work
    lrs: list[tuple[float, ...]] = []
    masks_at: dict[int, float] = {}
    real = T.build_optimizer

    def recording(model, hyp):
        opt = real(model, hyp)
        opt.register_step_pre_hook(lambda o, a, k: lrs.append(tuple(g["lr"] for g in o.param_groups)))
        return opt

    mp = pytest.MonkeyPatch()
    mp.setattr(T, "build_optimizer", recording)
    logs: list[str] = []
    try:
        out = run_training(args(tmp, data, tmp / "a.yaml", "a"), log=logs.append)
    finally:
        mp.undo()
    return out, lrs, logs


def test_engine_lr_equals_plan_json(work, run_a):
    tmp, _ = work
    _, lrs, _ = run_a
    res = subprocess.run([sys.executable, "-m", "recipec", "plan", str(tmp / "a.yaml"), "--steps-per-epoch", "2",
                          "--format", "json"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    plan = json.loads(res.stdout)
    assert [tuple(s["lr"]) for s in plan["steps"]] == lrs  # exact floats, every step, every group
    assert len(lrs) == plan["total_steps"] == 4


def test_run_outputs(run_a):
    out, _, logs = run_a
    w = out / "weights"
    for f in ("last.pt", "best.pt", "best_pruned.pt"):
        assert (w / f).is_file(), f
    with (out / "results.csv").open() as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == RESULT_COLUMNS and len(rows) == 3
    for row in rows[1:]:  # val/box_loss, val/obj_loss, val/cls_loss come from the validation pass
        vals = dict(zip(rows[0], row))
        assert all(float(vals[f"val/{k}_loss"]) > 0 for k in ("box", "obj", "cls")), vals
    assert (out / "results.png").stat().st_size > 1000
    assert any("Class" in m and "mAP50-95" in m for m in logs)  # the final val table
    last = ck.load_checkpoint(w / "last.pt")
    assert last["step"] == 4 and last["finished"] and last["recipe_sha256"] == ck.sha256_text(RECIPE_A)
    for name, m in last["masks"].items():
        assert abs(1 - m.float().mean().item() - 0.5) < 0.01, name
        assert torch.equal(m, last["model"][name] != 0), name  # EMA weights (stripped) keep the zeros


def test_thread_count_recorded_for_a_bit_exact_resume(run_a):
    out, _, logs = run_a
    last = ck.load_checkpoint(out / "weights" / "last.pt")
    assert isinstance(last["args"]["threads"], int) and last["args"]["threads"] >= 1  # what the run used
    assert not any(m.startswith("torch threads") for m in logs)  # threads=None: the library caller's setting


def test_cpu_training_keeps_freed_memory_and_says_so(run_a):
    _, _, logs = run_a
    if platform.libc_ver()[0] == "glibc" and not os.environ.get("RECIPEC_MALLOC"):
        assert any(m.startswith("memory: freed tensor memory kept") for m in logs), logs


def test_load_model_reads_our_checkpoint(run_a):
    import yolo

    out, _, _ = run_a
    m = yolo.load_model(out / "weights" / "last.pt")
    sd = ck.load_checkpoint(out / "weights" / "last.pt")["model"]
    assert set(m.state_dict()) == set(sd)
    assert torch.equal(m.state_dict()["model.0.conv.weight"], sd["model.0.conv.weight"])


@pytest.fixture(scope="module")
def run_b(work, run_a):
    tmp, data = work
    a_last = run_a[0] / "weights" / "last.pt"
    mp = pytest.MonkeyPatch()
    mp.setenv(STOP_ENV, "3")
    try:
        with pytest.raises(Stopped):
            run_training(args(tmp, data, tmp / "b.yaml", "b", weights=str(a_last)), log=lambda m: None)
    finally:
        mp.undo()
    stopped = ck.load_checkpoint(tmp / "runs" / "b" / "weights" / "last.pt")
    logs: list[str] = []
    out = run_training(args(tmp, data, tmp / "b.yaml", "b", resume=str(tmp / "runs" / "b")), log=logs.append)
    return a_last, stopped, out, logs


def _zeros(sd, names):
    return {n: sd[n] == 0 for n in names}


def test_transfer_keeps_every_zero_through_ema_qat_and_resume(run_b):
    a_last, stopped, out, logs = run_b
    a = ck.load_checkpoint(a_last)
    names = list(a["masks"])
    want = _zeros(a["model"], names)
    assert stopped["step"] == 3 and stopped["qat"] is not None  # stopped inside the QAT epoch
    for label, sd in [("stopped", stopped["model"]),
                      ("best_pruned (EMA)", ck.load_checkpoint(out / "weights" / "best_pruned.pt")["model"]),
                      ("final", ck.load_checkpoint(out / "weights" / "last.pt")["model"])]:
        got = _zeros(sd, names)
        for n in names:
            assert torch.equal(got[n], want[n]), f"{label}: {n}"
    assert any("resuming" in m and "step 3" in m for m in logs)
    assert (out / "weights" / "best_pruned_quantized.pt").is_file()


def test_qat_checkpoint_loads_as_float_model(run_b):
    import yolo

    _, _, out, _ = run_b
    path = out / "weights" / "last.pt"
    d = ck.load_checkpoint(path)
    assert d["qat"]["state"]["fake_quant"]  # observers / qparams kept beside the float weights
    m = yolo.load_model(path)
    assert set(m.state_dict()) == set(d["model"])


def test_qat_twice_is_refused(work, run_b):
    tmp, data = work
    _, _, out, _ = run_b
    with pytest.raises(T.TrainError, match="Quantization can not be applied more than once"):
        run_training(args(tmp, data, tmp / "b.yaml", "twice", weights=str(out / "weights" / "last.pt")),
                log=lambda m: None)


def test_recipe_change_on_resume_refused(work, run_b):
    tmp, data = work
    ck_path = tmp / "runs" / "b" / "weights" / "last.pt"
    stopped = ck.load_checkpoint(ck_path)
    stopped.update(finished=False, stripped=False, optimizer={})  # an unfinished last.pt (the real one is stripped)
    ck.save_checkpoint(tmp / "fake_last.pt", stopped)
    (tmp / "b2.yaml").write_text(RECIPE_B.replace("init_lr: 0.005", "init_lr: 0.004"))
    with pytest.raises(T.TrainError, match="allow-recipe-change"):
        run_training(args(tmp, data, tmp / "b2.yaml", "b", resume=str(tmp / "fake_last.pt")), log=lambda m: None)


def test_checkpoint_masks_held_without_pruning_modifiers(work, run_a):
    tmp, data = work
    a_last = run_a[0] / "weights" / "last.pt"
    (tmp / "plain.yaml").write_text("num_epochs: 1\nmodifiers:\n  - !EpochRangeModifier\n    start_epoch: 0\n"
                                    "    end_epoch: eval(num_epochs)\n")
    logs: list[str] = []
    out = run_training(args(tmp, data, tmp / "plain.yaml", "plain", weights=str(a_last)), log=logs.append)
    assert any("no pruning modifiers detected" in m for m in logs)
    assert any("holding the checkpoint's masks" in m for m in logs)
    a = ck.load_checkpoint(a_last)
    got = ck.load_checkpoint(out / "weights" / "last.pt")["model"]
    for n in a["masks"]:
        assert torch.equal(got[n] == 0, a["model"][n] == 0), n


def test_nonfinite_loss_exits_1_names_step_keeps_checkpoint(work, monkeypatch):
    from typer.testing import CliRunner

    from recipec.cli import build_app
    from yolo.loss import YoloLoss

    tmp, data = work
    real, calls = YoloLoss.__call__, {"n": 0}

    def nan_at_third(self, preds, targets):
        calls["n"] += torch.is_grad_enabled()  # training calls only (validation also computes its losses)
        loss, items = real(self, preds, targets)
        return (loss * float("nan") if calls["n"] == 3 else loss), items

    monkeypatch.setattr(YoloLoss, "__call__", nan_at_third)
    r = CliRunner().invoke(build_app(), ["train", "--data", str(data), "--weights", "yolov5n", "--init", "random",
                                         "--recipe", str(tmp / "a.yaml"), "--imgsz", "64", "--batch", "2", "--project",
                                         str(tmp / "runs"), "--name", "nan", "--no-progress"])
    assert r.exit_code == 1, r.output
    assert "loss became nan at step 2 (epoch 1, batch 0)" in r.stderr
    kept = ck.load_checkpoint(tmp / "runs" / "nan" / "weights" / "last.pt")
    assert kept["step"] == 2 and not kept["finished"]


def test_stripped_fp16_best_pt_validates_as_its_results_row(work, run_a):
    """best.pt is stripped to FP16 EMA weights at the end; validating it gives its results.csv row (within 0.002
    mAP, the FP16 rounding), and its masks are exactly the zeros of the FP16 weights."""
    from engine.export.load import load_for_export
    from yolo.data import create_dataloader
    from yolo.val import validate

    tmp, data = work
    out = run_a[0]
    raw = torch.load(out / "weights" / "best.pt", weights_only=True)
    assert raw["model"]["model.0.conv.weight"].dtype == torch.float16 and raw["optimizer"] is None
    best = ck.load_checkpoint(out / "weights" / "best.pt")
    with (out / "results.csv").open() as fh:
        row = list(csv.DictReader(fh))[best["epoch"] - 1]
    loader, _ = create_dataloader(data, "val", imgsz=64, batch_size=4)
    rep = validate(load_for_export(out / "weights" / "best.pt").model, loader)
    assert abs(rep["map50_95"] - float(row["metrics/mAP_0.5:0.95"])) < 0.002
    assert abs(rep["map50"] - float(row["metrics/mAP_0.5"])) < 0.002
    for n, m in best["masks"].items():
        assert torch.equal(m, best["model"][n] != 0), n
