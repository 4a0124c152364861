"""validate(): the whole loop on an oracle, an ONNX session, and the real yolov5n checkpoint."""

import numpy as np
import pytest
import torch

from yolo.data import create_dataloader
from yolo.data.synthetic import make_synthetic
from yolo.val import OnnxModel, scale_to_original, validate


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def syn(tmp_path_factory):
    return make_synthetic(tmp_path_factory.mktemp("valsyn"), n_train=4, n_val=10, seed=1)


class Oracle:
    """Returns the labels of each batch as decoded predictions (optionally jittered / shifted)."""

    def __init__(self, loader, nc, shift=0.0, drop_class=None):
        self.queue = []
        for imgs, t, _, _ in loader:
            B, _, H, W = imgs.shape
            n = max(1, max((int((t[:, 0] == b).sum()) for b in range(B)), default=1))
            out = torch.zeros(B, n + 2, 5 + nc)
            for b in range(B):
                lab = t[t[:, 0] == b]
                if drop_class is not None:
                    lab = lab[lab[:, 1] != drop_class]
                k = len(lab)
                out[b, :k, 0] = lab[:, 2] * W + shift
                out[b, :k, 1] = lab[:, 3] * H
                out[b, :k, 2] = lab[:, 4] * W
                out[b, :k, 3] = lab[:, 5] * H
                out[b, :k, 4] = 0.9
                out[b, torch.arange(k), 5 + lab[:, 1].long()] = 1.0
            self.queue.append(out)

    def __call__(self, x):
        return self.queue.pop(0).numpy()  # numpy output is accepted too


def test_oracle_scores_perfectly(syn):
    loader, ds = create_dataloader(syn, "val", imgsz=224, batch_size=4)
    rep = validate(Oracle(loader, 3), loader)
    n_inst = sum(len(lb) for lb in ds.labels)
    assert rep["images"] == 10 and rep["instances"] == n_inst
    assert rep["map50"] == pytest.approx(0.995) and rep["map50_95"] == pytest.approx(0.995)
    assert rep["precision"] == pytest.approx(1.0, abs=0.02) and rep["recall"] == pytest.approx(1.0)
    assert [c["name"] for c in rep["per_class"]] == list(ds.names)
    assert sum(c["instances"] for c in rep["per_class"]) == n_inst
    assert set(rep["speed_ms"]) == {"preprocess", "inference", "nms"}


def test_shifted_and_missing_predictions_lower_the_scores(syn):
    loader, _ = create_dataloader(syn, "val", imgsz=224, batch_size=4)
    rep = validate(Oracle(loader, 3, drop_class=1), loader)
    per = {c["class"]: c for c in rep["per_class"]}
    assert per[1]["map50"] == 0.0 and per[0]["map50"] == pytest.approx(0.995)
    assert rep["map50"] == pytest.approx(0.995 * 2 / 3, abs=1e-6)
    rep = validate(Oracle(loader, 3, shift=6.0), loader)
    assert 0.2 < rep["map50_95"] < 0.9 and rep["map50"] > rep["map50_95"]


def test_scale_to_original_inverts_the_letterbox():
    shapes = ((100, 200), ((0.5, 0.5), (0.0, 25.0)))  # 200x100 image shown at 100x50, padded 25 on top
    b = torch.tensor([[10.0, 25.0, 110.0, 75.0], [-5.0, 0.0, 300.0, 90.0]])
    out = scale_to_original(b, shapes)
    assert out[0].tolist() == [20.0, 0.0, 200.0, 100.0]
    assert out[1].tolist() == [0.0, 0.0, 200.0, 100.0]  # clipped


def test_module_mode_is_restored_and_random_model_runs(syn):
    import yolo.model as yolo_model
    m = yolo_model.build_model("yolov5n", nc=3).train()
    loader, _ = create_dataloader(syn, "val", imgsz=128, batch_size=5)
    rep = validate(m, loader, conf=0.01)
    assert m.training and 0.0 <= rep["map50"] <= 1.0 and rep["images"] == 10


