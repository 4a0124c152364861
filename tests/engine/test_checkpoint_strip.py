"""`engine.checkpoint.strip_checkpoint`: the final form of last.pt / best.pt (no optimizer, EMA, RNG or runtime
state; masks as bits; FP16 weights unless QAT), idempotent, masks and QAT state recoverable."""

from __future__ import annotations

import torch

from engine import checkpoint as ck


def _full(masked: bool = True, qat: dict | None = None) -> dict:
    g = torch.Generator().manual_seed(0)
    w = torch.randn(64, 32, 3, 3, generator=g)
    mask = torch.rand(w.shape, generator=g) > 0.7
    w = w * mask
    model = {"model.0.conv.weight": w, "model.0.bn.running_var": torch.rand(64, generator=g) + 0.5,
             "model.0.bn.num_batches_tracked": torch.tensor(7)}
    ema = {k: v.clone() for k, v in model.items()}
    ema["model.0.conv.weight"] = w * 0.5
    return {"model": model, "ema": ema, "optimizer": {"state": {0: {"momentum_buffer": w.clone()}}},
            "runtime": {"m": {"masks": mask.clone()}}, "rng": ck.rng_state(), "updates": 9, "step": 4,
            "finished": True, "masks": {"model.0.conv.weight": mask} if masked else {}, "qat": qat}


def test_strip_checkpoint_drops_resume_state_halves_weights_keeps_masks(tmp_path):
    p = tmp_path / "last.pt"
    full = _full()
    ck.save_checkpoint(p, full)
    before = p.stat().st_size
    ck.strip_checkpoint(p, checkpoint_recipe="r")
    raw = torch.load(p, weights_only=True)
    assert raw["optimizer"] is None and raw["ema"] is None and raw["rng"] is None and raw["runtime"] is None
    assert raw["stripped"] and raw["checkpoint_recipe"] == "r" and raw["masks"] == {}  # masks only as bits
    w = raw["model"]["model.0.conv.weight"]
    assert w.dtype == torch.float16 and raw["model"]["model.0.bn.num_batches_tracked"].dtype == torch.int64
    assert torch.equal(w.float(), (full["ema"]["model.0.conv.weight"]).half().float())  # the EMA weights
    d = ck.load_checkpoint(p)
    mask = full["masks"]["model.0.conv.weight"]
    assert torch.equal(d["masks"]["model.0.conv.weight"], mask)  # unpacked on load, exactly
    assert torch.equal(d["model"]["model.0.conv.weight"] != 0, mask)  # every pruned zero is still exactly zero
    assert p.stat().st_size < before / 3  # no optimizer, runtime copy of the masks, EMA copy; FP16


def test_strip_checkpoint_is_idempotent(tmp_path):
    p = tmp_path / "best.pt"
    ck.save_checkpoint(p, _full())
    ck.strip_checkpoint(p)
    once = ck.load_checkpoint(p)
    ck.strip_checkpoint(p)
    twice = ck.load_checkpoint(p)
    for k in ("model", "masks"):
        assert once[k].keys() == twice[k].keys()
        assert all(torch.equal(once[k][n], twice[k][n]) for n in once[k]), k
    assert twice["masks_packed"].keys() == once["masks_packed"].keys()


def test_qat_checkpoint_keeps_fp32_weights_and_its_qat_state(tmp_path):
    p = tmp_path / "q.pt"
    qat = {"started": True, "state": {"version": 1, "fake_quant": {"model.0.aq": {"scale": torch.tensor(0.0123)}}}}
    full = _full(qat=qat)
    ck.save_checkpoint(p, full)
    ck.strip_checkpoint(p)
    d = ck.load_checkpoint(p)
    assert d["model"]["model.0.conv.weight"].dtype == torch.float32
    assert torch.equal(d["model"]["model.0.conv.weight"], full["ema"]["model.0.conv.weight"])
    assert torch.equal(d["qat"]["state"]["fake_quant"]["model.0.aq"]["scale"], torch.tensor(0.0123))


def test_half_leaves_values_fp16_cannot_hold():
    big = torch.tensor([1.0, 1e6])
    assert ck.strip({"model": {"x": big}})["model"]["x"].dtype == torch.float32
