"""Every command spells shared options as YOLOv5 does (a registry test: a new command is checked too)."""

import pytest

from recipec.cli.commands.options import BATCH, CONF, IMGSZ, IOU

EXPECTED = {"imgsz": IMGSZ, "batch": BATCH, "conf": CONF, "iou": IOU}


def commands():
    import typer

    from recipec.cli import build_app

    group = typer.main.get_command(build_app())
    return sorted(group.commands.items())


@pytest.mark.parametrize("name, cmd", commands())
def test_shared_option_spellings_and_device_default(name, cmd):
    for p in cmd.params:
        if p.name in EXPECTED:
            assert set(EXPECTED[p.name]) <= set(p.opts), (name, p.name, p.opts)
        if p.name == "device":
            assert p.default == "auto", name


def test_the_commands_that_take_them():
    have = {n: {p.name for p in c.params} for n, c in commands()}
    assert {n for n, ps in have.items() if "imgsz" in ps} >= {"train", "val", "predict", "export", "bench"}
    assert {n for n, ps in have.items() if "device" in ps} >= {"train", "val", "predict"}
    assert {n for n, ps in have.items() if "exist_ok" in ps} >= {"train", "val", "predict"}
    assert {n for n, ps in have.items() if "sets" in ps} >= {"lint", "plan", "train"}
