"""yolo.safe_yaml: the bounded YAML reader behind data YAMLs, `recipec plan --data` and `--hyp` files."""

from __future__ import annotations

import os

import pytest

from yolo.safe_yaml import YamlLimitError, load_bounded, read_bounded


def bomb(levels: int, key: str) -> str:
    """Each level lists the previous one 9 times: 9**levels values in a few hundred bytes."""
    lines, prev = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"], "l0"
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*{prev}"] * 9) + "]")
        prev = f"l{i}"
    return "\n".join(lines) + f"\n{key}: *{prev}\n"


def test_shared_aliases_within_the_budget_load_as_safe_load_does():
    import yaml

    text = "a: &a [1, 2]\nb: [*a, *a]\nc: {k: *a}\n"
    assert load_bounded(text) == yaml.safe_load(text)
    assert load_bounded("") is None


def test_budget_counts_the_expanded_tree():
    text = bomb(3, "x")  # 9 + 9*9 + 9*81 leaves below the anchors, plus the collections
    with pytest.raises(YamlLimitError, match="expands to more than 500 values"):
        load_bounded(text, max_nodes=500)
    assert load_bounded(text, max_nodes=5000)["x"][0][0] == ["x"] * 9


def test_python_tags_are_not_constructed():
    import yaml

    with pytest.raises(yaml.YAMLError):
        load_bounded("!!python/object/apply:os.system ['echo hi']\n")


def test_read_bounded_refuses_pipes_and_big_files(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(YamlLimitError, match="not a regular file"):
        read_bounded(fifo)  # would block forever in open()
    big = tmp_path / "big.yaml"
    big.write_text("x" * 11)
    with pytest.raises(YamlLimitError, match="larger than 10 bytes"):
        read_bounded(big, max_bytes=10)
    with pytest.raises(FileNotFoundError):
        read_bounded(tmp_path / "absent.yaml")


def test_plan_data_yaml_and_hyp_file_refuse_an_alias_bomb(tmp_path):
    from engine.optim import HypError, load_hyp
    from recipec.cli.plan_data import DatasetError, count_train_images

    (tmp_path / "d.yaml").write_text(bomb(7, "train"))  # 9**7 = 4.8 M paths
    with pytest.raises(DatasetError, match="expands to more than"):
        count_train_images(tmp_path / "d.yaml")
    (tmp_path / "h.yaml").write_text(bomb(7, "lr0"))
    with pytest.raises(HypError, match="expands to more than"):
        load_hyp(tmp_path / "h.yaml")


def test_load_file_or_error_gives_one_message_per_failure(tmp_path):
    from yolo.safe_yaml import YamlFileError, load_file_or_error

    good = tmp_path / "h.yaml"
    good.write_text("lr0: 0.01\n")
    assert load_file_or_error(good) == {"lr0": 0.01}
    with pytest.raises(YamlFileError, match=r"^cannot read hyperparameter file .*nope\.yaml: No such file"):
        load_file_or_error(tmp_path / "nope.yaml", "hyperparameter file ")
    bad = tmp_path / "b.yaml"
    bad.write_text("a: [1\n")
    with pytest.raises(YamlFileError, match=r"b\.yaml is not valid YAML: "):
        load_file_or_error(bad)
