"""`convert_voc` on VOC-format data as people have it: layouts, image lookup, the seeded split, per-file warnings,
bad input (one line, nothing written), and the real BCCD folder."""

import random
from pathlib import Path

import pytest
from PIL import Image

from recipec.cli import main
from yolo.data import list_images, load_data_yaml
from yolo.data import voc as V
from yolo.data.voc import VocError, convert_voc, looks_like_voc


def xml(objs=(), w=40, h=30, filename=None):
    """One annotation; objs: (name, xmin, ymin, xmax, ymax)."""
    o = "".join(f"<object><name>{n}</name><difficult>0</difficult><bndbox><xmin>{a}</xmin><ymin>{b}</ymin>"
                f"<xmax>{c}</xmax><ymax>{d}</ymax></bndbox></object>" for n, a, b, c, d in objs)
    f = f"<filename>{filename}</filename>" if filename else ""
    return f"<annotation>{f}<size><width>{w}</width><height>{h}</height></size>{o}</annotation>"


def image(path: Path, w=40, h=30):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (w, h), (9, 9, 9)).save(path, format="JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else None)


def flat(root: Path, n=10, xml_dir="annotations", img_dir="images", cls=("cell",)):
    """n images, each with one box per class; XMLs in root/xml_dir, images in root/img_dir ("" = root)."""
    for k in range(n):
        (root / xml_dir).mkdir(parents=True, exist_ok=True)
        (root / xml_dir / f"im{k:02d}.xml").write_text(xml([(c, 2, 2, 20, 20) for c in cls], filename=f"im{k:02d}.jpg"))
        image(root / img_dir / f"im{k:02d}.jpg")
    return root


def dataset(root: Path, lists: dict[str, list[str]]):
    """A VOC dataset folder (Annotations/, JPEGImages/, ImageSets/Main/<set>.txt)."""
    flat(root, 0)
    for s, ids in lists.items():
        for i in ids:
            (root / "Annotations").mkdir(parents=True, exist_ok=True)
            (root / "Annotations" / f"{i}.xml").write_text(xml([("rbc", 2, 2, 20, 20), ("wbc", 5, 5, 30, 25)]))
            image(root / "JPEGImages" / f"{i}.jpg")
        (root / "ImageSets/Main").mkdir(parents=True, exist_ok=True)
        (root / "ImageSets/Main" / f"{s}.txt").write_text("".join(f"{i}\n" for i in ids))
    (root / "ImageSets/Main/rbc_train.txt").write_text("a 1\n")  # a class list: not a set
    return root


def split_stems(res, split):
    return sorted(p.stem for p in list_images(load_data_yaml(res.yaml_path), split))


LISTS = {"train": ["a", "b", "c"], "val": ["d"], "test": ["e", "f"]}


@pytest.mark.parametrize("given", ["VOCdevkit", "VOCdevkit/Cells", "."])
def test_devkit_of_dataset_folders_or_the_folder_itself(tmp_path, given):
    dataset(tmp_path / "VOCdevkit/Cells", LISTS)
    res = convert_voc(tmp_path / given, tmp_path / "out")
    assert res.sets == {"train_Cells": 3, "val_Cells": 1, "test_Cells": 2}
    assert res.splits == {"train": 4, "val": 2} and res.split_boxes == {"train": 8, "val": 4}
    assert res.names == ["rbc", "wbc"] and not res.problems
    assert split_stems(res, "train") == ["a", "b", "c", "d"] and split_stems(res, "val") == ["e", "f"]
    assert "train: 4 images, 8 boxes (train_Cells: 3 images + val_Cells: 1 images)" in res.report_lines()


def test_devkit_mixing_voc_years_and_other_dataset_folders(tmp_path):
    dataset(tmp_path / "VOCdevkit/VOC2007", {"train": ["a"], "test": ["b"]})
    dataset(tmp_path / "VOCdevkit/Cells", {"train": ["c"], "val": ["d"]})
    flat(tmp_path / "VOCdevkit/Extra", 5, "Annotations", "JPEGImages")  # no lists: split by --val-fraction
    res = convert_voc(tmp_path / "VOCdevkit", tmp_path / "out")
    assert res.sets == {"train2007": 1, "test2007": 1, "train_Cells": 1, "val_Cells": 1, "train_Extra": 4,
                        "val_Extra": 1}
    assert res.split_keys == {"train": ["train_Extra", "train_Cells", "val_Cells", "train2007"],
                              "val": ["val_Extra", "test2007"]}


def test_lists_without_train_val_test_are_split_by_val_fraction(tmp_path):
    """CVAT's VOC export: ImageSets/Main/default.txt only."""
    src = dataset(tmp_path / "cvat", {"default": ["a", "b", "c", "d", "e"]})
    res = convert_voc(src, tmp_path / "out", val_fraction=0.4)
    assert res.sets == {"train_cvat": 3, "val_cvat": 2} and res.splits == {"train": 3, "val": 2}
    res = convert_voc(src, tmp_path / "out", sets=["default"])  # named: converted as it is, training and validating
    assert res.sets == {"default_cvat": 5} and res.splits == {"train": 5, "val": 5}


def test_voc2007_trainval_and_test_archives_side_by_side(tmp_path):
    dataset(tmp_path / "VOCtrainval_06-Nov-2007/VOCdevkit/VOC2007", {"train": ["a", "b"], "val": ["c"]})
    dataset(tmp_path / "VOCtest_06-Nov-2007/VOCdevkit/VOC2007", {"test": ["d"]})
    res = convert_voc(tmp_path, tmp_path / "out")
    assert res.sets == {"train2007": 2, "val2007": 1, "test2007": 1} and res.splits == {"train": 3, "val": 1}
    dataset(tmp_path / "VOCtest_06-Nov-2007/VOCdevkit/VOC2007", {"train": ["e"]})  # the same set twice
    with pytest.raises(VocError, match="both give the set train2007; convert them separately"):
        convert_voc(tmp_path, tmp_path / "out2")
    assert not (tmp_path / "out2").exists()


@pytest.mark.parametrize("xml_dir,img_dir", [("annotations", "images"), ("Annotations", "JPEGImages"),
                                             ("", "images"), ("annotations", ""), ("", "")])
def test_flat_folder_split_by_val_fraction(tmp_path, xml_dir, img_dir):
    src = flat(tmp_path / "my data", 10, xml_dir, img_dir)
    res = convert_voc(src, tmp_path / "out")
    assert res.splits == {"train": 8, "val": 2} and res.split_boxes == {"train": 8, "val": 2}
    assert res.sets == {"train_my_data": 8, "val_my_data": 2} and not res.problems
    assert set(split_stems(res, "train")) | set(split_stems(res, "val")) == {f"im{k:02d}" for k in range(10)}
    assert (tmp_path / "out/labels/val_my_data").is_dir()


def test_xmls_one_folder_down_in_annotations(tmp_path):
    """Oxford-IIIT Pet: annotations/xmls/*.xml (beside annotations/trimaps/), images/*.jpg."""
    src = flat(tmp_path / "pets", 5, "annotations/xmls", "images")
    (src / "annotations/trimaps").mkdir()
    (src / "annotations/trainval.txt").write_text("im00 1 1 1\n")
    assert looks_like_voc(src)
    assert convert_voc(src, tmp_path / "out").splits == {"train": 4, "val": 1}


def test_split_is_a_seeded_shuffle_of_the_sorted_ids(tmp_path):
    src = flat(tmp_path / "d", 20)
    ids = sorted(f"im{k:02d}" for k in range(20))
    vals = {}
    for seed, frac in ((0, 0.2), (1, 0.2), (0, 0.5)):
        res = convert_voc(src, tmp_path / f"o{seed}{frac}", seed=seed, val_fraction=frac)
        want = ids[:]
        random.Random(seed).shuffle(want)
        assert split_stems(res, "val") == sorted(want[:round(20 * frac)])
        vals[seed, frac] = split_stems(res, "val")
    assert vals[0, 0.2] != vals[1, 0.2] and len(vals[0, 0.5]) == 10
    again = convert_voc(src, tmp_path / "again", seed=0)
    assert split_stems(again, "val") == vals[0, 0.2]
    two = convert_voc(flat(tmp_path / "two", 2), tmp_path / "o2", val_fraction=0.01)
    assert two.splits == {"train": 1, "val": 1}  # at least one image each side
    one = convert_voc(flat(tmp_path / "one", 1), tmp_path / "o1")
    assert one.splits == {"train": 1, "val": 1}  # a single image trains and validates


def test_train_valid_test_folders(tmp_path):
    for name, n in (("train", 4), ("valid", 2), ("test", 3)):
        flat(tmp_path / "export" / name, n, "", "")
    res = convert_voc(tmp_path / "export", tmp_path / "out")
    assert res.sets == {"test_export": 3, "train_export": 4, "val_export": 2}
    assert res.splits == {"train": 6, "val": 3}
    res = convert_voc(tmp_path / "export", tmp_path / "out", sets=["train", "val"])
    assert res.splits == {"train": 4, "val": 2}


def test_image_found_by_filename_then_stem_any_extension(tmp_path):
    src = tmp_path / "d"
    (src / "annotations").mkdir(parents=True)
    box = [("cell", 2, 2, 20, 20)]
    (src / "annotations/a.xml").write_text(xml(box, filename="Photo 1.JPG"))  # another name, upper case
    image(src / "images/photo 1.jpg")
    (src / "annotations/b.xml").write_text(xml(box, filename="gone.jpg"))  # <filename> wrong: the stem is used
    image(src / "images/b.PNG")
    (src / "annotations/c.xml").write_text(xml(box))  # no <filename>
    image(src / "images/c.webp")
    image(src / "images/c.jpeg")  # two candidates: .jpeg before .webp (IMAGE_EXTS order)
    (src / "annotations/d.XML").write_text(xml(box, filename="shot"))  # no extension in <filename>
    image(src / "images/shot.png")
    (src / "annotations/e.xml").write_text(xml(box, filename="scan.jpg"))  # re-encoded since: the name's stem
    image(src / "images/scan.bmp")
    image(src / "images/e.jpg")
    res = convert_voc(src, tmp_path / "out", link="symlink")
    assert not res.problems and sum(res.splits.values()) == 5
    out = sorted(p.name for p in (tmp_path / "out/images").rglob("*.*"))
    assert out == ["a.jpg", "b.png", "c.jpeg", "d.png", "e.bmp"]
    assert (tmp_path / "out/images/train_d/a.jpg").resolve() == (src / "images/photo 1.jpg").resolve() or \
        (tmp_path / "out/images/val_d/a.jpg").resolve() == (src / "images/photo 1.jpg").resolve()


def test_each_warning_kind_is_named_counted_and_never_fatal(tmp_path):
    src = flat(tmp_path / "d", 4)
    a = src / "annotations"
    (a / "outside.xml").write_text(xml([("cell", -5, 2, 20, 20), ("cell", 30, 2, 60, 20), ("cell", 0, 1, 41, 31)]))
    image(src / "images/outside.jpg")
    (a / "flat.xml").write_text(xml([("cell", 5, 5, 5, 9), ("cell", 9, 9, 4, 12), ("cell", 50, 40, 60, 50),
                                     ("cell", 2, 2, 9, 9)]))
    image(src / "images/flat.jpg")
    (a / "broken.xml").write_text("<annotation><object>")
    image(src / "images/broken.jpg")
    (a / "nan.xml").write_text(xml([("cell", "x", 1, 2, 3)]))
    (a / "lonely.xml").write_text(xml([("cell", 2, 2, 9, 9)]))  # no image anywhere
    res = convert_voc(src, tmp_path / "out")
    w = {k: [f for f, _ in v] for k, v in res.warnings.items()}
    assert w[V.OUTSIDE] == ["annotations/outside.xml"] * 2  # -5 and 60 leave the image; 0..41 is within a pixel
    assert w[V.DEGENERATE] == ["annotations/flat.xml"] * 3  # zero width, inverted, wholly outside
    assert sorted(w[V.BAD_XML]) == ["annotations/broken.xml", "annotations/nan.xml"]
    assert sorted(w[V.MISSING_IMAGE]) == ["images/lonely.jpg", "images/nan.jpg"]
    assert sum(res.splits.values()) == 6 and res.boxes == 4 + 3 + 1
    lines = res.report_lines()
    assert [ln for ln in lines if ln.startswith("warning:")] == [  # grouped by kind, in a fixed order
        "warning: image missing (XML skipped): 2", "warning: unreadable XML (skipped): 2",
        "warning: box outside the image (clipped): 2", "warning: degenerate box (skipped): 3"]
    assert any("nan.xml: object 'cell': <xmin> is not a number" in ln for ln in lines)
    labels = {p.stem: p.read_text().split() for p in (tmp_path / "out/labels").rglob("*.txt")}
    assert all(0 <= float(v) <= 1 for v in labels["outside"][1::5] + labels["outside"][3::5])


def test_names_skip_other_classes_per_class_or_fail_when_nothing_is_left(tmp_path):
    src = flat(tmp_path / "d", 3, cls=("rbc", "wbc", "wbc", "platelet"))
    res = convert_voc(src, tmp_path / "out", names=["rbc"])
    assert res.boxes == 3 and res.names == ["rbc"]
    assert [m for _, m in res.warnings[V.UNKNOWN_CLASS]] == [
        "3 objects of class 'platelet' not in the class list; skipped",
        "6 objects of class 'wbc' not in the class list; skipped"]
    with pytest.raises(VocError, match=r"no object is of a class in --names \(dog, cat\): the XMLs name platelet, rbc"):
        convert_voc(src, tmp_path / "out2", names=["dog", "cat"])
    assert not (tmp_path / "out2").exists()


def bad_inputs(tmp_path: Path):
    (tmp_path / "empty").mkdir(parents=True)
    image(tmp_path / "only_images/images/a.jpg")
    (tmp_path / "empty_ann/Annotations").mkdir(parents=True)
    flat(tmp_path / "no_images", 3, "annotations", "images")
    for p in (tmp_path / "no_images/images").iterdir():
        p.unlink()
    return [
        ("empty", {}, "no VOC annotations in"),
        ("only_images", {}, "no VOC annotations in"),
        ("empty_ann", {}, "no XML annotation files in"),
        ("no_images", {}, "no image found for any of the 3 XML files"),
        ("missing", {}, "source folder not found"),
        ("no_images", {"val_fraction": 0.0}, "--val-fraction must be between 0 and 1"),
        ("no_images", {"val_fraction": 1.0}, "--val-fraction must be between 0 and 1"),
        ("no_images", {"val_fraction": -0.5}, "--val-fraction must be between 0 and 1"),
        ("no_images", {"link": "move"}, "--link must be one of"),
    ]


def test_bad_input_is_one_line_and_writes_nothing(tmp_path):
    for name, kw, msg in bad_inputs(tmp_path / "src"):
        with pytest.raises(VocError) as e:
            convert_voc(tmp_path / "src" / name, tmp_path / "out", **kw)
        assert msg in str(e.value) and "\n" not in str(e.value), (name, kw, str(e.value))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["src"], name


def test_bad_input_through_the_cli_exits_2(tmp_path, capsys):
    bad_inputs(tmp_path)
    for args in (["empty"], ["no_images"], ["no_images", "--val-fraction", "1.5"]):
        with pytest.raises(SystemExit) as e:
            main(["data", "voc", str(tmp_path / args[0]), "--out", str(tmp_path / "out"), *args[1:]])
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def test_cli_flat_folder_summary(tmp_path, capsys):
    flat(tmp_path / "d", 10)
    with pytest.raises(SystemExit) as e:
        main(["data", "voc", str(tmp_path / "d"), "--out", str(tmp_path / "out"), "--val-fraction", "0.3",
              "--seed", "4", "--link", "symlink"])
    cap = capsys.readouterr()
    assert e.value.code == 0 and cap.out.strip() == str(tmp_path / "out/data.yaml")
    assert "train: 7 images, 7 boxes (train_d: 7 images)" in cap.err and "val: 3 images, 3 boxes" in cap.err


def test_out_folder_is_replaced_only_when_safe(tmp_path, monkeypatch):
    src = flat(tmp_path / "d", 5)
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "notes.txt").write_text("precious")
    with pytest.raises(VocError, match="did not write"):
        convert_voc(src, keep)
    assert [p.name for p in keep.iterdir()] == ["notes.txt"]
    with pytest.raises(VocError, match="holds the source folder"):
        convert_voc(src, tmp_path)
    out = tmp_path / "out"
    out.mkdir()  # empty: fine
    convert_voc(src, out, val_fraction=0.2)
    (out / "stale.txt").write_text("from an earlier run")
    res = convert_voc(src, out, val_fraction=0.4)  # an earlier conversion: replaced whole
    assert res.splits["val"] == 2 and not (out / "stale.txt").exists()

    def fail(*a):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(V, "place", fail)
    with pytest.raises(VocError, match="cannot write .*No space left on device"):
        convert_voc(src, out, val_fraction=0.6)
    assert len(split_stems(res, "val")) == 2  # the earlier conversion is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "mine", "out"]  # no temp folder left


