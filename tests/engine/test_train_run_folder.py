"""A finished run folder as YOLOv5's, and numbers that reproduce: one tiny QAT run (yolov5n, 64 px, 4 images,
batch 2, QAT from the first step), then `recipec val` of its best.pt."""

from __future__ import annotations

import csv

import pytest
import yaml

from engine import checkpoint as ck
from engine import train as T
from recipec.cli.train_app import run_training
from recipec.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RECIPE = """num_epochs: 1
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
  - !QuantizationModifier
    start_epoch: 0
"""

RUN_FILES = ("hyp.yaml", "opt.yaml", "results.csv", "results.png", "confusion_matrix.png", "PR_curve.png",
             "F1_curve.png", "P_curve.png", "R_curve.png", "labels.jpg", "val_batch0_labels.jpg",
             "val_batch0_pred.jpg", "weights/last.pt", "weights/best.pt")


@pytest.fixture(scope="module")
def qat_run(tmp_path_factory):
    from yolo.data.synthetic import make_synthetic

    tmp = tmp_path_factory.mktemp("qatrun")
    data = make_synthetic(tmp / "data", n_train=4, n_val=4, size_range=(64, 96))
    (tmp / "q.yaml").write_text(RECIPE)
    a = T.TrainArgs(data=str(data), weights="yolov5n", recipe=str(tmp / "q.yaml"), imgsz=64, batch=2, workers=0,
                    project=str(tmp / "runs"), name="q", seed=0, progress=False)
    logs: list[str] = []
    out = run_training(a, log=logs.append)
    return tmp, data, out, logs


def test_run_folder_has_yolov5s_files(qat_run):
    _, _, out, logs = qat_run
    for f in RUN_FILES:
        assert (out / f).is_file() and (out / f).stat().st_size > 100, f
    opt = yaml.safe_load((out / "opt.yaml").read_text())
    assert set(opt) >= set(T.TrainArgs.__dataclass_fields__) and opt["imgsz"] == 64 and opt["batch"] == 2
    assert yaml.safe_load((out / "hyp.yaml").read_text())["lr0"] > 0
    assert any("best.pt: the QAT model (fake-quant" in m for m in logs)  # the end table says what it measured


def test_final_checkpoints_stripped_and_not_resumable(qat_run):
    _, _, out, _ = qat_run
    d = ck.load_checkpoint(out / "weights" / "last.pt")
    assert d["stripped"] and d["optimizer"] is None and d["runtime"] is None and d["ema"] is None
    assert d["qat"]["state"]["fake_quant"]  # the QAT state survives stripping
    with pytest.raises(T.TrainError, match="finished run.*nothing to resume.*--weights"):
        run_training(T.TrainArgs(resume=str(out), project=str(out.parent), progress=False), log=lambda m: None)


def test_val_of_best_pt_reproduces_its_results_row(qat_run, capsys, monkeypatch, tmp_path):
    """`recipec val best.pt` (no --imgsz/--batch: the training's) gives best.pt's results.csv row, because it
    evaluates the QAT model as training validated it; the float model it used to load gives other numbers."""
    _, data, out, _ = qat_run
    monkeypatch.chdir(tmp_path)
    best = ck.load_checkpoint(out / "weights" / "best.pt")
    with (out / "results.csv").open() as fh:
        rows = [{k.strip(): v for k, v in r.items()} for r in csv.DictReader(fh)]
    row = rows[best["epoch"] - 1]
    with pytest.raises(SystemExit) as e:
        main(["val", "--weights", str(out / "weights" / "best.pt"), "--data", str(data), "--format", "json",
              "--no-plots"])
    got = capsys.readouterr()
    assert e.value.code == 0, got.err
    assert "evaluating the QAT model (fake-quant, " in got.err and "--imgsz 64 --batch 4" in got.err
    import json

    rep = json.loads(got.out)
    assert rep["map50"] == pytest.approx(float(row["metrics/mAP_0.5"]), rel=1e-5, abs=1e-9)
    assert rep["map50_95"] == pytest.approx(float(row["metrics/mAP_0.5:0.95"]), rel=1e-5, abs=1e-9)
    assert rep["map50_95"] == pytest.approx(best["metrics"]["mAP50_95"], rel=1e-9)

    from yolo.checkpoint import load_model
    from yolo.data import create_dataloader
    from yolo.val import validate

    loader, _ = create_dataloader(data, "val", imgsz=64, batch_size=4)
    floats = validate(load_model(out / "weights" / "best.pt"), loader)
    assert floats["map50_95"] != pytest.approx(rep["map50_95"], rel=1e-5, abs=1e-9)  # the test can fail
