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


def _alias_bomb(levels: int) -> str:
    """Each level lists the previous one 9 times: a few hundred bytes that stand for 9**levels values."""
    lines, prev = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"], "l0"
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*{prev}"] * 9) + "]")
        prev = f"l{i}"
    return "\n".join(lines) + f"\nnames: *{prev}\ntrain: images\n"


def test_alias_bomb_is_refused_before_it_expands(tmp_path):
    y = _w(tmp_path / "bomb.yaml", _alias_bomb(6))  # 9**6 = 531,441 values behind 9 names
    with pytest.raises(DataError, match=r"bomb\.yaml.*expands to more than"):
        load_data_yaml(y)


def test_recursive_alias_and_deep_nesting_are_refused(tmp_path):
    with pytest.raises(DataError, match="contains it"):
        load_data_yaml(_w(tmp_path / "rec.yaml", "names: &n [a, *n]\n"))
    with pytest.raises(DataError, match="nested deeper than"):
        load_data_yaml(_w(tmp_path / "deep.yaml", "names: " + "[" * 5000 + "]" * 5000 + "\n"))


def test_oversized_data_yaml_is_refused_without_reading_it_whole(tmp_path, monkeypatch):
    import yolo.safe_yaml as sy

    monkeypatch.setattr(sy, "MAX_BYTES", 64)
    with pytest.raises(DataError, match="larger than 64 bytes"):
        load_data_yaml(_w(tmp_path / "big.yaml", "names: [a]\n# " + "x" * 100 + "\n"))


@pytest.mark.parametrize("text, msg", [
    ("names: [[1, 2], {a: b}, null]\n", r"names\[0\] must be a non-empty string, got \[1, 2\]"),
    ("names: [a, {a: b}]\n", r"names\[1\] must be a non-empty string, got \{'a': 'b'\}"),
    ("names: [a, null]\n", r"names\[1\] must be a non-empty string, got None"),
    ("names: [a, '']\n", r"names\[1\] must be a non-empty string"),
    ("names: [yes, no]\n", r"names\[0\] must be a non-empty string, got True.*quote"),
    ("names: {0: a, 1: [b]}\n", r"names\[1\] must be a non-empty string"),
    ("names: {0: a, x: b}\n", "keys must be integers"),
    ("names: a\n", "must be a list or a mapping"),
    ("nc: 20000\n", "nc=20000 is more than 10000 classes"),
    ("nc: 1000000000000\n", "more than 10000 classes"),
    ("nc: 0\n", "nc must be an integer >= 1"),
    ("nc: -3\n", "nc must be an integer >= 1"),
    ("nc: .inf\n", "nc must be an integer >= 1, got inf"),
    ("nc: .nan\n", "nc must be an integer >= 1"),
    ("nc: 2.5\nnames: [a, b]\n", "nc must be an integer >= 1, got 2.5"),
    ("names: [[1, 2]]\ntrain: [[a]]\n", r"names\[0\]"),
    ("names: [a]\ntrain: [images, [x]]\n", r"`train` entries must be paths \(strings\), got \['x'\]"),
])
def test_bad_names_and_nc_are_refused_naming_file_and_entry(tmp_path, text, msg):
    with pytest.raises(DataError, match=msg) as e:
        load_data_yaml(_w(tmp_path / "d.yaml", text))
    assert str(tmp_path / "d.yaml") in str(e.value)


def test_integer_names_are_kept_as_text(tmp_path):
    cfg = load_data_yaml(_w(tmp_path / "d.yaml", "names: [0, 1, '2']\n"))
    assert cfg.names == ("0", "1", "2")
    assert load_data_yaml(_w(tmp_path / "n.yaml", "nc: 10000\n")).nc == 10000
