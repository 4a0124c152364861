"""The synthetic dataset is deterministic, valid YOLO data, and has two distinct tasks."""

import hashlib

from yolo.data import load_data_yaml
from yolo.data.scan import scan
from yolo.data.synthetic import TASKS, make_synthetic
from yolo.data.yaml import list_images


def _digest(root):
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


def test_deterministic_and_seed_dependent(tmp_path):
    a = make_synthetic(tmp_path / "a", n_train=6, n_val=2, seed=1).parent
    b = make_synthetic(tmp_path / "b", n_train=6, n_val=2, seed=1).parent
    c = make_synthetic(tmp_path / "c", n_train=6, n_val=2, seed=2).parent
    assert _digest(a) == _digest(b) != _digest(c)


def test_layout_yaml_and_labels_are_clean(tmp_path):
    y = make_synthetic(tmp_path / "s", task="shapes-b", n_train=12, n_val=4, seed=0)
    cfg = load_data_yaml(y)
    assert cfg.names == tuple(c.name for c in TASKS["shapes-b"])
    for split, n in (("train", 12), ("val", 4)):
        files = list_images(cfg, split)
        res = scan(files, cfg.nc)
        assert len(files) == n and not res.issues
        assert all(len(lb) >= 1 for lb in res.labels)
        assert all(160 <= w <= 320 and 160 <= h <= 320 for w, h in res.shapes)
    classes = {int(c) for lb in scan(list_images(cfg, "train"), cfg.nc).labels for c in lb[:, 0]}
    assert classes == set(range(cfg.nc))


def test_two_tasks_have_disjoint_classes():
    a = {c.name for c in TASKS["shapes-a"]}
    b = {c.name for c in TASKS["shapes-b"]}
    assert a and b and not (a & b)
