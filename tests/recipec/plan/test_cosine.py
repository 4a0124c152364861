"""The cosine curves are written once (recipec/plan/cosine.py) and match upstream's float order bit for bit."""

from __future__ import annotations

import math
import re

import numpy as np

from conftest import REPO
from recipec.plan.cosine import half_cosine, warm_restarts
from recipec.plan.lr_functions import cosine_lr
from recipec.plan.lr_scheduler import warm_restarts_lr

SRC = REPO / "recipec"


def test_the_cosine_is_written_once():
    uses = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if re.search(r"\bcos\(", p.read_text("utf-8"))]
    assert uses == ["plan/cosine.py"]


def test_sparseml_half_cosine_bit_for_bit():
    for x in np.linspace(-0.2, 1.3, 61):
        for init, final in ((0.01, 0.002), (0.001, 0.01)):
            r, base, shift = (init - final, final, 0) if final < init else (final - init, init, math.pi)
            want = math.cos(float(x) * math.pi + shift) * r / 2 + r / 2 + base  # SparseML's order
            assert half_cosine(np.array([x]), init, final)[0] == want
    assert cosine_lr(2.5, 0, 10, 0.01, 0.002) == half_cosine(np.array([0.25]), 0.01, 0.002)[0]


def test_torch_warm_restarts_bit_for_bit():
    for ep in np.linspace(0, 7.5, 31):
        t_cur = ep % 3.0 if ep >= 3.0 else ep
        want = 1e-4 + (0.01 - 1e-4) * (1 + math.cos(math.pi * t_cur / 3.0)) / 2  # torch's order
        assert warm_restarts_lr(float(ep), 0.01, 1e-4, 3.0) == want == warm_restarts(np.array([ep]), 0.01, 1e-4, 3.0)[0]
