"""engine.data.cache_decoded: decoded training images are kept in RAM only when they fit the budget."""

from engine import data
from engine.optim import build_optimizer, load_hyp


def test_small_sets_are_cached_large_ones_stream(monkeypatch):
    monkeypatch.delenv(data.CACHE_ENV, raising=False)
    assert data.cache_decoded(128, 320)            # coco128 at 320: 39 MB
    assert not data.cache_decoded(118_287, 640)    # COCO train2017 at 640: ~145 GB
    limit = data.CACHE_BUDGET_BYTES // (640 * 640 * 3)
    assert data.cache_decoded(limit, 640) and not data.cache_decoded(limit + 1, 640)


def test_env_overrides_the_budget(monkeypatch):
    monkeypatch.setenv(data.CACHE_ENV, "0")
    assert not data.cache_decoded(1, 32)
    monkeypatch.setenv(data.CACHE_ENV, "1")
    assert data.cache_decoded(10**9, 640)


def test_optimizer_uses_the_fused_foreach_update():
    import torch

    opt = build_optimizer(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)), load_hyp(None))
    assert all(g["foreach"] is True for g in opt.param_groups)
