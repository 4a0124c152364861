"""Mask creators and parameter selection: exact counts, ties, blocks, N:M, global threshold."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from engine.pruning import (MaskType, create_global_masks, create_mask, parse_mask_type, resolve_params)


class Block(nn.Module):
    def __init__(self, c1, c2):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = nn.SiLU()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(Block(3, 8), Block(8, 16), nn.Conv2d(16, 4, 1), nn.Linear(4, 2))


@pytest.mark.parametrize("s", [0.0, 0.1, 0.5, 0.731, 0.9, 1.0])
def test_unstructured_exact_count(s):
    w = torch.randn(16, 8, 3, 3)
    m = create_mask(w, s)
    assert int((~m).sum()) == round(w.numel() * s)


def test_unstructured_ties_exact_and_deterministic():
    w = torch.ones(10, 10)  # all tied
    m1, m2 = create_mask(w, 0.37), create_mask(w, 0.37)
    assert int((~m1).sum()) == 37 and torch.equal(m1, m2)


def test_unstructured_prunes_smallest():
    w = torch.arange(1, 101, dtype=torch.float32).reshape(10, 10)
    m = create_mask(w, 0.25)
    assert not m.flatten()[:25].any() and m.flatten()[25:].all()


def test_more_zeros_than_target_seeded():
    w = torch.zeros(200)
    w[:50] = 1.0
    m1, m2 = create_mask(w, 0.5), create_mask(w, 0.5)
    assert int((~m1).sum()) == 100 and torch.equal(m1, m2) and m1[:50].all()


def test_block_1x4_whole_blocks_pruned():
    w = torch.randn(8, 12, 3, 3)
    m = create_mask(w, 0.5, parse_mask_type([1, 4]))
    blocks = m.reshape(8, 3, 4, 9)  # (O, I/4, 4, kh*kw)
    assert (blocks.all(2) | (~blocks).all(2)).all()  # each block all-kept or all-pruned
    assert int((~blocks.all(2)).sum()) == round(8 * 3 * 9 * 0.5)


def test_block_remainder_scored_by_mean():
    w = torch.ones(1, 6, 1, 1)
    w[0, 4:] = 0.1  # the short block [4:6] has mean 0.1, the full block mean 1
    m = create_mask(w, 0.5, parse_mask_type("block4"))
    assert m.flatten().tolist() == [True] * 4 + [False] * 2


def test_nm_pattern():
    w = torch.randn(4, 8, 3, 3)
    m = create_mask(w, 0.5, parse_mask_type("2:4"))
    g = m.permute(0, 2, 3, 1).reshape(-1, 4)
    assert (g.sum(1) == 2).all()


def test_global_single_threshold():
    a, b = torch.full((10,), 1.0), torch.full((10,), 2.0)
    ma, mb = create_global_masks([a, b], 0.5)
    assert not ma.any() and mb.all()


@pytest.mark.parametrize("bad", ["channel", [1, 2, 3], [1.0, 4], "0:4"])
def test_parse_mask_type_rejects(bad):
    with pytest.raises(ValueError):
        parse_mask_type(bad)


def test_parse_mask_type_kinds():
    assert parse_mask_type("tensorrt") == MaskType("nm", n=2, m=4)
    assert parse_mask_type([1, 4]) == parse_mask_type("block4")


def test_resolve_all_prunable_includes_head_and_linear():
    r = resolve_params(Net(), "__ALL_PRUNABLE__")
    assert r.names == ("model.0.conv.weight", "model.1.conv.weight", "model.2.weight", "model.3.weight")


def test_resolve_regex_is_prefix_anchored_and_reports_unmatched():
    net = Net()
    r = resolve_params(net, ["re:model.1", "re:conv", "model.2.weight", "model.9.weight"])
    assert r.names == ("model.1.conv.weight", "model.1.bn.weight", "model.1.bn.bias", "model.2.weight")
    assert r.unmatched == ("re:conv", "model.9.weight") and r.error_message() is not None


def test_resolve_all_and_modules():
    net = Net()
    assert len(resolve_params(net, "__ALL__").names) == len(list(net.parameters()))
    assert resolve_params(net, ["model.0"], kind="module").names == ("model.0",)
