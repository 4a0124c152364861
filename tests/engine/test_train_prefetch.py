"""engine.data.EpochLoaders: an epoch's loader workers started ahead of time (during set-up / validation) yield
exactly the batches a loader started on demand yields, for any start batch; a mismatched request starts afresh."""

from types import SimpleNamespace

import pytest
import torch

from engine.data import EpochLoaders, make_train_loader
from engine.optim import load_hyp


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from yolo.data.synthetic import make_synthetic

    return make_synthetic(tmp_path_factory.mktemp("prefetch") / "d", n_train=6, n_val=1, size_range=(48, 80))


def loaders(data, workers):
    a = SimpleNamespace(imgsz=64, batch=2, seed=5, workers=workers, device="cpu")
    return make_train_loader(str(data), a, load_hyp(None), 0, 1)


def batches(it):
    return [(b[0].clone(), b[1].clone()) for b in it]


def same(x, y):
    return len(x) == len(y) and all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(x, y))


def test_prefetched_epochs_equal_on_demand_ones(data):
    ref, steps, _ = loaders(data, 0)
    lf, steps2, ds = loaders(data, 2)
    assert isinstance(lf, EpochLoaders) and steps == steps2 == 3
    want = {(e, f): batches(ref(e, f)) for e, f in [(0, 0), (1, 0), (1, 2)]}
    assert not same(want[(0, 0)], want[(1, 0)])                # epochs differ (order and augmentation)

    lf.prefetch(1, 0)
    ahead = lf._ahead[1]
    ds.set_epoch(7)                                           # the running workers already hold epoch 1
    it = lf(1, 0)
    assert it is ahead                                        # the running iterator is handed over
    assert same(batches(it), want[(1, 0)])

    lf.prefetch(1, 2)                                         # a resume mid-epoch
    assert same(batches(lf(1, 2)), want[(1, 2)])
    lf.prefetch(1, 0)
    assert same(batches(lf(0, 0)), want[(0, 0)])              # not what was prefetched: started afresh
    assert lf._ahead is None
    assert same(batches(lf(1, 0)), want[(1, 0)])              # and on demand, as before


def test_prefetch_is_a_no_op_without_workers(data):
    lf, _, _ = loaders(data, 0)
    lf.prefetch(0, 0)
    assert lf._ahead is None
