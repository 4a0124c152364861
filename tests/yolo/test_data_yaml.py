"""Data YAML parsing, path resolution, label paths and the missing-data message."""

from pathlib import Path

import pytest

from yolo.data.yaml import DataError, img2label_path, list_images, load_data_yaml


def _w(p: Path, text: str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def _img(p: Path, size=(32, 24)) -> Path:
    from PIL import Image

    p.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (10, 20, 30)).save(p)
    return p


def test_img2label_path_replaces_last_images_dir():
    assert img2label_path("/d/images/x/images/a.b.jpg") == Path("/d/images/x/labels/a.b.txt")
    assert img2label_path("/d/images/train/a.png") == Path("/d/labels/train/a.txt")
    assert img2label_path("images/a.png") == Path("labels/a.txt")
    assert img2label_path("/d/pics/a.png") == Path("/d/pics/a.txt")


def test_relative_path_resolves_against_yaml_folder(tmp_path):
    _img(tmp_path / "ds/images/train/a.jpg")
    _img(tmp_path / "ds/images/val/b.jpg")
    y = _w(tmp_path / "cfg/data.yaml", "path: ../ds\ntrain: images/train\nval: [images/val]\nnames: {0: cat, 1: dog}\n")
    cfg = load_data_yaml(y)
    assert cfg.root == (tmp_path / "ds").resolve()
    assert cfg.names == ("cat", "dog") and cfg.nc == 2
    assert [p.name for p in list_images(cfg, "train")] == ["a.jpg"]
    assert [p.name for p in list_images(cfg, "val")] == ["b.jpg"]


def test_txt_list_and_list_of_entries(tmp_path):
    a = _img(tmp_path / "images/a.jpg")
    _img(tmp_path / "images/b.png")
    _img(tmp_path / "more/images/c.jpg")
    _w(tmp_path / "list.txt", "./images/b.png\n\n" + str(a) + "\n")
    y = _w(tmp_path / "d.yaml", "train: [list.txt, more/images]\nnc: 1\nnames: [x]\n")
    got = [p.name for p in list_images(load_data_yaml(y), "train")]
    assert sorted(got) == ["a.jpg", "b.png", "c.jpg"]


@pytest.mark.parametrize("text, msg", [
    ("names: [a, b]\nnc: 3\n", "nc=3 but 2 names"),
    ("names: {0: a, 2: b}\n", "without gaps"),
    ("- just a list\n", "must be a mapping"),
    ("train: x\n", "neither `names` nor `nc`"),
    ("names: [a\n", "cannot read data YAML"),
])
def test_malformed_yaml_is_a_clear_error(tmp_path, text, msg):
    with pytest.raises(DataError, match=msg):
        load_data_yaml(_w(tmp_path / "d.yaml", text))


def test_missing_data_says_where_and_never_downloads(tmp_path):
    y = _w(tmp_path / "d.yaml", "path: nowhere\nval: images/val\nnames: [a]\n"
           "download: |\n  import os\n  os.system('touch PWNED')\n")
    with pytest.raises(DataError) as e:
        list_images(load_data_yaml(y), "val")
    msg = str(e.value)
    assert str((tmp_path / "nowhere/images/val").resolve()) in msg
    assert "never runs" in msg
    assert not (tmp_path / "PWNED").exists()


def test_missing_data_names_the_url(tmp_path):
    y = _w(tmp_path / "d.yaml", "val: v\nnames: [a]\ndownload: https://example.com/d.zip\n")
    with pytest.raises(DataError, match="https://example.com/d.zip"):
        list_images(load_data_yaml(y), "val")


def test_missing_split_and_missing_file(tmp_path):
    y = _w(tmp_path / "d.yaml", "train: t\nnames: [a]\n")
    with pytest.raises(DataError, match="no `val:` split"):
        list_images(load_data_yaml(y), "val")
    with pytest.raises(DataError, match="not found"):
        load_data_yaml(tmp_path / "absent.yaml")


def test_bundled_voc_yaml_has_20_classes_and_instructions():
    cfg = load_data_yaml("VOC.yaml")
    assert cfg.nc == 20 and cfg.names[0] == "aeroplane" and cfg.names[-1] == "tvmonitor"
    assert cfg.download is None and "recipec data voc" in (cfg.instructions or "")
    assert set(cfg.splits) == {"train", "val"}
