"""YOLOv5's validation plots: the confusion matrix counts, the curves, and every file `validate(plots_dir=)`
writes."""

import numpy as np
import pytest
import torch

from yolo.confusion import ConfusionMatrix
from yolo.data import create_dataloader
from yolo.data.synthetic import make_synthetic
from yolo.metrics import ap_per_class
from yolo.val import validate

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PLOTS = ("confusion_matrix.png", "PR_curve.png", "F1_curve.png", "P_curve.png", "R_curve.png",
         "val_batch0_labels.jpg", "val_batch0_pred.jpg")


def test_confusion_matrix_counts_hits_confusions_misses_and_false_alarms():
    cm = ConfusionMatrix(3)
    dets = torch.tensor([[0, 0, 10, 10, 0.9, 0],      # hits label 0 (class 0)
                         [20, 20, 30, 30, 0.8, 2],    # label 1 is class 1: a confusion 1 -> 2
                         [50, 50, 60, 60, 0.7, 1],    # matches nothing: background false alarm
                         [0, 0, 10, 10, 0.1, 1]])     # under conf 0.25: ignored
    lcls = torch.tensor([0, 1, 2])
    lbox = torch.tensor([[0, 0, 10, 10], [20, 20, 30, 31], [80, 80, 90, 90.0]])  # label 2 is missed
    cm.add(dets, lcls, lbox)
    cm.add(torch.zeros((0, 6)), torch.tensor([1]), torch.zeros((1, 4)))  # an image with no detections
    m = cm.matrix
    assert m[0, 0] == 1 and m[2, 1] == 1 and m[1, 3] == 1 and m[3, 2] == 1 and m[3, 1] == 1
    assert m.sum() == 5
    assert cm.normalized()[:, 1].sum() == pytest.approx(1.0)


def test_pr_curve_integrates_to_ap50():
    rng = np.random.default_rng(0)
    n = 200
    tp = rng.random((n, 10)) < 0.6
    st = ap_per_class(tp, rng.random(n), rng.integers(0, 2, n), rng.integers(0, 2, 150))
    px, pr = st.curves["px"], st.curves["pr"]
    area = ((pr[:, 1:] + pr[:, :-1]) / 2 * np.diff(px)).sum(1)
    assert area == pytest.approx(st.ap50, abs=0.01)
    assert st.curves["f1"].shape == st.curves["p"].shape == (2, 1000)


@pytest.fixture(scope="module")
def syn(tmp_path_factory):
    return make_synthetic(tmp_path_factory.mktemp("plotsyn"), n_train=2, n_val=6, seed=3)


def test_validate_writes_yolov5s_plots(syn, tmp_path):
    from test_val import Oracle

    loader, ds = create_dataloader(syn, "val", imgsz=128, batch_size=4)
    rep = validate(Oracle(loader, 3, drop_class=1), loader, plots_dir=tmp_path / "val")
    assert sorted(rep["plots"]) == sorted(str(tmp_path / "val" / f) for f in PLOTS)
    for f in PLOTS:
        assert (tmp_path / "val" / f).stat().st_size > 2000, f
    from PIL import Image

    assert Image.open(tmp_path / "val" / "val_batch0_pred.jpg").format == "JPEG"


def test_confusion_matrix_of_validate_matches_the_oracle(syn, tmp_path, monkeypatch):
    """The oracle predicts every label except class 1: the diagonal holds classes 0 and 2, class 1 is missed."""
    from test_val import Oracle
    import yolo.val_plots as vp

    seen = {}
    real = vp.ValPlots.finish

    def keep(self, stats):
        seen["m"] = self.cm.matrix.copy()
        return real(self, stats)

    monkeypatch.setattr(vp.ValPlots, "finish", keep)
    loader, ds = create_dataloader(syn, "val", imgsz=128, batch_size=4)
    validate(Oracle(loader, 3, drop_class=1), loader, plots_dir=tmp_path)
    counts = np.bincount(np.concatenate([lb[:, 0] for lb in ds.labels]).astype(int), minlength=3)
    m = seen["m"]
    assert m[0, 0] == counts[0] and m[2, 2] == counts[2] and m[3, 1] == counts[1]
    assert m.sum() == counts.sum()
