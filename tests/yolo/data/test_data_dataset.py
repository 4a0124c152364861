"""YoloDataset samples, rect batches, collate and determinism (with DataLoader workers)."""

import numpy as np
import pytest
import torch

from yolo.data import YoloDataset, create_dataloader
from yolo.data.synthetic import make_synthetic


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def syn(tmp_path_factory):
    return make_synthetic(tmp_path_factory.mktemp("syn"), n_train=12, n_val=6, seed=0)


def test_val_sample_letterbox_maps_back_to_original(syn):
    ds = YoloDataset.from_yaml(syn, "val", imgsz=320, rect=True, batch_size=4, pad=0.5)
    img, lab, path, shapes = ds[0]
    (h0, w0), ((gh, gw), (pw, ph)) = shapes
    assert img.dtype == np.uint8 and img.shape[0] == 3 and img.shape[1] % 32 == 0 and img.shape[2] % 32 == 0
    # label pixel box in network space -> original pixels == the file's label
    H, W = img.shape[1:]
    x = (lab[:, 2] * W - pw) / gw / w0
    y = (lab[:, 3] * H - ph) / gh / h0
    j = ds.files.index(path)
    np.testing.assert_allclose(np.stack([x, y], 1), ds.labels[j][:, 1:3], atol=2e-3)


def test_rect_batches_share_a_shape_and_are_stride_multiples(syn):
    dl, ds = create_dataloader(syn, "train", imgsz=256, batch_size=4)
    assert ds.rect and not ds.augment
    for x, t, paths, shapes in dl:
        assert x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
        assert x.shape[2] % 32 == 0 and x.shape[3] % 32 == 0 and max(x.shape[2:]) <= 256 + 32
        assert t.shape[1] == 6 and set(t[:, 0].long().tolist()) <= set(range(len(paths)))
        assert ((t[:, 2:] >= 0) & (t[:, 2:] <= 1)).all()


def test_train_samples_are_square_augmented_and_deterministic(syn):
    ds = YoloDataset.from_yaml(syn, "train", imgsz=128, augment=True, seed=3)
    a = ds[2]
    b = ds[2]
    assert a[0].shape == (3, 128, 128)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    ds.set_epoch(1)
    assert not np.array_equal(ds[2][0], a[0])
    lab = a[1]
    assert ((lab[:, 2:] >= 0) & (lab[:, 2:] <= 1)).all() and (lab[:, 4:] > 0).all()


def test_workers_give_the_same_batches(syn):
    def batches(workers):
        dl, _ = create_dataloader(syn, "train", imgsz=96, batch_size=4, augment=True, workers=workers, seed=5)
        return [(x.clone(), t.clone()) for x, t, _, _ in dl]

    b0, b2 = batches(0), batches(2)
    assert len(b0) == len(b2) == 3
    for (x0, t0), (x2, t2) in zip(b0, b2):
        assert torch.equal(x0, x2) and torch.equal(t0, t2)


def test_ram_cache_gives_identical_samples(syn):
    a = YoloDataset.from_yaml(syn, "val", imgsz=160)
    b = YoloDataset.from_yaml(syn, "val", imgsz=160, cache_images=True)
    assert all(im is not None for im in b._ram)
    np.testing.assert_array_equal(a[1][0], b[1][0])


def test_collate_numbers_images():
    s = [(np.zeros((3, 32, 32), np.uint8), np.array([[0, 1, .5, .5, .1, .1]], np.float32), "a", None),
         (np.full((3, 32, 32), 255, np.uint8), np.zeros((0, 6), np.float32), "b", None),
         (np.zeros((3, 32, 32), np.uint8), np.array([[0, 2, .5, .5, .1, .1]] * 2, np.float32), "c", None)]
    x, t, paths, shapes = YoloDataset.collate_fn(s)
    assert x.shape == (3, 3, 32, 32) and x[1].max() == 1.0
    assert t[:, 0].tolist() == [0, 2, 2] and paths == ("a", "b", "c")


def test_undecodable_image_after_scan_is_blank_not_a_crash(syn, tmp_path):
    ds = YoloDataset.from_yaml(syn, "val", imgsz=160)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"garbage")
    ds.files[0] = str(bad)
    img, lab, _, _ = ds[0]
    assert (img == 114).all() and len(lab) == 0
    ds._ram = [None] * len(ds)
    ds._ram = [ds._try_decode(i) for i in range(len(ds))]  # what cache_images=True does
    assert ds._ram[0] is None and ds._ram[1] is not None


def test_importing_yolo_data_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, yolo.data, yolo.data.voc, yolo.data.synthetic; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
