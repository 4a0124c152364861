"""Letterbox geometry, affine box transforms, mosaic, HSV and flips."""

import numpy as np
import pytest

from yolo.data import augment as A


def test_letterbox_pads_symmetrically_and_keeps_ratio():
    img = np.zeros((100, 200, 3), np.uint8)
    out, ratio, pad = A.letterbox(img, 640)
    assert out.shape == (640, 640, 3)
    assert ratio == (640 / 200, 320 / 100)
    assert pad == (0.0, 160.0)
    assert (out[:160] == 114).all() and (out[160:480] == 0).all() and (out[480:] == 114).all()


def test_letterbox_auto_and_no_scaleup():
    img = np.zeros((100, 200, 3), np.uint8)
    out, ratio, pad = A.letterbox(img, 640, auto=True, stride=32)
    assert out.shape == (320, 640, 3)
    out, ratio, pad = A.letterbox(img, (256, 320), scaleup=False)
    assert out.shape == (256, 320, 3) and ratio == (1.0, 1.0) and pad == (60.0, 78.0)


def test_xywhn_xyxy_roundtrip():
    x = np.array([[0.5, 0.5, 0.2, 0.4], [0.1, 0.9, 0.2, 0.2]], np.float32)
    np.testing.assert_allclose(A.xyxy2xywhn(A.xywhn2xyxy(x, 200, 100), 200, 100, clip=False), x, atol=1e-6)
    np.testing.assert_allclose(A.xywhn2xyxy(x, 200, 100, 10, 5)[0], [90, 35, 130, 75])


def test_identity_affine_keeps_everything():
    rng = np.random.default_rng(0)
    img = np.random.default_rng(1).integers(0, 255, (64, 96, 3), dtype=np.uint8)
    lab = np.array([[1, 10, 10, 40, 30]], np.float32)
    out, lab2 = A.random_affine(img, lab, rng, translate=0.0, scale=0.0)
    np.testing.assert_array_equal(out, img)
    np.testing.assert_allclose(lab2, lab)


def test_affine_moves_boxes_with_pixels():
    """A white square drawn on black: after a random scale+translate its box still covers it."""
    img = np.zeros((128, 128, 3), np.uint8)
    img[40:72, 50:90] = 255
    lab = np.array([[0, 50, 40, 90, 72]], np.float32)
    for seed in range(5):
        out, lab2 = A.random_affine(img, lab, np.random.default_rng(seed), translate=0.1, scale=0.5)
        ys, xs = np.nonzero(out[..., 0] > 128)
        assert len(lab2) == 1
        np.testing.assert_allclose(lab2[0, 1:], [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], atol=1.5)


def test_mosaic_then_crop_gives_square_and_valid_boxes():
    rng = np.random.default_rng(3)
    imgs = [np.full((64, 48, 3), 10 * k, np.uint8) for k in range(4)]
    labels = [np.array([[k, 0.5, 0.5, 0.5, 0.5]], np.float32) for k in range(4)]
    canvas, lab = A.mosaic4(imgs, labels, 64, rng)
    assert canvas.shape == (128, 128, 3) and lab.shape[1] == 5
    out, lab = A.random_affine(canvas, lab, rng, border=(-32, -32))
    assert out.shape == (64, 64, 3)
    assert (lab[:, 1:] >= 0).all() and (lab[:, [1, 3]] <= 64).all() and (lab[:, 3] > lab[:, 1]).all()


def test_hsv_changes_colours_but_not_grey_levels_order():
    img = np.tile(np.arange(0, 256, 16, dtype=np.uint8)[None, :, None], (4, 1, 3))
    img[..., 0] = 200
    out = A.augment_hsv(img, np.random.default_rng(0), 0.015, 0.7, 0.4)
    assert out.shape == img.shape and out.dtype == np.uint8 and not np.array_equal(out, img)
    assert A.augment_hsv(img, np.random.default_rng(0), 0, 0, 0) is img


def test_flips_mirror_labels():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    lab = np.array([[0, 0.2, 0.3, 0.1, 0.1]], np.float32)
    out, l2 = A.flip_lr(img, lab)
    assert (out[:, 0] == img[:, -1]).all() and l2[0, 1] == pytest.approx(0.8) and lab[0, 1] == pytest.approx(0.2)
    out, l2 = A.flip_ud(img, lab)
    assert (out[0] == img[-1]).all() and l2[0, 2] == pytest.approx(0.7)


def test_hyp_from_dict_ignores_other_keys():
    h = A.AugmentHyp.from_dict({"lr0": 0.01, "fliplr": 0.0, "mosaic": 0.5})
    assert h.fliplr == 0.0 and h.mosaic == 0.5 and h.hsv_s == 0.7