def test_looks_like_voc(tmp_path):
    dataset(tmp_path / "VOCdevkit/Cells", {"train": ["a"]})
    flat(tmp_path / "flat", 1, "", "")
    for name in ("one", "two"):
        flat(tmp_path / "split" / ("train" if name == "one" else "valid"), 1, "", "")
    image(tmp_path / "yolo/images/train/a.jpg")
    (tmp_path / "yolo/labels/train").mkdir(parents=True)
    (tmp_path / "data.yaml").write_text("path: yolo\ntrain: images/train\nval: images/train\nnames: [a]\n")
    (tmp_path / "empty").mkdir()
    for p in ("VOCdevkit", "VOCdevkit/Cells", "flat", "split", "."):
        assert looks_like_voc(tmp_path / p), p
    for p in ("yolo", "data.yaml", "empty", "missing"):
        assert not looks_like_voc(tmp_path / p), p


def test_real_bccd_split_lists(external_dir, tmp_path):
    bccd = external_dir / "bccd/VOCdevkit/BCCD"
    if not bccd.is_dir():
        pytest.skip("bccd is absent")
    assert looks_like_voc(bccd) and looks_like_voc(bccd.parent)
    res = convert_voc(bccd, tmp_path / "bccd", link="symlink")
    assert res.names == ["Platelets", "RBC", "WBC"]
    assert res.sets == {"train_BCCD": 205, "val_BCCD": 87, "test_BCCD": 72}
    assert res.splits == {"train": 292, "val": 72} and res.split_boxes == {"train": 3941, "val": 945}
    assert sorted(f for f, _ in res.warnings.pop(V.DEGENERATE)) == [
        "Annotations/BloodImage_00338.xml", "Annotations/BloodImage_00343.xml"]
    assert not res.warnings
    cfg = load_data_yaml(res.yaml_path)
    assert len(list_images(cfg, "train")) == 292 and len(list_images(cfg, "val")) == 72
    assert (tmp_path / "bccd/images/test_BCCD/BloodImage_00007.jpg").is_symlink()
