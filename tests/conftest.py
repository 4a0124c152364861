"""Shared fixtures. Tests that use ../shared/ skip cleanly when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RECIPEC_SHARED", REPO.parent / "shared"))
# Golden files are rewritten only on purpose: `RECIPEC_UPDATE_GOLDEN=1 python -m pytest tests/...`, then review the
# diff. Without it a missing golden fails the test (it is never written and then compared with itself).
UPDATE_GOLDEN = os.environ.get("RECIPEC_UPDATE_GOLDEN") == "1"


def check_golden(path: Path, text: str, what: str = "output") -> None:
    """Assert `text` equals the golden file `path` (written first only with RECIPEC_UPDATE_GOLDEN=1)."""
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden {path.name}: run with RECIPEC_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(encoding="utf-8"), f"{what} changed ({path.name}); regenerate only if intended"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is absent")
    return SHARED


@pytest.fixture(scope="session")
def external_dir(shared_dir: Path) -> Path:
    d = shared_dir / "external"
    if not d.is_dir():
        pytest.skip("../shared/external is absent")
    return d


@pytest.fixture(scope="session")
def corpus_dir(shared_dir: Path) -> Path:
    d = shared_dir / "corpus"
    if not d.is_dir():
        pytest.skip("../shared/corpus is absent")
    return d


@pytest.fixture
def one_torch_thread():
    """Small models on shared CPUs: one intra-op thread avoids spin-wait oversubscription (10x+ faster).

    Use with `pytestmark = pytest.mark.usefixtures("one_torch_thread")`."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