def _constant_onnx(path, preds: np.ndarray, hw):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    b = preds.shape[0]
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, [b, 3, *hw])
    y = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(preds.shape))
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["m"], keepdims=0),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Add", ["const", "z"], ["output0"]),
    ]
    g = helper.make_graph(nodes, "c", [x], [y], initializer=[
        numpy_helper.from_array(preds.astype(np.float32), "const"),
        numpy_helper.from_array(np.zeros((), np.float32), "zero")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_onnx_session_as_a_callable(tmp_path):
    preds = np.zeros((2, 4, 7), np.float32)
    preds[:, 0, :5] = [32, 32, 16, 16, 0.8]
    preds[:, 0, 6] = 1.0
    _constant_onnx(tmp_path / "c.onnx", preds, (64, 64))
    m = OnnxModel(tmp_path / "c.onnx")
    assert m.fixed_batch == 2 and m.fixed_hw == (64, 64) and m.nc == 2
    y = m(torch.zeros(1, 3, 64, 64))  # a short last batch is padded, then cut
    assert isinstance(y, torch.Tensor) and y.shape == (1, 4, 7) and y[0, 0, 4] == pytest.approx(0.8)
    assert m(torch.zeros(3, 3, 64, 64)).shape == (3, 4, 7)


def _coco_yaml(tmp_path, external_dir, root, split):
    names = [f"c{i}" for i in range(80)]
    p = tmp_path / "coco.yaml"
    p.write_text(f"path: {external_dir / root}\ntrain: {split}\nval: {split}\nnames: {names}\n")
    return p


def test_yolov5n_on_coco8_small(external_dir, tmp_path):
    from yolo import load_model

    m = load_model(external_dir / "weights/yolov5n.pt")
    loader, _ = create_dataloader(_coco_yaml(tmp_path, external_dir, "coco8", "images/val"), "val",
                                  imgsz=320, batch_size=4)
    rep = validate(m, loader)
    assert rep["images"] == 4 and rep["instances"] == 17
    assert 0.4 < rep["map50"] < 0.95 and 0.2 < rep["map50_95"] < rep["map50"]


@pytest.mark.slow
def test_yolov5n_on_coco128_at_640(external_dir, tmp_path):
    """Published YOLOv5n runs on coco128 at 640 give roughly mAP50 0.55-0.6, mAP50-95 0.35-0.4."""
    from yolo import load_model

    m = load_model(external_dir / "weights/yolov5n.pt")
    loader, _ = create_dataloader(_coco_yaml(tmp_path, external_dir, "coco128", "images/train2017"), "val",
                                  imgsz=640, batch_size=32)
    rep = validate(m, loader)
    assert rep["images"] == 128 and rep["instances"] == 929
    assert 0.45 < rep["map50"] < 0.7 and 0.28 < rep["map50_95"] < 0.48


def test_val_loss_from_the_same_forward(syn):
    import yolo.model as yolo_model
    from yolo.loss import YoloLoss

    torch.manual_seed(0)
    m = yolo_model.build_model("yolov5n", nc=3).eval()
    loader, _ = create_dataloader(syn, "val", imgsz=128, batch_size=5)
    crit = YoloLoss.from_model(m, imgsz=128)
    rep = validate(m, loader, conf=0.01, loss_fn=crit)
    rep2 = validate(m, loader, conf=0.01)
    assert len(rep["loss"]) == 3 and all(v >= 0 for v in rep["loss"]) and rep["loss"][1] > 0
    assert "loss" not in rep2 and rep["map50"] == pytest.approx(rep2["map50"])
    # by hand: the mean over batches of the loss items on the eval-mode raw outputs
    items = []
    with torch.no_grad():
        for x, t, _, _ in loader:
            items.append(crit(m.detect.raw(m.features(x)), t)[1])
    assert rep["loss"] == pytest.approx(torch.stack(items).mean(0).tolist(), rel=1e-5)


@pytest.mark.slow
def test_dynamic_onnx_export_scores_like_torch(external_dir, tmp_path):
    import engine.export.onnx_export as export
    from yolo import load_model

    m = load_model(external_dir / "weights/yolov5n.pt")
    export.export_onnx(m, tmp_path / "n.onnx", imgsz=320, dynamic=True)
    om = OnnxModel(tmp_path / "n.onnx")
    assert om.fixed_hw is None and om.names == m.names
    loader, _ = create_dataloader(_coco_yaml(tmp_path, external_dir, "coco8", "images/val"), "val",
                                  imgsz=320, batch_size=4)
    a, b = validate(m, loader), validate(om, loader)
    assert b["map50"] == pytest.approx(a["map50"], abs=1e-3) and b["map50_95"] == pytest.approx(a["map50_95"], abs=1e-3)


def test_cpu_chunked_forward_gives_the_same_report(external_dir, tmp_path, monkeypatch):
    """Big CPU batches run their forward pass a few images at a time (yolo.val.CPU_CHUNK_PIXELS): the report, the
    loss included, is the one the whole batch gives."""
    import yolo.val as V
    from yolo import load_model
    from yolo.loss import YoloLoss

    m = load_model(external_dir / "weights/yolov5n.pt")
    loader, _ = create_dataloader(_coco_yaml(tmp_path, external_dir, "coco8", "images/val"), "val",
                                  imgsz=320, batch_size=4)
    crit = YoloLoss.from_model(m, imgsz=320)
    calls = []
    features = m.features
    monkeypatch.setattr(m, "features", lambda x: (calls.append(len(x)), features(x))[1])
    monkeypatch.setattr(V, "CPU_CHUNK_PIXELS", 10**9)
    whole = validate(m, loader, loss_fn=crit)
    h, w = next(iter(loader))[0].shape[2:]  # coco8's rect shape (one batch)
    monkeypatch.setattr(V, "CPU_CHUNK_PIXELS", 2 * h * w)  # two images per forward pass
    n_whole = len(calls)
    chunked = validate(m, loader, loss_fn=crit)
    assert calls[:n_whole] == [4] and calls[n_whole:] == [2, 2]
    for rep in (whole, chunked):
        rep.pop("seconds"), rep.pop("speed_ms")
    assert chunked == whole
