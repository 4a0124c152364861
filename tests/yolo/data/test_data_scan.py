"""Every kind of bad input is reported once with its file name, then skipped or clipped."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from yolo.data.scan import load_rgb, parse_label_text, scan


def _img(p: Path, size=(64, 48), **kw) -> str:
    p.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (100, 50, 25)).save(p, **kw)
    return str(p)


def _lbl(img: str, text: str) -> None:
    p = Path(img.replace("/images/", "/labels/")).with_suffix(".txt")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


@pytest.mark.parametrize("text, kind, n", [
    ("0 0.5 0.5 0.2\n", "bad_fields", 0),
    ("0 0.5 0.5 0.2 0.2 0.1\n", "bad_fields", 0),
    ("0 a 0.5 0.2 0.2\n", "bad_value", 0),
    ("0 0.5 0.5 -0.2 0.2\n", "bad_value", 0),
    ("3 0.5 0.5 0.2 0.2\n", "class_out_of_range", 0),
    ("-1 0.5 0.5 0.2 0.2\n", "class_out_of_range", 0),
    ("1.5 0.5 0.5 0.2 0.2\n", "class_out_of_range", 0),
    ("0 0.95 0.5 0.2 0.2\n", "coords_clipped", 1),
    ("0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n", "duplicate_labels", 1),
])
def test_bad_label_lines(text, kind, n):
    arr, issues = parse_label_text(text, nc=3, file="f.txt")
    assert [i.kind for i in issues] == [kind] and issues[0].file == "f.txt"
    assert arr.shape == (n, 5)


@pytest.mark.parametrize("text, where, detail", [
    ("0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n95 0.5 0.5 0.2 0.2\n", "x.txt:3", "class 95 out of range 0..79 (nc=80)"),
    ("-1 0.5 0.5 0.2 0.2\n", "x.txt:1", "class -1 out of range 0..79 (nc=80)"),
    ("1.5 0.5 0.5 0.2 0.2\n", "x.txt:1", "class 1.5 is not an integer in 0..79 (nc=80)"),
    ("\n0 0.5 0.5 0.2\n", "x.txt:2", "4 fields, expected 5 (class x y w h) or a polygon (an odd count >= 7)"),
    ("0 a 0.5 0.2 0.2\n", "x.txt:1", "'a' is not a number"),
    ("0 0.5 0.5 -0.2 0.2\n", "x.txt:1", "width and height must be > 0, got -0.2 0.2"),
    ("0 inf 0.5 0.2 0.2\n", "x.txt:1", "inf is not finite"),
    ("90 0 0 1 1\n91 0 0 1 1\n92 0 0 1 1\n", "x.txt:1", "class 90 out of range 0..79 (nc=80) (and 2 more lines: 2, 3)"),
])
def test_label_issue_names_line_value_and_range(text, where, detail):
    _, issues = parse_label_text(text, nc=80, file="x.txt")
    assert [(i.where, i.detail) for i in issues] == [(where, detail)]


def test_summary_shows_file_and_line():
    _, issues = parse_label_text("95 0.5 0.5 0.2 0.2\n", nc=80, file="labels/x.txt")
    from yolo.data.scan import ScanResult

    text = ScanResult(issues=issues, n_scanned=1).summary()
    assert "  class_out_of_range  labels/x.txt:1: class 95 out of range 0..79 (nc=80)\n" in text


def test_each_problem_is_logged_once_per_process(tmp_path, caplog):
    from yolo.data.dataset import YoloDataset

    img = _img(tmp_path / "images" / "a.png")
    _lbl(img, "0 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.2 0.2\n")
    with caplog.at_level("WARNING", logger="yolo.data"):
        YoloDataset([img], 2, imgsz=64)
        YoloDataset([img], 2, imgsz=64)  # e.g. the val split of a data YAML whose train and val are one folder
    assert caplog.text.count("class 7 out of range 0..1 (nc=2)") == 1


def test_clipping_keeps_the_inside_part():
    arr, _ = parse_label_text("0 0.95 0.5 0.2 0.2\n", nc=1, file="f")
    np.testing.assert_allclose(arr[0], [0, 0.925, 0.5, 0.15, 0.2], atol=1e-6)


def test_polygon_labels_become_boxes():
    arr, issues = parse_label_text("1 0.1 0.2 0.5 0.2 0.3 0.6\n", nc=2, file="f")
    assert not issues
    np.testing.assert_allclose(arr[0], [1, 0.3, 0.4, 0.4, 0.4], atol=1e-6)


def test_many_bad_lines_are_one_issue_per_kind():
    _, issues = parse_label_text("\n".join(["9 0.5 0.5 0.1 0.1"] * 12), nc=2, file="f")
    assert len(issues) == 1 and "..." in issues[0].detail


def test_scan_reports_each_bad_file_once(tmp_path):
    d = tmp_path / "images"
    good = _img(d / "good.jpg")
    _lbl(good, "0 0.5 0.5 0.5 0.5\n")
    nolabel = _img(d / "nolabel.png")
    empty = _img(d / "empty.png")
    _lbl(empty, "")
    corrupt = d / "corrupt.jpg"
    corrupt.write_bytes(b"not an image at all")
    trunc = d / "trunc.jpg"
    full = Path(_img(tmp_path / "x" / "full.jpg", size=(200, 200), quality=95)).read_bytes()
    trunc.write_bytes(full[: len(full) - 200])
    trailing = d / "trailing.jpg"
    trailing.write_bytes(full + b"\x00" * 64)  # bytes after the end marker: a valid JPEG
    _lbl(str(trailing), "0 0.5 0.5 0.5 0.5\n")
    badcls = _img(d / "badcls.png")
    _lbl(badcls, "7 0.5 0.5 0.1 0.1\n0 0.5 0.5 0.1 0.1\n")
    res = scan([good, nolabel, empty, str(corrupt), str(trunc), str(trailing), badcls], nc=2)
    kinds = {(i.kind, Path(i.file).stem) for i in res.issues}
    assert kinds == {("missing_label", "nolabel"), ("empty_label", "empty"), ("corrupt_image", "corrupt"),
                     ("truncated_image", "trunc"), ("class_out_of_range", "badcls")}
    assert len(res.issues) == 5
    assert [Path(f).stem for f in res.files] == ["good", "nolabel", "empty", "trailing", "badcls"]
    assert [len(lb) for lb in res.labels] == [1, 0, 0, 1, 1]
    s = res.summary()
    for name in ("nolabel.png", "corrupt.jpg", "trunc.jpg", "badcls.txt", "empty.txt"):
        assert name in s
    assert "7 images: 5 kept" in s


def test_scan_cache_is_json_and_invalidated_by_changes(tmp_path):
    img = _img(tmp_path / "images/a.png")
    _lbl(img, "0 0.5 0.5 0.5 0.5\n")
    cache = tmp_path / "cache"
    r1 = scan([img], nc=1, cache_dir=cache)
    files = list(cache.glob("*.json"))
    assert len(files) == 1 and files[0].read_text().startswith("{")
    r2 = scan([img], nc=1, cache_dir=cache)
    np.testing.assert_array_equal(r1.labels[0], r2.labels[0])
    _lbl(img, "0 0.5 0.5 0.5 0.5\n0 0.2 0.2 0.1 0.1\n")
    r3 = scan([img], nc=1, cache_dir=cache)
    assert len(r3.labels[0]) == 2


def test_exif_orientation_is_applied(tmp_path):
    p = tmp_path / "rot.jpg"
    im = Image.new("RGB", (40, 20), (0, 0, 0))
    ex = im.getexif()
    ex[0x0112] = 6  # rotate 90 degrees: displayed as 20 wide, 40 tall
    im.save(p, exif=ex)
    assert load_rgb(str(p)).shape == (40, 20, 3)
    assert scan([str(p)], nc=1).shapes == [(20, 40)]
    assert load_rgb(str(p), 20).shape == (20, 10, 3)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_token = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-3, 9).map(str),
                   st.sampled_from(["", "x", "1e400", "-0", "0.5", "nan"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_token, min_size=0, max_size=9).map(" ".join), max_size=6).map("\n".join))
def test_any_label_text_parses_to_valid_boxes(text):
    arr, issues = parse_label_text(text, nc=4, file="f.txt")
    assert arr.dtype == np.float32 and arr.shape[1] == 5
    assert ((arr[:, 0] >= 0) & (arr[:, 0] < 4) & (arr[:, 0] == np.round(arr[:, 0]))).all()
    x1, x2 = arr[:, 1] - arr[:, 3] / 2, arr[:, 1] + arr[:, 3] / 2
    assert (arr[:, 3] > 0).all() and (x1 >= -1e-6).all() and (x2 <= 1 + 1e-6).all()
    assert len({i.kind for i in issues}) == len(issues)  # one issue per kind and file


def test_a_box_too_thin_for_float32_is_a_bad_value():
    """Found by the hypothesis test above: a width > 0 in float64 that underflows to 0 in float32."""
    arr, issues = parse_label_text("0 0.5 0.5 1.875140474448078e-56 0.2\n1 0.5 0.5 0.1 0.1", nc=4, file="f.txt")
    assert arr.shape == (1, 5) and arr[0, 0] == 1
    assert [i.kind for i in issues] == ["bad_value"]
