"""Pascal VOC -> YOLO conversion: convention, difficult objects, classes, splits, bad files."""

from pathlib import Path

import pytest
from PIL import Image

from yolo.data import YoloDataset, list_images, load_data_yaml
from yolo.data.voc import VOC_NAMES, VocError, convert_voc, voc_box_to_yolo

XML = """<annotation><size><width>{w}</width><height>{h}</height><depth>3</depth></size>{objs}</annotation>"""
OBJ = ("<object><name>{n}</name><difficult>{d}</difficult><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>"
       "<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>")


def test_box_convention_one_based():
    # a box covering the whole 100x50 image in VOC terms: 1..100, 1..50
    x, y, w, h = voc_box_to_yolo(1, 1, 100, 50, 100, 50)
    assert (x, y) == pytest.approx((0.495, 0.49)) and (w, h) == pytest.approx((0.99, 0.98))
    # clipped when it leaves the image
    x, y, w, h = voc_box_to_yolo(1, 1, 120, 50, 100, 50)
    assert x + w / 2 == pytest.approx(1.0) and x - w / 2 == pytest.approx(0.0)


def test_sample_devkit_default_voc_classes(external_dir, tmp_path):
    res = convert_voc(external_dir / "voc_sample_dog/VOCdevkit", tmp_path / "out")
    assert res.sets == {"trainval2007": 30, "test2007": 10} and res.splits == {"train": 30, "val": 10} and res.boxes == 40
    assert res.names == list(VOC_NAMES)
    lab = (tmp_path / "out/labels/trainval2007/000002.txt").read_text().split()
    # 000002.xml: 500x375, box 117,11,353,365 -> ((117+353)/2-1)/500, ((11+365)/2-1)/375, 236/500, 354/375
    assert lab[0] == "11"
    assert [float(v) for v in lab[1:]] == pytest.approx([0.468, 187 / 375, 0.472, 354 / 375], abs=1e-6)
    cfg = load_data_yaml(res.yaml_path)
    assert cfg.nc == 20 and len(list_images(cfg, "train")) == 30 and len(list_images(cfg, "val")) == 10
    ds = YoloDataset.from_yaml(cfg, "val", imgsz=160)
    assert not ds.scan.issues and sum(len(lb) for lb in ds.labels) == 10
    # the shared images were copied, not linked
    src = external_dir / "voc_sample_dog/VOCdevkit/VOC2007/JPEGImages/000002.jpg"
    assert src.stat().st_nlink == 1


def test_sample_devkit_with_names(external_dir, tmp_path):
    res = convert_voc(external_dir / "voc_sample_dog/VOCdevkit", tmp_path / "o", names=["dog"], sets=["test"])
    assert res.names == ["dog"] and res.sets == {"test2007": 10}
    assert load_data_yaml(res.yaml_path).names == ("dog",)
    assert (tmp_path / "o/labels/test2007/000001.txt").read_text().startswith("0 ")


def _devkit(tmp_path: Path, anns: dict[str, str], sizes: dict[str, tuple[int, int]], sets: dict[str, list[str]],
            year: str = "2012"):
    d = tmp_path / "VOCdevkit" / f"VOC{year}"
    for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    for i, text in anns.items():
        (d / "Annotations" / f"{i}.xml").write_text(text)
    for i, wh in sizes.items():
        Image.new("RGB", wh, (1, 2, 3)).save(d / "JPEGImages" / f"{i}.jpg")
    for s, ids in sets.items():
        (d / "ImageSets/Main" / f"{s}.txt").write_text("\n".join(ids) + "\n")
    return tmp_path / "VOCdevkit"


def test_difficult_unknown_bad_xml_and_size_mismatch(tmp_path):
    anns = {
        "a": XML.format(w=100, h=80, objs=OBJ.format(n="widget", d=0, b=(10, 10, 50, 40))
                        + OBJ.format(n="gadget", d=1, b=(5, 5, 20, 20))),
        "b": XML.format(w=999, h=80, objs=OBJ.format(n="gadget", d=0, b=(1, 1, 100, 80))),
        "c": "<annotation><object>",
        "d": XML.format(w=100, h=80, objs=""),
    }
    devkit = _devkit(tmp_path, anns, {"a": (100, 80), "b": (100, 80), "c": (100, 80), "d": (100, 80)},
                     {"train": ["a", "b", "c"], "val": ["d", "e"]})
    res = convert_voc(devkit, tmp_path / "out")
    assert res.names == ["gadget", "widget"] and "sorted" in res.names_source
    assert res.difficult_skipped == 1 and res.boxes == 2
    assert res.sets == {"train2012": 2, "val2012": 1} and res.split_boxes == {"train": 2, "val": 0}
    text = "\n".join(f"{f}: {m}" for f, m in res.problems)
    assert "c.xml: unreadable XML" in text and "e.jpg: image missing" in text and "999x80" in text
    assert (tmp_path / "out/labels/val2012/d.txt").read_text() == ""
    cfg = load_data_yaml(res.yaml_path)
    assert [p.stem for p in list_images(cfg, "val")] == ["d"]
    res2 = convert_voc(devkit, tmp_path / "out2", names=["widget"], keep_difficult=True)
    assert res2.boxes == 1 and any("'gadget' not in the class list" in m for _, m in res2.problems)


def test_unusable_devkit_is_a_clear_error(tmp_path):
    with pytest.raises(VocError, match="not found"):
        convert_voc(tmp_path / "nope", tmp_path / "out")
    (tmp_path / "VOCdevkit" / "VOC2007").mkdir(parents=True)
    with pytest.raises(VocError, match="ImageSets"):
        convert_voc(tmp_path / "VOCdevkit", tmp_path / "out")
    devkit = _devkit(tmp_path / "x", {}, {}, {"train": ["a"]})
    with pytest.raises(VocError, match="no ImageSets/Main/test.txt"):
        convert_voc(devkit, tmp_path / "out", sets=["test"])


def test_bundled_voc_yaml_matches_the_converter_layout(tmp_path, monkeypatch):
    obj = OBJ.format(n="dog", d=0, b=(2, 2, 20, 20))
    for year, sets in (("2007", ("train", "val", "test")), ("2012", ("train", "val"))):
        ids = {s: [f"{year}_{s}"] for s in sets}
        root = _devkit(tmp_path / "src", {i[0]: XML.format(w=32, h=32, objs=obj) for i in ids.values()},
                       {i[0]: (32, 32) for i in ids.values()}, ids, year=year)
    res = convert_voc(root, tmp_path / "datasets" / "VOC")
    assert sorted(res.sets) == ["test2007", "train2007", "train2012", "val2007", "val2012"]
    mine = load_data_yaml(res.yaml_path)
    assert len(list_images(mine, "train")) == 4 and len(list_images(mine, "val")) == 1
    monkeypatch.chdir(tmp_path)  # the bundled VOC.yaml's `path: datasets/VOC` is read against the cwd
    cfg = load_data_yaml("VOC.yaml")
    assert cfg.names == mine.names
    assert len(list_images(cfg, "train")) == 4 and [p.name for p in list_images(cfg, "val")] == ["2007_test.jpg"]
