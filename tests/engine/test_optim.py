"""Optimizer param groups in YOLOv5-fork order and --hyp loading."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from engine import optim


def _toy():
    return nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.Conv2d(4, 2, 1), nn.Linear(2, 2))


def test_groups_order_and_decay():
    m = _toy()
    opt = optim.build_optimizer(m, optim.load_hyp(None))
    names = [g["name"] for g in opt.param_groups]
    assert names == ["bn", "weights", "biases"]
    bn, w, b = (g["params"] for g in opt.param_groups)
    assert bn == [m[1].weight]
    assert w == [m[0].weight, m[2].weight, m[3].weight]
    assert b == [m[1].bias, m[2].bias, m[3].bias]
    assert [g["weight_decay"] for g in opt.param_groups] == [0.0, 0.0005, 0.0]
    assert all(g["momentum"] == 0.937 and g["nesterov"] for g in opt.param_groups)
    total = sum(len(g["params"]) for g in opt.param_groups)
    assert total == len(list(m.parameters()))


def test_hyp_file(tmp_path):
    f = tmp_path / "hyp.yaml"
    f.write_text("lr0: 0.02\nweight_decay: 0.001\nmomentum: 0.9\n")
    hyp = optim.load_hyp(f)
    opt = optim.build_optimizer(_toy(), hyp)
    assert opt.param_groups[1]["weight_decay"] == 0.001 and opt.param_groups[0]["lr"] == 0.02


@pytest.mark.parametrize("text, msg", [("lr0: fast\n", "finite number"), ("- 1\n", "mapping"),
                                       ("lr0: -1\n", ">= 0"), ("a: [\n", "not valid YAML")])
def test_bad_hyp(tmp_path, text, msg):
    f = tmp_path / "hyp.yaml"
    f.write_text(text)
    with pytest.raises(optim.HypError, match=msg):
        optim.load_hyp(f)


def test_missing_hyp(tmp_path):
    with pytest.raises(optim.HypError, match="cannot read"):
        optim.load_hyp(tmp_path / "nope.yaml")


def test_set_lrs():
    opt = optim.build_optimizer(_toy(), optim.load_hyp(None))
    optim.set_lrs(opt, (0.1, 0.2, 0.3))
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.2, 0.3]
    with pytest.raises(ValueError):
        optim.set_lrs(opt, (0.1,))


def test_ema_decay_and_masks():
    from engine.ema import ModelEMA

    torch.manual_seed(0)
    m = _toy()
    ema = ModelEMA(m)
    assert ema.decay_at(1) == pytest.approx(0.9999 * (1 - 2.718281828459045 ** (-1 / 2000)))
    mask = torch.rand_like(m[0].weight) > 0.5
    with torch.no_grad():
        m[0].weight.mul_(mask)
        m[0].weight.add_(0.1)  # model is no longer zero where masked: the EMA must still be
    ema.update(m, {"0.weight": mask})
    assert torch.all(ema.ema[0].weight[~mask] == 0)
    assert torch.any(ema.ema[0].weight[mask] != 0)
    assert ema.updates == 1
